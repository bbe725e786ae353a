import type { Db } from "./client";

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
