/**
 * The Cron Trigger's reconciler stays under one invocation's subrequest cap: it looks only at the
 * scheduled pipelines overdue for a look, a page per invocation, longest overdue first, so any number
 * of them is covered over successive invocations.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { RECONCILE_PAGE } from "../../worker/cron/schedules";
import { db } from "../../worker/db/client";
import { overdueSchedules } from "../../worker/db/pipelines";
import type { PipelineDO } from "../../worker/pipeline/object";
import { ownerWithTenant } from "./helpers";
import {
  at,
  cronTick,
  scheduled,
  seedScheduledPipelines,
  storedSpec,
  withSchedule,
} from "./schedule-helpers";

/**
 * Tenants of the running test, whose pipelines go afterwards: the file's tests share one D1, and one
 * test's due pipelines would fill the next one's pages.
 */
let tenants: string[] = [];

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date"] });
  at("2030-01-07T08:30:00Z");
});
afterEach(async () => {
  vi.useRealTimers();
  for (const slug of tenants) {
    await env.DB.prepare("DELETE FROM pipelines WHERE tenant_id = (SELECT id FROM tenants WHERE slug = ?)")
      .bind(slug)
      .run();
  }
  tenants = [];
});

async function tenant(): Promise<string> {
  const { slug } = await ownerWithTenant();
  tenants.push(slug);
  return slug;
}

async function scheduledPipeline(spec: object) {
  const pipeline = await withSchedule(spec);
  tenants.push(pipeline.slug);
  const row = await env.DB.prepare(
    "SELECT p.id FROM pipelines p JOIN tenants t ON t.id = p.tenant_id WHERE t.slug = ?",
  )
    .bind(pipeline.slug)
    .first<{ id: string }>();
  return { ...pipeline, id: row?.id ?? "" };
}

type Stub = DurableObjectStub<PipelineDO>;

/** How many of the objects have been told their schedule (the reconciler's sync reached them). */
async function told(objects: readonly { stub: Stub }[]): Promise<number> {
  const states = await Promise.all(objects.map(({ stub }) => stub.scheduleState()));
  return states.filter(({ state }) => state !== null).length;
}

/** Drops the object's timer and alarm, as a lost alarm would leave it. */
const loseAlarm = (stub: Stub) =>
  runInDurableObject(stub, async (_instance, state) => {
    state.storage.sql.exec("DELETE FROM timers");
    await state.storage.deleteAlarm();
  });

describe("cron reconciler pages", () => {
  it("reconciles more pipelines than one invocation may poke, a page per tick, until all are covered", async () => {
    const slug = await tenant();
    const count = 2 * RECONCILE_PAGE + 5;
    const objects = await seedScheduledPipelines(slug, count, scheduled("0 * * * *", false));
    const progress: number[] = [];
    for (let tick = 0; tick < 3; tick++) {
      at(Date.parse("2030-01-07T08:31:00Z") + tick * 60_000);
      await cronTick();
      progress.push(await told(objects));
    }
    expect(progress).toEqual([RECONCILE_PAGE, 2 * RECONCILE_PAGE, count]);
    const last = objects.at(-1);
    if (!last) throw new Error("nothing seeded");
    const { state } = await last.stub.scheduleState();
    expect(state).toMatchObject({ version: 1, next_fire: "2030-01-07T09:00:00.000Z" });
  });

  it("leaves a pipeline alone until its next fire is overdue, then repairs its lost alarm", async () => {
    const { stub, clock } = await scheduledPipeline(scheduled("0 * * * *", false));
    at("2030-01-07T08:31:00Z");
    await cronTick(); // the first look after the save: the object answers "ok"
    await loseAlarm(stub);
    at("2030-01-07T08:45:00Z");
    await cronTick();
    // Not due before 09:00 (plus the grace): nobody re-armed the clock.
    expect((await clock()).state?.next_fire).toBeNull();
    at("2030-01-07T09:00:40Z");
    await cronTick();
    const { state, runs } = await clock();
    expect(runs.map((r) => r.logical_date)).toEqual(["2030-01-07T09:00:00.000Z"]);
    expect(state?.next_fire).toBe("2030-01-07T10:00:00.000Z");
  });

  it("looks at a pipeline at once after it changed, even before its next fire", async () => {
    const { id, stub, clock } = await scheduledPipeline(scheduled("0 * * * *", false));
    at("2030-01-07T08:31:00Z");
    await cronTick();
    // A save whose call to the object failed: D1 has version 2 (every hour at :40), the object version 1.
    const spec = scheduled("40 * * * *", false);
    await env.DB.batch([
      env.DB.prepare(
        `INSERT INTO pipeline_versions (pipeline_id, version, spec, source, format, digest, created_at, created_by)
         VALUES (?, 2, ?, ?, 'json', 'v2', ?, 'test')`,
      ).bind(id, storedSpec(spec), JSON.stringify(spec), new Date().toISOString()),
      env.DB.prepare(
        "UPDATE pipelines SET latest_version = 2, schedule = ?, updated_at = ? WHERE id = ?",
      ).bind(JSON.stringify(spec.schedule), new Date().toISOString(), id),
    ]);
    at("2030-01-07T08:32:00Z");
    await cronTick();
    expect((await clock()).state).toMatchObject({ version: 2, next_fire: "2030-01-07T08:40:00.000Z" });
    await loseAlarm(stub);
    at("2030-01-07T08:40:40Z");
    await cronTick(); // confirms the sync; the object owes 08:40 by now and fires it
    const { runs } = await clock();
    expect(runs).toMatchObject([{ logical_date: "2030-01-07T08:40:00.000Z", source: "schedule" }]);
    expect(runs[0]?.status).not.toBe("deleted");
  });

  it("puts pipelines whose poke fails behind the others, so they cannot starve them", async () => {
    const slug = await tenant();
    const seeded = await seedScheduledPipelines(slug, RECONCILE_PAGE + 1, scheduled("0 * * * *", false));
    const broken = seeded.slice(0, RECONCILE_PAGE);
    const healthy = seeded.slice(RECONCILE_PAGE);
    // Objects that missed their save, whose latest version cannot be read: every poke of them fails,
    // and they fill the first page (seeded first, equally overdue).
    await env.DB.batch(
      broken.map(({ id }) =>
        env.DB.prepare("UPDATE pipeline_versions SET spec = '{' WHERE pipeline_id = ?").bind(id),
      ),
    );
    at("2030-01-07T08:31:00Z");
    await cronTick();
    expect(await told(healthy)).toBe(0);
    at("2030-01-07T08:32:00Z");
    await cronTick();
    expect(await told(healthy)).toBe(1);
  });

  it("finds the overdue pipelines through an index, not by reading every scheduled one", async () => {
    const query = overdueSchedules(db(env.DB), Date.now(), RECONCILE_PAGE).compile();
    const plan = await env.DB.prepare(`EXPLAIN QUERY PLAN ${query.sql}`)
      .bind(...query.parameters)
      .all<{ detail: string }>();
    expect(plan.results.map((r) => r.detail)).toContainEqual(
      expect.stringContaining("SEARCH pipelines USING INDEX pipelines_reconcile_due"),
    );
  });
});
