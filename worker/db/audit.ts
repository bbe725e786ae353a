import { type Db, previousStatementChanged } from "./client";

export type AuditEvent = {
  tenantId: string;
  actor: string;
  action: string;
  target: string;
  ip: string | null;
};

/** The audit row of a change; callers put it in the same D1 batch as the change itself. */
export function auditEntry(db: Db, event: AuditEvent, now: Date) {
  return db.insertInto("audit_log").values({
    tenant_id: event.tenantId,
    at: now.toISOString(),
    actor: event.actor,
    action: event.action,
    target: event.target,
    ip: event.ip,
  });
}

/** The audit row of the change made by the statement just before it in the batch, if that changed a row. */
export function auditIfChanged(d: Db, event: AuditEvent, now: Date) {
  return d
    .insertInto("audit_log")
    .columns(["tenant_id", "at", "actor", "action", "target", "ip"])
    .expression(
      d
        .selectNoFrom(({ val }) => [
          val(event.tenantId).as("tenant_id"),
          val(now.toISOString()).as("at"),
          val(event.actor).as("actor"),
          val(event.action).as("action"),
          val(event.target).as("target"),
          val(event.ip).as("ip"),
        ])
        .where(previousStatementChanged),
    );
}

export async function listAudit(db: Db, tenantId: string, limit: number, beforeSeq: number | undefined) {
  let query = db
    .selectFrom("audit_log")
    .select(["seq", "at", "actor", "action", "target", "ip"])
    .where("tenant_id", "=", tenantId)
    .orderBy("seq", "desc")
    .limit(limit + 1);
  if (beforeSeq !== undefined) query = query.where("seq", "<", beforeSeq);
  const rows = await query.execute();
  return { rows: rows.slice(0, limit), more: rows.length > limit };
}
