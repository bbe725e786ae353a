/** Run summaries written behind by the PipelineDOs (see worker/pipeline/summaries.ts). */
import { sql } from "kysely";
import type { Db } from "./client";

export async function listTenantRuns(
  db: Db,
  tenantId: string,
  options: { limit: number; status?: string; before?: { created_at: string; id: string } },
) {
  let query = db
    .selectFrom("runs")
    .select([
      "id",
      "pipeline_slug",
      "status",
      "trigger",
      "version",
      "created_at",
      "started_at",
      "ended_at",
      "logical_date",
    ])
    .where("tenant_id", "=", tenantId)
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .limit(options.limit + 1);
  if (options.status) query = query.where("status", "=", options.status);
  const before = options.before;
  if (before) {
    query = query.where((eb) =>
      eb.or([
        eb("created_at", "<", before.created_at),
        eb.and([eb("created_at", "=", before.created_at), eb("id", "<", before.id)]),
      ]),
    );
  }
  const rows = await query.execute();
  return { rows: rows.slice(0, options.limit), more: rows.length > options.limit };
}

/** The newest run of each of the given pipelines. */
export async function lastRuns(db: Db, pipelineIds: readonly string[]) {
  if (pipelineIds.length === 0) return new Map<string, { id: string; status: string; created_at: string }>();
  const rows = await db
    .selectFrom("runs as r")
    .select(["r.pipeline_id", "r.id", "r.status", "r.created_at"])
    .where("r.pipeline_id", "in", pipelineIds)
    .where((eb) =>
      eb(
        "r.created_at",
        "=",
        eb
          .selectFrom("runs as newer")
          .select((e) => e.fn.max("newer.created_at").as("m"))
          .whereRef("newer.pipeline_id", "=", "r.pipeline_id"),
      ),
    )
    .execute();
  return new Map(rows.map((r) => [r.pipeline_id, { id: r.id, status: r.status, created_at: r.created_at }]));
}

/**
 * Before a pipeline's run summaries are deleted: their creation times are kept while they count
 * towards the daily quota, and older retired ones are dropped.
 */
export function retireRunStarts(db: Db, tenantId: string, pipelineId: string, now: number) {
  const since = new Date(now - RUN_WINDOW_MS).toISOString();
  return [
    db.deleteFrom("retired_run_starts").where("tenant_id", "=", tenantId).where("created_at", "<", since),
    db
      .insertInto("retired_run_starts")
      .columns(["tenant_id", "created_at"])
      .expression((eb) =>
        eb
          .selectFrom("runs")
          .select([eb.val(tenantId).as("tenant_id"), "created_at"])
          .where("pipeline_id", "=", pipelineId)
          .where("created_at", ">=", since),
      ),
  ];
}

/** The runs-per-day quota's window: a rolling 24 hours. */
export const RUN_WINDOW_MS = 24 * 60 * 60 * 1000;

/**
 * What the run quotas count, from the write-behind summaries (so runs started in the last moment may
 * not be counted yet): runs created in the window before `now`, the oldest of them, and runs queued or
 * running.
 */
export async function runUsage(db: Db, tenantId: string, now: number) {
  const since = new Date(now - RUN_WINDOW_MS).toISOString();
  // One round trip (every run start waits for it); each subquery uses its own index. Runs of deleted
  // pipelines count too (retired_run_starts).
  const { rows } = await sql<{ recent: number; oldest: string | null; active: number }>`
    SELECT
      (SELECT COUNT(*) FROM runs WHERE tenant_id = ${tenantId} AND created_at >= ${since})
        + (SELECT COUNT(*) FROM retired_run_starts WHERE tenant_id = ${tenantId} AND created_at >= ${since})
        AS recent,
      (SELECT MIN(m) FROM (
        SELECT MIN(created_at) AS m FROM runs WHERE tenant_id = ${tenantId} AND created_at >= ${since}
        UNION ALL
        SELECT MIN(created_at) FROM retired_run_starts WHERE tenant_id = ${tenantId} AND created_at >= ${since}
      )) AS oldest,
      (SELECT COUNT(*) FROM runs WHERE tenant_id = ${tenantId} AND status IN ('queued', 'running')) AS active
  `.execute(db);
  const row = rows[0];
  return { recent: row?.recent ?? 0, oldest: row?.oldest ?? null, active: row?.active ?? 0 };
}
