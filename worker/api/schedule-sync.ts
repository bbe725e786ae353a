/**
 * Tells a pipeline's PipelineDO what it holds of the pipeline (DESIGN.md §2: the object's alarm is the
 * clock; DESIGN.md §4: the object verifies webhooks without D1): the latest version and its schedule,
 * the paused flag and the webhooks with their secrets' ciphertexts. Called after D1 has the change. A
 * sync says what D1 holds when it is sent, with the pipeline's revision (migration 0012): the object
 * drops one older than the last it took, so syncs that cross on the way arrive in any order. A sync
 * that fails leaves the object behind until the next change is synced; the Cron Trigger's reconciler
 * also re-syncs the clock of a scheduled pipeline (worker/cron/schedules.ts).
 */
import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { db } from "../db/client";
import { bumpSecretUsers, findVersion, pipelinesUsingSecret, syncState } from "../db/pipelines";
import { type PipelineSpec, storedSpec } from "../engine";
import { publicOrigin } from "../origin";
import { pipelineStub } from "../pipeline/address";
import type { TenantScope } from "./access";
import { hookConfigs } from "./pipeline-triggers";

export type SyncTarget = { id: string; slug: string };

/**
 * Every save, pause, unpause, rotation, backfill and change of a tenant secret the webhooks verify
 * with: `known` is the version the caller has at hand (read again when D1 has a newer one since).
 */
export async function syncSchedule(
  c: Context<AppEnv>,
  scope: TenantScope,
  pipeline: SyncTarget,
  known?: { version: number; spec: PipelineSpec },
): Promise<void> {
  const d = db(c.env.DB);
  const state = await syncState(d, pipeline.id);
  // Deleted meanwhile: retiring the object is the deletion's part (api/retire.ts).
  if (!state) return;
  let version = known?.version === state.latest_version ? known : undefined;
  if (!version) {
    const row = await findVersion(d, pipeline.id, state.latest_version);
    version = row ? { version: state.latest_version, spec: storedSpec(row.spec) } : undefined;
  }
  const paused = state.paused === 1;
  const hooks = version
    ? await hookConfigs(c.env, scope, { id: pipeline.id, paused }, version.version, version.spec)
    : [];
  const stub = pipelineStub(c.env, scope.tenant.id, pipeline.id);
  await stub.syncSchedule({
    tenant_id: scope.tenant.id,
    tenant_slug: scope.tenant.slug,
    pipeline_id: pipeline.id,
    pipeline_slug: pipeline.slug,
    origin: publicOrigin(c),
    revision: state.revision,
    version: version?.version ?? 0,
    spec: version?.spec ?? null,
    paused,
    schedule: version?.spec.schedule ?? null,
    hooks,
  });
}

/** The same with the version D1 holds (pause, unpause, rotation, a tenant secret's change). */
export function syncStoredSchedule(
  c: Context<AppEnv>,
  scope: TenantScope,
  pipeline: SyncTarget,
): Promise<void> {
  return syncSchedule(c, scope, pipeline);
}

/** The revision bump for the pipelines whose webhooks verify with the tenant secret `name`. */
export { bumpSecretUsers };

/** Pipelines synced at once after a tenant secret changed; beyond, their next change syncs them. */
const SECRET_RESYNC_LIMIT = 50;

/**
 * A tenant secret was written or deleted (and the using pipelines' revisions bumped in that batch):
 * the objects of pipelines whose webhooks verify with it get the new ciphertext (or none). One that
 * fails is logged; its webhooks verify with the old value until its next save, pause or rotation.
 */
export async function resyncSecretUsers(c: Context<AppEnv>, scope: TenantScope, name: string): Promise<void> {
  const users = await pipelinesUsingSecret(db(c.env.DB), scope.tenant.id, name, SECRET_RESYNC_LIMIT);
  await Promise.all(
    users.map((pipeline) =>
      syncStoredSchedule(c, scope, pipeline).catch((error: unknown) =>
        console.error("webhook secret not synced to its pipeline", pipeline.slug, error),
      ),
    ),
  );
}
