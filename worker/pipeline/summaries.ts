/**
 * Write-behind of run summaries to D1, for the tenant-wide run list. A transition that changes a run's
 * status bumps the run's row in `summary_outbox` (same transaction); flush() later copies every marked
 * run to D1 in one `DB.batch()` and clears the marks it wrote — unless the run changed again meanwhile,
 * which the bumped counter shows. D1 stays off the task-to-task path: three writes per run, batched.
 * The tenant's run ledger hears from the same marks which runs are active (its quotas count them), and
 * the audit entries of people's actions (audit.ts) go out with the same flush.
 */
import { isActiveStatus, type RunMark } from "../tenant/ledger";
import { AuditOutbox, type AuditRecord } from "./audit";
import { iso, type PipelineIdentity } from "./types";

type Marked = {
  run: string;
  n: number;
  seq: number;
  status: string;
  trigger_kind: string;
  version: number;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
  logical_date: string | null;
};

const BATCH = 50;

export class Summaries {
  private flushing: Promise<void> | null = null;
  private again = false;

  private readonly audits: AuditOutbox;

  constructor(
    private readonly sql: SqlStorage,
    private readonly db: D1Database,
    private readonly identity: () => PipelineIdentity | null,
    /** Tells the tenant's run ledger which runs are active now (worker/tenant): its quotas count them. */
    private readonly ledger: (tenantId: string, marks: RunMark[]) => Promise<void>,
  ) {
    this.audits = new AuditOutbox(sql, db);
  }

  /** Called inside the action's transaction: its audit entry goes out with the next flush. */
  audit(record: AuditRecord, now: number): void {
    this.audits.add(record, now);
  }

  /** Called inside the transition's transactionSync. */
  mark(run: string): void {
    this.sql.exec(
      "INSERT INTO summary_outbox (run, n) VALUES (?, 1) ON CONFLICT (run) DO UPDATE SET n = n + 1",
      run,
    );
  }

  /** Whether anything waits to be written to D1. */
  waiting(): boolean {
    return (
      this.sql
        .exec<{ n: number }>(
          "SELECT EXISTS (SELECT 1 FROM summary_outbox) OR EXISTS (SELECT 1 FROM audit_outbox) AS n",
        )
        .one().n === 1
    );
  }

  /** Coalesces: a flush asked for while one runs happens once more right after it. */
  flush(): Promise<void> {
    if (this.flushing !== null) {
      this.again = true;
      return this.flushing;
    }
    this.flushing = (async () => {
      try {
        do {
          this.again = false;
          await this.flushOnce();
        } while (this.again);
      } finally {
        this.flushing = null;
      }
    })();
    return this.flushing;
  }

  private async flushOnce(): Promise<void> {
    const identity = this.identity();
    if (!identity) return;
    const marked = this.sql
      .exec<Marked>(
        `SELECT o.run, o.n, r.seq, r.status, r.trigger_kind, r.version, r.created_at, r.started_at, r.ended_at,
           r.logical_date
         FROM summary_outbox o JOIN runs r ON r.id = o.run LIMIT 500`,
      )
      .toArray();
    try {
      await this.flushMarked(identity, marked);
    } finally {
      // Audit entries go to D1 also when the ledger could not take the marks.
      await this.audits.flush(identity);
    }
  }

  private async flushMarked(identity: PipelineIdentity, marked: readonly Marked[]): Promise<void> {
    for (let i = 0; i < marked.length; i += BATCH) {
      const chunk = marked.slice(i, i + BATCH);
      await this.db.batch(chunk.map((row) => this.upsert(identity, row)));
      // Both destinations take a row again without harm, so a mark goes once both have it.
      await this.ledger(
        identity.tenant_id,
        chunk.map((row) => ({
          id: row.run,
          pipeline: identity.pipeline_id,
          created_at: row.created_at,
          active: isActiveStatus(row.status),
        })),
      );
      for (const row of chunk)
        this.sql.exec("DELETE FROM summary_outbox WHERE run = ? AND n = ?", row.run, row.n);
    }
  }

  private upsert(identity: PipelineIdentity, row: Marked): D1PreparedStatement {
    return this.db
      .prepare(
        // A deleted pipeline's runs do not come back: a flush after the deletion writes nothing.
        `INSERT INTO runs (id, tenant_id, pipeline_id, pipeline_slug, status, trigger, version, created_at, started_at, ended_at, seq, logical_date)
         SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM pipelines WHERE id = ?)
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, started_at = excluded.started_at, ended_at = excluded.ended_at`,
      )
      .bind(
        row.run,
        identity.tenant_id,
        identity.pipeline_id,
        identity.pipeline_slug,
        row.status,
        row.trigger_kind,
        row.version,
        iso(row.created_at),
        iso(row.started_at),
        iso(row.ended_at),
        row.seq,
        row.logical_date,
        identity.pipeline_id,
      );
  }
}
