/**
 * Folds the answers that reach one run in the same turn (a Dispatcher's report of six outcomes, the
 * calls of a fan-out finishing together) into one transition, so a run of 1,000 mapped instances is
 * not re-planned and rewritten once per instance. A delivery waits two microtasks at most: enough for
 * the answers resolved by one report to arrive, not enough to slow a chain down.
 *
 * An answer is never dropped. When its transition throws (storage trouble, an output that cannot be
 * stored), the answers are tried one by one; one that still fails becomes a `platform_error` of its
 * task (without the output or logs it carried): a plugin's answer as a retryable failure (a failure
 * keeps its own retry kind), so the planner retries the call under the same idempotency key or fails
 * the task; a `when`/`for_each` answer fails its task (a person can retry it). When even that cannot
 * be written, the answer comes back later, with a growing delay, MAX_TRIES times at most: after that
 * it is dropped with an error, and the task's timeout (or Driver.recover after a restart) settles it.
 * Each answer's trouble is logged once, and its end.
 */
import { type RunEvent, taskError } from "../engine";
import { messageOf } from "./dispatch";
import type { Delivery } from "./transition";

type Pending = { items: Delivery[]; done: Array<() => void> };

/** Delays between tries of an answer nothing could record; the last one repeats. */
export const INBOX_RETRY_MS = [1_000, 2_000, 5_000, 15_000, 60_000] as const;
/** Tries of such an answer after the first (about six minutes with INBOX_RETRY_MS). */
export const MAX_TRIES = 8;

export class Inbox {
  private pending = new Map<string, Pending>();
  private scheduled = false;
  private waiting = 0;

  /**
   * `apply` gets every delivery of a run since the last flush, in arrival order, and throws when it
   * could not apply them. A transition is one transaction, but work after its commit (starting queued
   * runs) may throw too: an answer tried again then is refused by the engine as stale (its dispatch is
   * settled), so nothing is applied twice.
   */
  constructor(
    private readonly apply: (run: string, items: readonly Delivery[]) => void,
    private readonly retryMs: readonly number[] = INBOX_RETRY_MS,
  ) {}

  /** Resolves once the delivery is applied, turned into its task's failure, or set to come back. */
  deliver(run: string, delivery: Delivery): Promise<void> {
    return new Promise((resolve) => {
      const entry = this.pending.get(run) ?? { items: [], done: [] };
      entry.items.push(delivery);
      entry.done.push(resolve);
      this.pending.set(run, entry);
      if (this.scheduled) return;
      this.scheduled = true;
      queueMicrotask(() => queueMicrotask(() => this.flush()));
    });
  }

  /** Answers waiting to be tried again: the object must come back while there are any. */
  get retrying(): number {
    return this.waiting;
  }

  private flush(): void {
    this.scheduled = false;
    const batches = this.pending;
    this.pending = new Map();
    for (const [run, { items, done }] of batches) {
      try {
        this.apply(run, items);
      } catch (error) {
        for (const item of items) this.salvage(run, item, items.length > 1, error);
      } finally {
        for (const resolve of done) resolve();
      }
    }
  }

  /** One answer of a batch that could not be applied: alone, else as its task's failure, else later. */
  private salvage(run: string, item: Delivery, alone: boolean, batchError: unknown, tries = 0): void {
    let error = batchError;
    if (alone) {
      const applied = this.attempt(run, item);
      if (applied === true) return;
      error = applied;
    }
    const failure = asFailure(item, error);
    const recorded = failure ? this.attempt(run, failure) : error;
    if (recorded === true) {
      if (tries === 0)
        console.error(
          "answer not recorded; its task fails with a platform_error",
          run,
          describe(item),
          messageOf(error),
        );
      return;
    }
    if (tries === 0)
      console.error("answer not recorded; it is tried again later", run, describe(item), messageOf(recorded));
    this.later(run, item, tries + 1);
  }

  private later(run: string, item: Delivery, tries: number): void {
    if (tries > MAX_TRIES) {
      console.error(
        "answer dropped after",
        tries,
        "tries; its task's timeout settles it",
        run,
        describe(item),
      );
      return;
    }
    const delay = this.retryMs[Math.min(tries, this.retryMs.length) - 1] ?? 1_000;
    this.waiting++;
    setTimeout(() => {
      const applied = this.attempt(run, item);
      this.waiting--;
      if (applied === true) console.warn("answer recorded after", tries + 1, "tries", run, describe(item));
      else this.salvage(run, item, false, applied, tries);
    }, delay);
  }

  /** true, or what it threw. */
  private attempt(run: string, item: Delivery): true | unknown {
    try {
      this.apply(run, [item]);
      return true;
    } catch (error) {
      return error;
    }
  }
}

/**
 * The answer as a failure of the task it answers, keeping only what must go with any answer (the due
 * timer consumed, the callback token dropped): the output and logs may be what could not be written.
 */
function asFailure({ event, attach }: Delivery, error: unknown): Delivery | null {
  const why = `Updraft could not record this answer: ${messageOf(error)}`;
  const kept = {
    ...(attach.answered ? { answered: attach.answered } : {}),
    ...(attach.timer ? { timer: attach.timer } : {}),
  };
  let failed: RunEvent;
  switch (event.type) {
    case "task_result": {
      // A plugin's failure keeps its retry kind; a success is retried under the same idempotency key.
      const retryable = event.outcome.status === "failure" ? event.outcome.retryable : true;
      failed = {
        ...event,
        outcome: { status: "failure", error: taskError("platform_error", why), retryable },
      };
      break;
    }
    case "when_evaluated":
    case "for_each_expanded":
    case "evaluation_failed": {
      const kind =
        event.type === "when_evaluated"
          ? "when"
          : event.type === "for_each_expanded"
            ? "for_each"
            : event.kind;
      const mapIndex =
        "map_index" in event && event.map_index !== undefined ? { map_index: event.map_index } : {};
      failed = {
        type: "evaluation_failed",
        task: event.task,
        kind,
        ...mapIndex,
        error: why,
        error_kind: "platform_error",
      };
      break;
    }
    default:
      return null;
  }
  return { event: failed, attach: kept };
}

function describe({ event }: Delivery): string {
  return "task" in event
    ? `${event.type} ${event.task}`
    : "key" in event
      ? `${event.type} ${event.key}`
      : event.type;
}
