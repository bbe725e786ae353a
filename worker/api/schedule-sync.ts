/**
 * Tells a pipeline's PipelineDO about its latest schedule and paused flag (DESIGN.md §2: the object's
 * alarm is the clock). Called after D1 has the change; if the call fails, the Cron Trigger's reconciler
 * notices the object is stale and syncs it within a minute (worker/cron/schedules.ts).
 */
import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { db } from "../db/client";
import { findVersion, type PipelineRow, pipelinesUsingSecret } from "../db/pipelines";
import { type PipelineSpec, storedSpec } from "../engine";
import { publicOrigin } from "../origin";
import { pipelineStub } from "../pipeline/address";
import type { TenantScope } from "./access";
import { hookConfigs } from "./pipeline-triggers";

export type SyncTarget = { id: string; slug: string; paused: boolean };

/**
 * Every save, pause, unpause and backfill tells the pipeline's object: it keeps the clock and what
 * verifying a delivery needs (hook configs with their secrets' ciphertexts).
 */
export async function syncSchedule(
  c: Context<AppEnv>,
  scope: TenantScope,
  pipeline: SyncTarget,
  version: { version: number; spec: PipelineSpec } | null,
): Promise<void> {
  const schedule = version?.spec.schedule ?? null;
  const hooks = version ? await hookConfigs(c.env, scope, pipeline, version.version, version.spec) : [];
  const stub = pipelineStub(c.env, scope.tenant.id, pipeline.id);
  await stub.syncSchedule({
    tenant_id: scope.tenant.id,
    tenant_slug: scope.tenant.slug,
    pipeline_id: pipeline.id,
    pipeline_slug: pipeline.slug,
    origin: publicOrigin(c),
    version: version?.version ?? 0,
    spec: version?.spec ?? null,
    paused: pipeline.paused,
    schedule,
    hooks,
  });
}

/** Pause and unpause: the stored latest version, with the new paused flag (deletion: api/retire.ts). */
export async function syncStoredSchedule(
  c: Context<AppEnv>,
  scope: TenantScope,
  pipeline: PipelineRow,
  paused: boolean,
): Promise<void> {
  const target = { id: pipeline.id, slug: pipeline.slug, paused };
  const row = await findVersion(db(c.env.DB), pipeline.id, pipeline.latest_version);
  const spec = row ? storedSpec(row.spec) : null;
  await syncSchedule(c, scope, target, spec ? { version: pipeline.latest_version, spec } : null);
}

/** Pipelines synced at once after a tenant secret changed; beyond, the cron reconciler catches up. */
const SECRET_RESYNC_LIMIT = 50;

/**
 * A tenant secret was written or deleted: the objects of pipelines whose webhooks verify with it get
 * the new ciphertext (or none). One that fails is logged; its webhooks verify with the old value until
 * its next save, pause or rotation.
 */
export async function resyncSecretUsers(c: Context<AppEnv>, scope: TenantScope, name: string): Promise<void> {
  const users = await pipelinesUsingSecret(db(c.env.DB), scope.tenant.id, name, SECRET_RESYNC_LIMIT);
  await Promise.all(
    users.map((pipeline) =>
      syncStoredSchedule(c, scope, pipeline, pipeline.paused === 1).catch((error: unknown) =>
        console.error("webhook secret not synced to its pipeline", pipeline.slug, error),
      ),
    ),
  );
}
