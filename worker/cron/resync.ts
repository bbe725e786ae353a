/**
 * The sync safety net: each minute, re-sync the objects of pipelines whose D1 revision is ahead of the
 * one their object acknowledged (migration 0013): a save, pause, rotation or tenant-secret change whose
 * sync call failed, or a tenant secret with more users than one request syncs
 * (pipeline-sync/secret-users.ts). The object drops a sync older than the last it took, so one that
 * crosses a newer sync is harmless.
 *
 * One invocation may make only so many subrequests, and the schedules' reconciler spends its part
 * first (schedules.ts): this pass takes a page sized to what is left. The queue is fair (migration
 * 0016): pipelines are taken in the order they fell behind, tenants taking turns, so one tenant with
 * many pipelines behind cannot hold up another's; one whose re-sync failed is tried again after
 * RECONCILE_RETRY_MS and keeps its place meanwhile. Any number of pipelines is covered over invocations.
 */

import { batch, db } from "../db/client";
import { behindPipelines, resyncLater } from "../db/pipelines";
import { storedSpec } from "../engine";
import { syncObject } from "../pipeline-sync/sync";
import { RECONCILE_RETRY_MS } from "./schedules";

/**
 * Subrequests one re-sync makes at most (the page's query brings what D1 holds and the latest version's
 * spec): the triggers and the tenant secrets they name (hooks/triggers.ts hookConfigs), the
 * tenant's plugins (marketplace/resolve.ts: two queries, and a third for manifests this isolate has
 * not parsed yet — more only past 40 distinct versions), the object's sync and its acknowledgement.
 * First-party plugins are not published from here (requests do), so that costs nothing.
 */
const RESYNC_COST = 7;
/** This pass's own: the page's query and the failures' bookkeeping batch. */
const PAGE_COST = 2;
/**
 * Pipelines re-synced per invocation at most: what fits in the cap of 50 when the sweep (1) and a
 * reconcile that poked nothing (2) are all the rest spent (reconcile.ts).
 */
export const RESYNC_PAGE = Math.floor((50 - 1 - 2 - PAGE_COST) / RESYNC_COST);

export type ResyncReport = { synced: number; failed: number };

/** Re-syncs a page of objects that are behind, within `budget` subrequests. */
export async function resyncBehind(env: Env, now: number, budget: number): Promise<ResyncReport> {
  const report: ResyncReport = { synced: 0, failed: 0 };
  const limit = Math.min(RESYNC_PAGE, Math.floor((budget - PAGE_COST) / RESYNC_COST));
  if (limit <= 0) return report;
  const d = db(env.DB);
  const rows = await behindPipelines(d, now, limit).execute();
  // Empty: the object keeps the origin the API last gave it (no request here to read one from).
  const origin = env.PUBLIC_URL ? new URL(env.PUBLIC_URL).origin : "";
  const failed: string[] = [];
  // One at a time: a page is small, and an invocation holds few connections open.
  for (const row of rows) {
    try {
      const tenant = { id: row.tenant_id, slug: row.tenant_slug, dataKey: row.data_key };
      const known =
        row.spec === null ? undefined : { version: row.latest_version, spec: storedSpec(row.spec) };
      await syncObject(env, tenant, { id: row.id, slug: row.slug }, origin, {
        state: row,
        known,
        publishFirstParty: false,
      });
      report.synced++;
    } catch (error) {
      report.failed++;
      failed.push(row.id);
      console.error("pipeline re-sync failed", row.id, error);
    }
  }
  await batch(
    env.DB,
    failed.map((id) => resyncLater(d, id, now + RECONCILE_RETRY_MS)),
  );
  return report;
}
