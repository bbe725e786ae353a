/**
 * The every-minute Cron Trigger: it sweeps what expires (sessions, invitations, sign-in failure
 * windows, the marketplace's rate-limit windows), pokes the clocks of the scheduled pipelines overdue
 * for a look, a page at a time (schedules.ts), then re-syncs the objects that are behind their
 * pipeline's revision with what is left of the invocation's subrequests (resync.ts).
 */
import { expiredFailures } from "../auth/throttle";
import { batch, db } from "../db/client";
import { endedWindows } from "../marketplace/limits";
import { resyncBehind } from "./resync";
import { type ReconcileReport, reconcileCost, reconcileSchedules } from "./schedules";

/** Subrequests one invocation may make (the free plan's cap; D1 queries and object calls count). */
export const INVOCATION_SUBREQUESTS = 50;
/** The sweep's one batch. */
const SWEEP_COST = 1;

/** Everything the Cron Trigger does; one part's failure does not stop the others. */
export async function onCron(env: Env, now: Date): Promise<ReconcileReport> {
  const [sweep, schedules] = await Promise.allSettled([
    sweepExpired(env, now),
    reconcileSchedules(env, now.getTime()),
  ]);
  if (sweep.status === "rejected") console.error("sweep failed", sweep.reason);
  const spent = SWEEP_COST + reconcileCost(schedules.status === "fulfilled" ? schedules.value : null);
  try {
    await resyncBehind(env, now.getTime(), INVOCATION_SUBREQUESTS - spent);
  } catch (error) {
    console.error("re-sync failed", error);
  }
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
    endedWindows(env.DB, now.getTime()),
  ]);
}
