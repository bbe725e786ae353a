/**
 * The schedule safety net (DESIGN.md §2): each minute, poke the PipelineDO of the scheduled, unpaused
 * pipelines that are overdue for a look. The object fires an overdue schedule and re-arms a missing
 * timer (both idempotent), so a lost alarm delays a run by about a minute past its fire and never loses
 * it. An object that has not heard of the latest version (a save whose sync call failed) answers "stale"
 * and gets the version here.
 *
 * One invocation may make only so many subrequests, so it takes one page, longest overdue first, and
 * moves each pipeline's next look (`reconcile_at`, migration 0008) past the page: any number of
 * pipelines is covered over successive invocations, and one that needs nothing costs nothing until its
 * next fire is due.
 */
import { batch, db } from "../db/client";
import { findVersion, overdueSchedules, reconcileLater } from "../db/pipelines";
import { storedSchedule, storedSpec } from "../engine";
import { nextFire } from "../engine/intervals";
import { pipelineStub } from "../pipeline/address";

/**
 * Pipelines per invocation. Each costs up to three subrequests (the object's reconcile; for a stale
 * object its version from D1 and the sync), the invocation three more (this page's query, its
 * bookkeeping batch, the sweep): 12 make at most 39, well under the free plan's 50.
 */
export const RECONCILE_PAGE = 12;
/**
 * Subrequests a reconcile made at most (the page's query, its bookkeeping batch, three per poke): what
 * is left of the invocation's cap goes to the re-sync pass (resync.ts).
 */
export function reconcileCost(report: ReconcileReport | null): number {
  return 2 + 3 * (report ? report.poked : RECONCILE_PAGE);
}
/** Pokes in flight at once: an invocation holds at most six connections open. */
const CONCURRENCY = 6;
/** The object's alarm rings at the fire; the reconciler looks this long after, not in the same second. */
export const RECONCILE_GRACE_MS = 30_000;
/** A poke that failed is tried again this much later, so failing objects do not crowd out the rest. */
export const RECONCILE_RETRY_MS = 5 * 60_000;
/** A schedule that never fires again needs no look until the pipeline changes. */
const NEVER = Number.MAX_SAFE_INTEGER;

type ScheduledPipeline = {
  id: string;
  slug: string;
  tenant_id: string;
  tenant_slug: string;
  latest_version: number;
  /** JSON of the latest version's schedule. */
  schedule: string | null;
  updated_at: string;
  revision: number;
};

export type ReconcileReport = { poked: number; synced: number; failed: number };

export async function reconcileSchedules(env: Env, now: number): Promise<ReconcileReport> {
  const d = db(env.DB);
  const rows: ScheduledPipeline[] = await overdueSchedules(d, now, RECONCILE_PAGE).execute();
  const report: ReconcileReport = { poked: 0, synced: 0, failed: 0 };
  const looks: { row: ScheduledPipeline; at: number }[] = [];
  await inParallel(rows, CONCURRENCY, async (row) => {
    report.poked++;
    try {
      const synced = await poke(env, row);
      if (synced) report.synced++;
      // Only an object that answered "ok" waits for its next fire; a synced one is confirmed next time.
      looks.push({ row, at: synced ? now : nextLook(row.schedule, now) });
    } catch (error) {
      report.failed++;
      console.error("schedule reconcile failed", row.id, error);
      looks.push({ row, at: now + RECONCILE_RETRY_MS });
    }
  });
  await batch(
    env.DB,
    looks.map(({ row, at }) => reconcileLater(d, row, at)),
  );
  return report;
}

/** Just after the schedule's next fire: by then the object's alarm should have fired it. */
function nextLook(schedule: string | null, now: number): number {
  const fire = schedule === null ? null : nextFire(storedSchedule(schedule), now);
  return fire === null ? NEVER : fire + RECONCILE_GRACE_MS;
}

/** True when the object was stale and got the latest version. */
async function poke(env: Env, row: ScheduledPipeline): Promise<boolean> {
  const stub = pipelineStub(env, row.tenant_id, row.id);
  if ((await stub.reconcile(row.latest_version)) === "ok") return false;
  const version = await findVersion(db(env.DB), row.id, row.latest_version);
  if (!version) return false;
  const spec = storedSpec(version.spec);
  await stub.syncSchedule({
    tenant_id: row.tenant_id,
    tenant_slug: row.tenant_slug,
    pipeline_id: row.id,
    pipeline_slug: row.slug,
    // Empty: the object keeps the origin the API last gave it (no request here to read one from).
    origin: env.PUBLIC_URL ? new URL(env.PUBLIC_URL).origin : "",
    revision: row.revision,
    version: row.latest_version,
    spec,
    paused: false,
    schedule: spec.schedule ?? null,
  });
  return true;
}

async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    for (let i = next++; i < items.length; i = next++) await work(items[i] as T);
  });
  await Promise.all(lanes);
}
