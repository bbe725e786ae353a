/**
 * A timer whose handling throws comes back after a growing backoff: never at its past time (the alarm
 * would re-run at once, in a loop), never dropped (its run would wait forever).
 */
import { runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { PipelineDO } from "../../worker/pipeline/object";
import { task, withPipeline } from "./runs-helpers";
import { at, scheduled, withSchedule } from "./schedule-helpers";

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date"] });
  at("2030-01-07T08:30:00Z");
});
afterEach(() => {
  vi.useRealTimers();
});

type Stub = DurableObjectStub<PipelineDO>;

const alarmOf = (stub: Stub) => runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());

/** Takes the object's stored pipeline versions away (the clock cannot create a run without one). */
const takeVersions = (stub: Stub) =>
  runInDurableObject(stub, (_instance, state) => {
    const rows = state.storage.sql
      .exec<{ version: number; spec: string }>("SELECT * FROM versions")
      .toArray();
    state.storage.sql.exec("DELETE FROM versions");
    return rows;
  });

const putVersions = (stub: Stub, rows: { version: number; spec: string }[]) =>
  runInDurableObject(stub, (_instance, state) => {
    for (const row of rows) {
      state.storage.sql.exec("INSERT INTO versions (version, spec) VALUES (?, ?)", row.version, row.spec);
    }
  });

describe("failed timers back off", () => {
  it("retries a scheduled fire that throws after 5 s, doubling up to 5 min, then fires once it can", async () => {
    const { stub, clock, alarm } = await withSchedule(scheduled("0 * * * *", false));
    const versions = await takeVersions(stub);
    at("2030-01-07T09:00:02Z");
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      const before = Date.now();
      expect(await alarm()).toBe(true);
      const next = await alarmOf(stub);
      delays.push((next ?? 0) - before);
      at(next ?? 0);
    }
    expect(delays).toEqual([5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
    expect((await clock()).runs).toEqual([]);

    await putVersions(stub, versions);
    expect(await alarm()).toBe(true);
    const { state, runs } = await clock();
    expect(runs.map((r) => r.logical_date)).toEqual(["2030-01-07T09:00:00.000Z"]);
    expect(state?.next_fire).toBe("2030-01-07T10:00:00.000Z");
    expect(await alarmOf(stub)).toBe(Date.parse("2030-01-07T10:00:00Z"));

    // A fire that worked starts the count again: the next failure waits 5 s, not 5 min.
    await takeVersions(stub);
    at("2030-01-07T10:00:01Z");
    await alarm();
    expect(await alarmOf(stub)).toBe(Date.parse("2030-01-07T10:00:06Z"));
  });

  it("retries a fire that failed while creating its run, and creates that run then", async () => {
    const { stub, clock, alarm } = await withSchedule(scheduled("0 * * * *", false));
    const versions = await takeVersions(stub);
    // A stored version the planner cannot compile: the fire throws inside creating the run.
    const broken = JSON.stringify({
      name: "Broken",
      tasks: [{ id: "a", uses: "core/noop@^1", with: {}, needs: ["ghost"] }],
    });
    await putVersions(
      stub,
      versions.map((v) => ({ ...v, spec: broken })),
    );
    at("2030-01-07T09:00:02Z");
    await alarm();
    expect((await clock()).runs).toEqual([]);

    await takeVersions(stub);
    await putVersions(stub, versions);
    at("2030-01-07T09:00:07Z");
    await alarm();
    const { runs } = await clock();
    expect(runs).toMatchObject([{ logical_date: "2030-01-07T09:00:00.000Z", source: "schedule" }]);
    expect(runs[0]?.status).not.toBe("deleted");
  });

  it("retries a run's timer whose delivery throws instead of dropping it, and the run goes on", async () => {
    // Near the real time: the retried attempt calls the core plugin, which checks the signature's age.
    vi.useRealTimers();
    const start0 = Date.now();
    vi.useFakeTimers({ toFake: ["Date"] });
    at(start0);
    const { stub, start, detail, alarm } = await withPipeline({
      name: "Retrying",
      tasks: [{ id: "x", uses: "core/fail@^1", retries: 2, retry_delay: "1m", with: { retryable: true } }],
    });
    const run = await start();
    expect(task(run, "x").attempts).toBe(1);
    const saved = await runInDurableObject(stub, (instance, state) => {
      const sql = state.storage.sql;
      const { state: json } = sql
        .exec<{ state: string }>("SELECT state FROM runs WHERE id = ?", run.id)
        .one();
      sql.exec("UPDATE runs SET state = '{' WHERE id = ?", run.id);
      instance.forgetCachedState();
      return json;
    });

    at(start0 + 61_000);
    expect(await alarm()).toBe(true);
    expect(await alarmOf(stub)).toBe(start0 + 66_000);

    await runInDurableObject(stub, (instance, state) => {
      state.storage.sql.exec("UPDATE runs SET state = ? WHERE id = ?", saved, run.id);
      instance.forgetCachedState();
    });
    at(start0 + 66_000);
    expect(await alarm()).toBe(true);
    expect(task(await detail(run.id), "x").attempts).toBe(2);
    // The next retry is a minute of real time away: no alarm may fire after this test.
    await runInDurableObject(stub, (_instance, state) => state.storage.deleteAlarm());
  });
});
