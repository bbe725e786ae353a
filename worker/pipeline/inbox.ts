/**
 * Folds the answers that reach one run in the same turn (a Dispatcher's report of six outcomes, the
 * calls of a fan-out finishing together) into one transition, so a run of 1,000 mapped instances is
 * not re-planned and rewritten once per instance. A delivery waits two microtasks at most: enough for
 * the answers resolved by one report to arrive, not enough to slow a chain down.
 */
import type { Delivery } from "./transition";

type Pending = { items: Delivery[]; done: Array<() => void> };

export class Inbox {
  private pending = new Map<string, Pending>();
  private scheduled = false;

  /** `apply` gets every delivery of a run since the last flush, in arrival order. */
  constructor(private readonly apply: (run: string, items: readonly Delivery[]) => void) {}

  /** Resolves once the delivery is applied (or failed to apply, which `apply` reports itself). */
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

  private flush(): void {
    this.scheduled = false;
    const batches = this.pending;
    this.pending = new Map();
    for (const [run, { items, done }] of batches) {
      try {
        this.apply(run, items);
      } catch (error) {
        console.error("answers not applied", run, items.length, error);
      } finally {
        for (const resolve of done) resolve();
      }
    }
  }
}
