/**
 * Run quotas (DESIGN.md §6) for the runs the clock creates by itself. Nobody is there to answer 429
 * to, so a scheduled fire over a quota is skipped for good (the schedule moves on, as a missed cron
 * tick would) and the skip is written to the tenant's audit log, where it can be seen.
 */
import { quotasOf } from "../config";
import { auditEntry } from "../db/audit";
import { batch, db } from "../db/client";
import type { Refusal } from "../tenant/ledger";
import { admitRuns, newRunId } from "./admission";
import type { PipelineIdentity } from "./types";

/**
 * Places for as many of the owed runs as the tenant's quotas allow, oldest first. When the ledger
 * cannot be asked, the schedule keeps running: every owed run gets a place (the runs reach the ledger
 * later through their object's write-behind, and count from then on).
 */
export async function scheduledPlaces(
  env: Env,
  identity: PipelineIdentity,
  owed: number,
): Promise<{ ids: string[]; refused: Refusal | null }> {
  const places = await admitRuns(env, identity, owed, quotasOf(env), "some");
  switch (places.kind) {
    case "admitted":
      return places;
    case "refused":
      return { ids: [], refused: places.refused };
    case "unavailable":
      return { ids: Array.from({ length: owed }, newRunId), refused: null };
  }
}

/** One audit row per skipped logical date, saying which quota skipped it. */
export async function recordSkippedFires(
  env: Env,
  identity: PipelineIdentity,
  logicalDates: readonly string[],
  refused: Refusal | null,
  now: number,
): Promise<void> {
  if (logicalDates.length === 0) return;
  const d = db(env.DB);
  const why = refused ? quotaName(refused) : "a run quota";
  const at = new Date(now);
  const rows = logicalDates.map((date) =>
    auditEntry(
      d,
      {
        tenantId: identity.tenant_id,
        actor: "schedule",
        action: "run.skipped",
        target: `${identity.pipeline_slug} ${date}: over ${why}`,
        ip: null,
      },
      at,
    ),
  );
  await batch(env.DB, rows);
}

/** "the 10 runs in 24 hours quota", "the 50 queued or running runs quota". */
export function quotaName({ quota, limit }: Refusal): string {
  switch (quota) {
    case "runs_per_day":
      return `the ${limit} runs in 24 hours quota`;
    case "concurrent_runs":
      return `the ${limit} queued or running runs quota`;
    case "deliveries_per_minute":
      return `the ${limit} webhook deliveries per minute quota`;
  }
}
