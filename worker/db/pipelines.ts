/** Pipelines and their immutable versions. */
import type { Db } from "./client";

export type PipelineRow = {
  id: string;
  slug: string;
  name: string;
  paused: number;
  latest_version: number;
  schedule: string | null;
  created_at: string;
  updated_at: string;
};

export function findPipeline(db: Db, tenantId: string, slug: string): Promise<PipelineRow | undefined> {
  return db
    .selectFrom("pipelines")
    .select(["id", "slug", "name", "paused", "latest_version", "schedule", "created_at", "updated_at"])
    .where("tenant_id", "=", tenantId)
    .where("slug", "=", slug)
    .executeTakeFirst();
}

/** Bumps the revision of what the pipeline's object holds (see migration 0012); in the change's batch. */
export function bumpRevision(db: Db, pipelineId: string) {
  return db
    .updateTable("pipelines")
    .set((eb) => ({ revision: eb("revision", "+", 1) }))
    .where("id", "=", pipelineId);
}

/** The same, for every pipeline whose webhooks verify with the tenant secret `name`. */
export function bumpSecretUsers(db: Db, tenantId: string, name: string) {
  return db
    .updateTable("pipelines")
    .set((eb) => ({ revision: eb("revision", "+", 1) }))
    .where("tenant_id", "=", tenantId)
    .where("id", "in", (sub) =>
      sub
        .selectFrom("triggers")
        .select("pipeline_id")
        .where("tenant_id", "=", tenantId)
        .where("secret_name", "=", name),
    );
}

/** What a sync of the pipeline's object says, read fresh: its revision, paused flag and latest version. */
export function syncState(db: Db, pipelineId: string) {
  return db
    .selectFrom("pipelines")
    .select(["revision", "paused", "latest_version"])
    .where("id", "=", pipelineId)
    .executeTakeFirst();
}

/** The object took a sync of `revision` (or holds a newer one): it is in step with D1 up to there. */
export function ackRevision(db: Db, pipelineId: string, revision: number) {
  return db
    .updateTable("pipelines")
    .set({ synced_revision: revision })
    .where("id", "=", pipelineId)
    .where("synced_revision", "<", revision);
}

/**
 * Pipelines whose object has not acknowledged their latest revision and whose re-sync is due by `now`
 * (index pipelines_resync_due), longest due first, with what syncing them needs.
 */
export function behindPipelines(db: Db, now: number, limit: number) {
  return db
    .selectFrom("pipelines")
    .innerJoin("tenants", "tenants.id", "pipelines.tenant_id")
    .select([
      "pipelines.id",
      "pipelines.slug",
      "pipelines.tenant_id",
      "tenants.slug as tenant_slug",
      "tenants.data_key",
      "pipelines.revision",
      "pipelines.paused",
      "pipelines.latest_version",
    ])
    .where((eb) => eb("pipelines.revision", ">", eb.ref("pipelines.synced_revision")))
    .where("pipelines.resync_at", "<=", now)
    .orderBy("pipelines.resync_at")
    .limit(limit);
}

/** A re-sync that failed is tried again at `at`. */
export function resyncLater(db: Db, pipelineId: string, at: number) {
  return db.updateTable("pipelines").set({ resync_at: at }).where("id", "=", pipelineId);
}

/** The tenant's pipelines with a webhook trigger that verifies with the tenant secret `name`. */
export function pipelinesUsingSecret(
  db: Db,
  tenantId: string,
  name: string,
  limit: number,
): Promise<PipelineRow[]> {
  return db
    .selectFrom("pipelines")
    .select(["id", "slug", "name", "paused", "latest_version", "schedule", "created_at", "updated_at"])
    .where("tenant_id", "=", tenantId)
    .where("id", "in", (sub) =>
      sub
        .selectFrom("triggers")
        .select("pipeline_id")
        .where("tenant_id", "=", tenantId)
        .where("secret_name", "=", name),
    )
    .limit(limit)
    .execute();
}

/** The pipeline and its latest version's spec in one query: what starting a run needs. */
export function findPipelineWithSpec(db: Db, tenantId: string, slug: string) {
  return db
    .selectFrom("pipelines")
    .innerJoin("pipeline_versions", (join) =>
      join
        .onRef("pipeline_versions.pipeline_id", "=", "pipelines.id")
        .onRef("pipeline_versions.version", "=", "pipelines.latest_version"),
    )
    .select(["pipelines.id", "pipelines.paused", "pipeline_versions.version", "pipeline_versions.spec"])
    .where("pipelines.tenant_id", "=", tenantId)
    .where("pipelines.slug", "=", slug)
    .executeTakeFirst();
}

export function findVersion(db: Db, pipelineId: string, version: number) {
  return db
    .selectFrom("pipeline_versions")
    .select(["version", "spec", "source", "format", "digest", "created_at", "created_by"])
    .where("pipeline_id", "=", pipelineId)
    .where("version", "=", version)
    .executeTakeFirst();
}

export async function countPipelines(db: Db, tenantId: string): Promise<number> {
  const row = await db
    .selectFrom("pipelines")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("tenant_id", "=", tenantId)
    .executeTakeFirstOrThrow();
  return row.n;
}

export async function listPipelines(db: Db, tenantId: string, limit: number, after: string | undefined) {
  let query = db
    .selectFrom("pipelines")
    .select(["id", "slug", "name", "paused", "latest_version", "schedule", "updated_at"])
    .where("tenant_id", "=", tenantId)
    .orderBy("slug")
    .limit(limit + 1);
  if (after !== undefined) query = query.where("slug", ">", after);
  const rows = await query.execute();
  return { rows: rows.slice(0, limit), more: rows.length > limit };
}

export async function listVersions(db: Db, pipelineId: string, limit: number, before: number | undefined) {
  let query = db
    .selectFrom("pipeline_versions")
    .select(["version", "created_at", "created_by"])
    .where("pipeline_id", "=", pipelineId)
    .orderBy("version", "desc")
    .limit(limit + 1);
  if (before !== undefined) query = query.where("version", "<", before);
  const rows = await query.execute();
  return { rows: rows.slice(0, limit), more: rows.length > limit };
}

export function listTriggers(db: Db, pipelineId: string) {
  return db
    .selectFrom("triggers")
    .select(["hook_id", "trigger_id", "secret", "previous_secret", "previous_until", "secret_name"])
    .where("pipeline_id", "=", pipelineId)
    .execute();
}

/**
 * Scheduled, unpaused pipelines the cron reconciler is due to look at by `now` (ms), longest overdue
 * first (index pipelines_reconcile_due), with what poking their object needs. The caller executes it.
 */
export function overdueSchedules(db: Db, now: number, limit: number) {
  return db
    .selectFrom("pipelines")
    .innerJoin("tenants", "tenants.id", "pipelines.tenant_id")
    .select([
      "pipelines.id",
      "pipelines.slug",
      "pipelines.tenant_id",
      "tenants.slug as tenant_slug",
      "pipelines.latest_version",
      "pipelines.schedule",
      "pipelines.updated_at",
      "pipelines.revision",
    ])
    .where("pipelines.schedule", "is not", null)
    .where("pipelines.paused", "=", 0)
    .where("pipelines.reconcile_at", "<=", now)
    .orderBy("pipelines.reconcile_at")
    .limit(limit);
}

/** When the reconciler looks next; not if the pipeline changed since it was read (that made it due). */
export function reconcileLater(db: Db, pipeline: { id: string; updated_at: string }, at: number) {
  return db
    .updateTable("pipelines")
    .set({ reconcile_at: at })
    .where("id", "=", pipeline.id)
    .where("updated_at", "=", pipeline.updated_at);
}
