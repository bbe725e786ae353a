/**
 * `max_active_tasks` is pipeline-wide, as Airflow's per-DAG limit is: a run may use the slots the
 * pipeline's other running runs leave free. The planner takes that as StepContext.capacity; after a
 * step that may have freed slots, the oldest runs with work blocked on slots are ticked (driver.ts).
 */
import { activeCount, blockedOnSlots } from "../engine";
import type { Plans } from "./plans";
import type { Store } from "./store";

export class Slots {
  constructor(
    private readonly store: Store,
    private readonly plans: Plans,
  ) {}

  /** Whether the version's spec caps tasks at all; without a cap nothing here costs a query. */
  capped(version: number): boolean {
    return this.plans.plan(version).max_active_tasks !== null;
  }

  /** The capacity to step `runId` with: undefined when its spec sets no max_active_tasks. */
  capacityFor(runId: string, version: number): number | undefined {
    const limit = this.plans.plan(version).max_active_tasks;
    if (limit === null) return undefined;
    let elsewhere = 0;
    for (const id of this.store.running()) {
      const other = id === runId ? null : this.store.run(id);
      if (other) elsewhere += activeCount(other.state);
    }
    return Math.max(0, limit - elsewhere);
  }

  /** Running runs other than `runId`, oldest first, that would dispatch now if a slot were free. */
  blocked(runId: string, now: number): string[] {
    return this.store.running().filter((id) => {
      const other = id === runId ? null : this.store.run(id);
      return other !== null && blockedOnSlots(other.state, now) > 0;
    });
  }
}
