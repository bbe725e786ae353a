/**
 * Tells a pipeline's PipelineDO what it holds of the pipeline (DESIGN.md §2: the object's alarm is the
 * clock; DESIGN.md §4: the object verifies webhooks without D1): the latest version and its schedule,
 * the paused flag and the webhooks with their secrets' ciphertexts. Called after D1 has the change. A
 * sync says what D1 holds when it is sent, with the pipeline's revision (migration 0012): the object
 * drops one older than the last it took, so syncs that cross on the way arrive in any order.
 *
 * A sync the object answered is acknowledged in D1 (`synced_revision`, migration 0013). One that fails
 * leaves the pipeline's revision ahead of it, and the Cron Trigger re-syncs it (worker/cron/resync.ts),
 * whichever code path changed the pipeline: a failed sync is repaired within minutes, not at the
 * pipeline's next change. The API's routes sync through request.ts and secret-users.ts; the cron calls
 * syncObject here directly.
 */

import { db } from "../db/client";
import { ackRevision, findVersion, syncState } from "../db/pipelines";
import { type PipelineSpec, storedSpec } from "../engine";
import { hookConfigs } from "../hooks/triggers";
import { bindingsFor, tenantPlugins } from "../marketplace/resolve";
import { pipelineStub } from "../pipeline/address";

export type SyncTarget = { id: string; slug: string };
export type SyncTenant = { id: string; slug: string; dataKey: string };
/** What D1 holds of the pipeline when the sync is read (db/pipelines.ts syncState). */
export type SyncState = { revision: number; paused: number; latest_version: number };

/**
 * Reads what D1 holds (unless `state` was just read with it), tells the object and records that it
 * acknowledged that revision. `origin` "" keeps the one the object was last told (the cron has no
 * request to read one from). Returns the revision sent, or null when the pipeline is gone.
 */
export async function syncObject(
  env: Env,
  tenant: SyncTenant,
  pipeline: SyncTarget,
  origin: string,
  options: {
    state?: SyncState;
    known?: { version: number; spec: PipelineSpec };
    /** False from the cron: its subrequests are budgeted, and requests publish first-party plugins. */
    publishFirstParty?: boolean;
  } = {},
): Promise<number | null> {
  const d = db(env.DB);
  const state = options.state ?? (await syncState(d, pipeline.id));
  // Deleted meanwhile: retiring the object is the deletion's part (api/retire.ts).
  if (!state) return null;
  const { known } = options;
  let version = known?.version === state.latest_version ? known : undefined;
  if (!version) {
    const row = await findVersion(d, pipeline.id, state.latest_version);
    version = row ? { version: state.latest_version, spec: storedSpec(row.spec) } : undefined;
  }
  const paused = state.paused === 1;
  const hooks = version
    ? await hookConfigs(env, tenant, { id: pipeline.id, paused }, version.version, version.spec)
    : [];
  // What its runs call: the names the latest version uses, resolved against the tenant's plugins.
  const resolved = version
    ? await tenantPlugins(env, tenant.id, { publishFirstParty: options.publishFirstParty ?? true })
    : undefined;
  const plugins = version && resolved ? bindingsFor(version.spec, resolved) : [];
  const stub = pipelineStub(env, tenant.id, pipeline.id);
  await stub.syncSchedule({
    tenant_id: tenant.id,
    tenant_slug: tenant.slug,
    pipeline_id: pipeline.id,
    pipeline_slug: pipeline.slug,
    origin,
    revision: state.revision,
    version: version?.version ?? 0,
    spec: version?.spec ?? null,
    paused,
    schedule: version?.spec.schedule ?? null,
    hooks,
    plugins,
    data_key: tenant.dataKey,
  });
  // The object took it, or holds a newer revision already (it drops a late one): in step up to here.
  // Only bookkeeping: if it fails, the cron re-syncs an object that needed nothing.
  await ackRevision(d, pipeline.id, state.revision)
    .execute()
    .catch((error: unknown) => console.error("sync not acknowledged in D1", pipeline.id, error));
  return state.revision;
}
