/**
 * The schedule safety net (DESIGN.md §2): every minute, poke the PipelineDO of each scheduled, unpaused
 * pipeline. The object fires an overdue schedule and re-arms a missing timer (both idempotent), so a
 * lost alarm delays a run by at most a minute and never loses it. An object that has not heard of the
 * latest version (a save whose sync call failed) answers "stale" and gets the version here.
 */
import { db } from "../db/client";
import { findVersion } from "../db/pipelines";
import type { PipelineSpec } from "../engine";
import { pipelineStub } from "../pipeline/address";

/** D1 rows per page; pokes in flight at once (each one is a DO request, not a D1 query). */
const PAGE = 200;
const CONCURRENCY = 16;

type ScheduledPipeline = {
  id: string;
  slug: string;
  tenant_id: string;
  tenant_slug: string;
  latest_version: number;
};

export type ReconcileReport = { poked: number; synced: number; failed: number };

export async function reconcileSchedules(env: Env): Promise<ReconcileReport> {
  const report: ReconcileReport = { poked: 0, synced: 0, failed: 0 };
  let after = "";
  for (;;) {
    const rows: ScheduledPipeline[] = await db(env.DB)
      .selectFrom("pipelines")
      .innerJoin("tenants", "tenants.id", "pipelines.tenant_id")
      .select([
        "pipelines.id",
        "pipelines.slug",
        "pipelines.tenant_id",
        "tenants.slug as tenant_slug",
        "pipelines.latest_version",
      ])
      .where("pipelines.schedule", "is not", null)
      .where("pipelines.paused", "=", 0)
      .where("pipelines.id", ">", after)
      .orderBy("pipelines.id")
      .limit(PAGE)
      .execute();
    await inParallel(rows, CONCURRENCY, async (row) => {
      try {
        report.poked++;
        if (await poke(env, row)) report.synced++;
      } catch (error) {
        report.failed++;
        console.error("schedule reconcile failed", row.id, error);
      }
    });
    const last = rows.at(-1);
    if (!last || rows.length < PAGE) return report;
    after = last.id;
  }
}

/** True when the object was stale and got the latest version. */
async function poke(env: Env, row: ScheduledPipeline): Promise<boolean> {
  const stub = pipelineStub(env, row.tenant_id, row.id);
  if ((await stub.reconcile(row.latest_version)) === "ok") return false;
  const version = await findVersion(db(env.DB), row.id, row.latest_version);
  if (!version) return false;
  const spec = JSON.parse(version.spec) as PipelineSpec;
  await stub.syncSchedule({
    tenant_id: row.tenant_id,
    tenant_slug: row.tenant_slug,
    pipeline_id: row.id,
    pipeline_slug: row.slug,
    // Empty: the object keeps the origin the API last gave it (no request here to read one from).
    origin: env.PUBLIC_URL ? new URL(env.PUBLIC_URL).origin : "",
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
