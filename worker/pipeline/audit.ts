/**
 * The audit entries of a person's actions on this pipeline's runs (start, cancel, retry, mark,
 * backfill). An entry is written in the same transaction as the action itself, into `audit_outbox`,
 * and reaches D1's `audit_log` behind it (flushed with the run summaries): an action and its audit
 * entry cannot part, and a D1 outage delays the entry instead of failing an action that happened.
 */
import type { PipelineIdentity } from "./types";

/** Who did what; the tenant comes from the object's identity when the entry is flushed. */
export type AuditRecord = { actor: string; action: string; target: string; ip: string | null };

type Row = AuditRecord & { seq: number; at: string };

const BATCH = 50;

export class AuditOutbox {
  constructor(
    private readonly sql: SqlStorage,
    private readonly db: D1Database,
  ) {}

  /** Call inside the action's transaction. */
  add(record: AuditRecord, now: number): void {
    this.sql.exec(
      "INSERT INTO audit_outbox (at, actor, action, target, ip) VALUES (?, ?, ?, ?, ?)",
      new Date(now).toISOString(),
      record.actor,
      record.action,
      record.target,
      record.ip,
    );
  }

  /** Moves the waiting entries to D1 in batches; each batch leaves the outbox once D1 has it. */
  async flush(identity: PipelineIdentity): Promise<void> {
    for (;;) {
      const rows = this.sql
        .exec<Row>("SELECT seq, at, actor, action, target, ip FROM audit_outbox ORDER BY seq LIMIT ?", BATCH)
        .toArray();
      if (rows.length === 0) return;
      await this.db.batch(rows.map((row) => this.insert(identity, row)));
      const last = rows.at(-1)?.seq ?? 0;
      this.sql.exec("DELETE FROM audit_outbox WHERE seq <= ?", last);
      if (rows.length < BATCH) return;
    }
  }

  private insert(identity: PipelineIdentity, row: Row): D1PreparedStatement {
    return this.db
      .prepare(
        // A deleted tenant's log is gone with it: its late entries are dropped, not retried forever.
        `INSERT INTO audit_log (tenant_id, at, actor, action, target, ip)
         SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM tenants WHERE id = ?)`,
      )
      .bind(identity.tenant_id, row.at, row.actor, row.action, row.target, row.ip, identity.tenant_id);
  }
}
