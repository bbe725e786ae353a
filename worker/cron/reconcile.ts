/**
 * The every-minute Cron Trigger. For now it sweeps what expires: sessions, invitations and sign-in
 * failure windows. The pipeline timer reconciler joins it with the engine.
 */
import { expiredFailures } from "../auth/throttle";
import { batch, db } from "../db/client";

export async function sweepExpired(env: Env, now: Date): Promise<void> {
  const d = db(env.DB);
  const at = now.toISOString();
  await batch(env.DB, [
    d.deleteFrom("sessions").where("expires_at", "<=", at),
    d.deleteFrom("invitations").where("accepted_at", "is", null).where("expires_at", "<=", at),
    expiredFailures(d, now),
  ]);
}
