/**
 * The every-minute Cron Trigger: it sweeps what expires (sessions, invitations, sign-in failure
 * windows) and pokes the clocks of the scheduled pipelines overdue for a look, a page at a time
 * (schedules.ts).
 */
import { expiredFailures } from "../auth/throttle";
import { batch, db } from "../db/client";
import { type ReconcileReport, reconcileSchedules } from "./schedules";

/** Everything the Cron Trigger does; the sweep's failure does not stop the schedules, nor the reverse. */
export async function onCron(env: Env, now: Date): Promise<ReconcileReport> {
  const [sweep, schedules] = await Promise.allSettled([
    sweepExpired(env, now),
    reconcileSchedules(env, now.getTime()),
  ]);
  if (sweep.status === "rejected") console.error("sweep failed", sweep.reason);
  if (schedules.status === "rejected") throw schedules.reason;
  return schedules.value;
}

export async function sweepExpired(env: Env, now: Date): Promise<void> {
  const d = db(env.DB);
  const at = now.toISOString();
  await batch(env.DB, [
    d.deleteFrom("sessions").where("expires_at", "<=", at),
    d.deleteFrom("invitations").where("accepted_at", "is", null).where("expires_at", "<=", at),
    expiredFailures(d, now),
  ]);
}
