/** Run summaries written behind by the PipelineDOs (see worker/pipeline/summaries.ts). */
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
