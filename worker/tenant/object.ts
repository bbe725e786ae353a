/**
 * TenantDO: one per tenant, named by the tenant's id, the single point of truth for its run quotas
 * (ledger.ts). A thin class: RPC methods delegate to the ledger; the alarm repairs what the ledger
 * cannot hear (a place admitted for a run that was never created, a finish whose sync was lost).
 */
import { DurableObject } from "cloudflare:workers";
import {
  type Admission,
  type Admitted,
  isActiveStatus,
  RunLedger,
  type RunMark,
  type RunUsage,
} from "./ledger";

/** An active row older than this is checked against the run summaries in D1. */
export const REPAIR_AFTER_MS = 15 * 60 * 1000;
/** Rows checked per alarm (one D1 query). */
const REPAIR_BATCH = 100;

export class TenantDO extends DurableObject<Env> {
  private ledger: RunLedger;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.ledger = new RunLedger(ctx.storage.sql);
  }

  async admit(request: Admission): Promise<Admitted> {
    const result = this.ledger.admit(request, Date.now());
    if (result.admitted.length > 0) await this.armRepair();
    return result;
  }

  sync(marks: RunMark[]): void {
    this.ledger.sync(marks);
  }

  release(ids: string[]): void {
    this.ledger.release(ids);
  }

  /** The tenant was deleted: nothing of it stays. */
  async forget(): Promise<void> {
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    // A late sync from a pipeline's write-behind finds empty tables, and writes nothing back.
    this.ledger = new RunLedger(this.ctx.storage.sql);
    this.ledger.markForgotten();
  }

  usage(): RunUsage {
    return this.ledger.usage(Date.now());
  }

  /**
   * Active rows older than REPAIR_AFTER_MS whose run D1 does not know, or knows as finished, are not
   * active any more. (D1's summaries are written behind, minutes at most behind the objects.)
   */
  override async alarm(): Promise<void> {
    const now = Date.now();
    const ids = this.ledger.activeBefore(now - REPAIR_AFTER_MS, REPAIR_BATCH);
    if (ids.length > 0) {
      const { results } = await this.env.DB.prepare(
        `SELECT id, status FROM runs WHERE id IN (${ids.map(() => "?").join(", ")})`,
      )
        .bind(...ids)
        .all<{ id: string; status: string }>();
      const active = new Set(results.filter((r) => isActiveStatus(r.status)).map((r) => r.id));
      const stale = ids.filter((id) => !active.has(id));
      if (stale.length > 0) console.warn("run ledger: runs no longer active", stale.length);
      this.ledger.deactivate(stale);
    }
    if (this.ledger.usage(now).active > 0) await this.ctx.storage.setAlarm(now + REPAIR_AFTER_MS);
  }

  private async armRepair(): Promise<void> {
    if ((await this.ctx.storage.getAlarm()) === null)
      await this.ctx.storage.setAlarm(Date.now() + REPAIR_AFTER_MS);
  }
}
