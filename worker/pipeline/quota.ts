/**
 * The daily runs quota (DESIGN.md §6) for the runs the clock creates by itself. Nobody is there to
 * answer 429 to, so a scheduled fire over the quota is skipped for good (the schedule moves on, as a
 * missed cron tick would) and the skip is written to the tenant's audit log, where it can be seen.
 * Counted from the same D1 summaries as the API's quota; D1 is read only when a fire is due.
 */
import { quotasOf } from "../config";
import { auditEntry } from "../db/audit";
import { batch, db } from "../db/client";
import { runUsage } from "../db/runs";
import type { PipelineIdentity } from "./types";

/** How many more runs the tenant may create now; unlimited when D1 cannot say (a schedule keeps running). */
export async function scheduledRunAllowance(env: Env, tenantId: string, now: number): Promise<number> {
  try {
    const usage = await runUsage(db(env.DB), tenantId, now);
    return Math.max(0, quotasOf(env).runs_per_day - usage.recent);
  } catch (error) {
    console.error("run quota unknown; the scheduled fire goes ahead", tenantId, error);
    return Number.POSITIVE_INFINITY;
  }
}

/** One audit row per skipped logical date. */
export async function recordSkippedFires(
  env: Env,
  identity: PipelineIdentity,
  logicalDates: readonly string[],
  now: number,
): Promise<void> {
  if (logicalDates.length === 0) return;
  const d = db(env.DB);
  const { runs_per_day } = quotasOf(env);
  const at = new Date(now);
  const rows = logicalDates.map((date) =>
    auditEntry(
      d,
      {
        tenantId: identity.tenant_id,
        actor: "schedule",
        action: "run.skipped",
        target: `${identity.pipeline_slug} ${date}: over the ${runs_per_day} runs in 24 hours quota`,
        ip: null,
      },
      at,
    ),
  );
  await batch(env.DB, rows);
}
