/**
 * Hands batches of ready plugin calls to Dispatcher invocations (worker/dispatcher) and routes the
 * reported outcomes back to the dispatches waiting for them. A batch is handed off once each of its
 * jobs has either built its call or finished without one (a render failure, a missing secret).
 */
import { type DispatchReport, MAX_BATCH, type PreparedCall } from "../dispatcher/batch";
import { type Outcome, retryableError } from "../runner/outcome";

type Waiting = (outcome: Outcome) => void;

/**
 * How long past a call's own deadline its outcome may take to be reported. A report that never comes
 * (the Dispatcher's call back to this object failed) must not hold the dispatch, and with it the
 * object's pump, forever: the call then ends as a retryable error, and the task's retry sends it again
 * once, with the same idempotency key.
 */
export const REPORT_GRACE_MS = 5_000;

export class RemoteBatch {
  private readonly calls: PreparedCall[] = [];
  private readonly built = new Set<string>();
  private settled = 0;
  private env: Env | null = null;

  constructor(
    private readonly size: number,
    private readonly waiting: Map<string, Waiting>,
    /** Called once the hand-off is done (or there was nothing to hand off). */
    private readonly released: () => void,
  ) {
    if (size > MAX_BATCH) throw new RangeError(`a batch holds at most ${MAX_BATCH} calls`);
  }

  /** A job's built call; resolves with the outcome a Dispatcher reports for it, or by its deadline. */
  call(env: Env, call: PreparedCall, now = Date.now()): Promise<Outcome> {
    this.env = env;
    const wait = Math.max(0, Date.parse(call.invocation.deadline) - now) + REPORT_GRACE_MS;
    const outcome = new Promise<Outcome>((resolve) => {
      const timer = setTimeout(() => {
        const late = retryableError("timeout", `no outcome was reported within ${wait} ms`);
        deliver(this.waiting, call.token, late);
      }, wait);
      this.waiting.set(call.token, (reported) => {
        clearTimeout(timer);
        resolve(reported);
      });
    });
    this.calls.push(call);
    this.built.add(call.token);
    this.settle();
    return outcome;
  }

  /** A job of this batch finished; counts only when it never built a call (nothing to hand off). */
  finished(token: string): void {
    if (!this.built.has(token)) this.settle();
  }

  private settle(): void {
    if (++this.settled < this.size) return;
    if (this.calls.length === 0 || !this.env) {
      this.released();
      return;
    }
    // Awaited through the waiting jobs: each resolves when its outcome (or this failure) arrives.
    void this.handOff(this.env).finally(this.released);
  }

  private async handOff(env: Env): Promise<void> {
    try {
      await env.DISPATCHER.perform(this.calls);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const lost = `the dispatcher could not be reached: ${message}`;
      for (const { token } of this.calls) deliver(this.waiting, token, retryableError("unreachable", lost));
    }
  }
}

/** Resolves the dispatches a report answers; returns the results nobody here waits for (any more). */
export function deliverReport(
  waiting: Map<string, Waiting>,
  report: DispatchReport,
): { delivered: number; unclaimed: DispatchReport["results"] } {
  const unclaimed = report.results.filter(({ token, outcome }) => !deliver(waiting, token, outcome));
  return { delivered: report.results.length - unclaimed.length, unclaimed };
}

function deliver(waiting: Map<string, Waiting>, token: string, outcome: Outcome): boolean {
  const resolve = waiting.get(token);
  if (!resolve) return false;
  waiting.delete(token);
  resolve(outcome);
  return true;
}
