/** Pipelines and their immutable versions. */
import type { ExpressionBuilder } from "kysely";
import type { Db } from "./client";
import type { Database } from "./schema";

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

/**
 * What a write that changes what the pipeline's object holds sets (migrations 0012, 0016): the revision,
 * one more; and since when the object is behind it, `now` unless it was behind already (it keeps its
 * place in the re-syncs' queue). Spread into the write's `set`.
 */
export function revisionBump(eb: ExpressionBuilder<Database, "pipelines">, now: number) {
  return {
    revision: eb("revision", "+", 1),
    behind_since: eb
      .case()
      .when("revision", "<=", eb.ref("synced_revision"))
      .then(now)
      .else(eb.fn.coalesce("behind_since", eb.val(now)))
      .end(),
  };
}

/** Bumps the revision of what the pipeline's object holds (see migration 0012); in the change's batch. */
export function bumpRevision(db: Db, pipelineId: string, now = Date.now()) {
  return db
    .updateTable("pipelines")
    .set((eb) => revisionBump(eb, now))
    .where("id", "=", pipelineId);
}

/** The same, for every pipeline whose webhooks verify with the tenant secret `name`. */
export function bumpSecretUsers(db: Db, tenantId: string, name: string, now = Date.now()) {
  return db
    .updateTable("pipelines")
    .set((eb) => revisionBump(eb, now))
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

/**
 * The object took a sync of `revision` (or holds a newer one): it is in step with D1 up to there. In
 * step with the latest, it leaves the re-syncs' queue, and a re-sync that failed before is forgotten.
 */
export function ackRevision(db: Db, pipelineId: string, revision: number) {
  return db
    .updateTable("pipelines")
    .set((eb) => {
      const caughtUp = eb("revision", "<=", revision);
      return {
        synced_revision: revision,
        behind_since: eb.case().when(caughtUp).then(null).else(eb.ref("behind_since")).end(),
        resync_at: eb.case().when(caughtUp).then(0).else(eb.ref("resync_at")).end(),
      };
    })
    .where("id", "=", pipelineId)
    .where("synced_revision", "<", revision);
}

/**
 * Pipelines whose object has not acknowledged their latest revision and whose re-sync is due by `now`,
 * with what syncing them needs (the latest version's spec too). Tenants take turns: each tenant's
 * pipelines are numbered longest behind first, and the page takes every tenant's first before anyone's
 * second, longest behind first within a turn, so one tenant with many pipelines behind delays another's
 * by at most one each. Reads only the pipelines that are behind (index pipelines_resync_due).
 */
export function behindPipelines(db: Db, now: number, limit: number) {
  const due = db
    .selectFrom("pipelines")
    .select((eb) => [
      "id",
      "slug",
      "tenant_id",
      "revision",
      "paused",
      "latest_version",
      "behind_since",
      eb.fn
        .agg<number>("row_number")
        .over((ob) => ob.partitionBy("tenant_id").orderBy("behind_since").orderBy("id"))
        .as("turn"),
    ])
    .where((eb) => eb("revision", ">", eb.ref("synced_revision")))
    .where("resync_at", "<=", now);
  return db
    .selectFrom(due.as("due"))
    .innerJoin("tenants", "tenants.id", "due.tenant_id")
    .leftJoin("pipeline_versions", (join) =>
      join
        .onRef("pipeline_versions.pipeline_id", "=", "due.id")
        .onRef("pipeline_versions.version", "=", "due.latest_version"),
    )
    .select([
      "due.id",
      "due.slug",
      "due.tenant_id",
      "tenants.slug as tenant_slug",
      "tenants.data_key",
      "due.revision",
      "due.paused",
      "due.latest_version",
      "pipeline_versions.spec",
    ])
    .orderBy("due.turn")
    .orderBy("due.behind_since")
    .orderBy("due.id")
    .limit(limit);
}

/** A re-sync that failed is tried again at `at`; the pipeline keeps its place in the queue. */
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
