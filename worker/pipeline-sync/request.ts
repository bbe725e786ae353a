/**
 * Syncs made while answering a request (sync.ts): the origin the object builds its URLs on is the
 * request's. Every save, pause, unpause, rotation, backfill and installation change goes through here.
 */
import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import type { PipelineSpec } from "../engine";
import { publicOrigin } from "../origin";
import { type SyncTarget, type SyncTenant, syncObject } from "./sync";

/** Whose pipeline it is (the API's TenantScope is one). */
export type SyncScope = { tenant: SyncTenant };

/**
 * Every save, pause, unpause, rotation, backfill and change of a tenant secret the webhooks verify
 * with: `known` is the version the caller has at hand (read again when D1 has a newer one since).
 */
export async function syncSchedule(
  c: Context<AppEnv>,
  scope: SyncScope,
  pipeline: SyncTarget,
  known?: { version: number; spec: PipelineSpec },
): Promise<void> {
  await syncObject(c.env, scope.tenant, pipeline, publicOrigin(c), { known });
}

/** The same with the version D1 holds (pause, unpause, rotation, a tenant secret's change). */
export function syncStoredSchedule(
  c: Context<AppEnv>,
  scope: SyncScope,
  pipeline: SyncTarget,
): Promise<void> {
  return syncSchedule(c, scope, pipeline);
}
