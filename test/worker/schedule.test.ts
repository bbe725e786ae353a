/** The PipelineDO is the clock: one timer row for the next fire, a run per logical date, exactly once. */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { PipelineDO } from "../../worker/pipeline/object";
import { at, cronTick, scheduled, withSchedule } from "./schedule-helpers";

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date"] });
  at("2030-01-07T08:30:00Z");
});
afterEach(() => {
  vi.useRealTimers();
});

const alarmOf = (stub: DurableObjectStub<PipelineDO>) =>
  runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());

describe("schedule", () => {
  it("exposes run.logical_date and the data interval to task expressions (clock near real time, so plugin calls verify)", async () => {
    vi.useRealTimers();
    const now = Date.now();
    vi.useFakeTimers({ toFake: ["Date"] });
    at(now);
    const { owner, base, clock, alarm, detail } = await withSchedule(scheduled("* * * * *", false));
    const fire = Date.parse((await clock()).state?.next_fire ?? "");
    expect(fire).toBe(Math.floor(now / 60_000) * 60_000 + 60_000);
    at(fire + 1000);
    await alarm(); // the real alarm may have fired first: either way there is one run
    const { runs } = await clock();
    expect(runs).toHaveLength(1);
    const run = await detail(runs[0]?.run ?? "");
    expect(run.status).toBe("success");
    expect(run.tasks[0]?.output).toEqual({
      value: {
        logical_date: new Date(fire).toISOString(),
        from: new Date(fire - 60_000).toISOString(),
        to: new Date(fire).toISOString(),
      },
    });
    expect(run.logical_date).toBe(new Date(fire).toISOString());
    // Stop the real-time clock so no alarm fires after this file is done.
    expect((await owner.call("DELETE", base)).status).toBe(204);
    expect((await clock()).state).toBeNull();
  });

  it("arms one timer at the next fire when a scheduled pipeline is saved, and next_runs agrees", async () => {
    const { owner, base, stub, clock } = await withSchedule(scheduled("0 * * * *", false));
    const { state, runs } = await clock();
    expect(state?.next_fire).toBe("2030-01-07T09:00:00.000Z");
    expect(runs).toEqual([]);
    expect(await alarmOf(stub)).toBe(Date.parse("2030-01-07T09:00:00Z"));
    const detail = await owner.json<{ next_runs: string[] }>("GET", base);
    expect(detail.body.next_runs[0]).toBe(state?.next_fire);
  });

  it("creates exactly one schedule run per logical date when the alarm fires, even when it fires twice", async () => {
    const { owner, base, stub, clock, alarm, detail } = await withSchedule(scheduled("0 * * * *", false));
    at("2030-01-07T09:00:02Z");
    expect(await alarm()).toBe(true);
    const { state, runs } = await clock();
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      logical_date: "2030-01-07T09:00:00.000Z",
      data_interval_start: "2030-01-07T08:00:00.000Z",
      data_interval_end: "2030-01-07T09:00:00.000Z",
      source: "schedule",
    });
    expect(state?.next_fire).toBe("2030-01-07T10:00:00.000Z");
    const run = await detail(runs[0]?.run ?? "");
    // 2030 is beyond the plugin's signature tolerance, so the task fails; the run itself is what counts.
    expect(run).toMatchObject({ status: "failed", trigger: "schedule" });
    // At-least-once: the same fire delivered again (timer row and cursor rewound) creates nothing.
    await runInDurableObject(stub, async (_instance, st) => {
      st.storage.sql.exec(
        "UPDATE timers SET at = ? WHERE run = '~schedule'",
        Date.parse("2030-01-07T09:00:00Z"),
      );
      st.storage.sql.exec("UPDATE schedule_state SET cursor = ?", Date.parse("2030-01-07T08:30:00Z"));
      await st.storage.setAlarm(Date.parse("2030-01-07T09:00:00Z"));
    });
    await alarm();
    await alarm();
    expect((await clock()).runs).toHaveLength(1);
    const list = await owner.json<{ items: { trigger: string }[] }>("GET", `${base}/runs`);
    expect(list.body.items.map((r) => r.trigger)).toEqual(["schedule"]);
  });

  it("creates no run at the next fire while paused, and keeps no timer", async () => {
    const { owner, base, stub, clock, alarm } = await withSchedule(scheduled("0 * * * *", true));
    expect((await owner.json("POST", `${base}/pause`)).status).toBe(200);
    expect((await clock()).state?.next_fire).toBeNull();
    expect(await alarmOf(stub)).toBeNull();
    at("2030-01-07T09:00:05Z");
    expect(await alarm()).toBe(false);
    await cronTick();
    expect((await clock()).runs).toEqual([]);
    const detail = await owner.json<{ next_runs: string[] }>("GET", base);
    expect(detail.body.next_runs).toEqual([]);
  });

  it("creates only the latest missed run on unpause without catchup", async () => {
    const { owner, base, clock } = await withSchedule(scheduled("0 * * * *", false));
    await owner.json("POST", `${base}/pause`);
    at("2030-01-07T12:10:00Z");
    await owner.json("POST", `${base}/unpause`);
    const { state, runs } = await clock();
    expect(runs.map((r) => r.logical_date)).toEqual(["2030-01-07T12:00:00.000Z"]);
    expect(state?.next_fire).toBe("2030-01-07T13:00:00.000Z");
  });

  it("creates every missed run, oldest first, on unpause with catchup", async () => {
    const { owner, base, clock } = await withSchedule(scheduled("0 * * * *", true));
    await owner.json("POST", `${base}/pause`);
    at("2030-01-07T12:10:00Z");
    await owner.json("POST", `${base}/unpause`);
    const { runs } = await clock();
    expect(runs.map((r) => r.logical_date)).toEqual([
      "2030-01-07T09:00:00.000Z",
      "2030-01-07T10:00:00.000Z",
      "2030-01-07T11:00:00.000Z",
      "2030-01-07T12:00:00.000Z",
    ]);
  });

  it("bounds catchup to the newest 100 intervals; what the concurrent-runs quota does not admit waits, then runs; nothing is skipped", async () => {
    const { owner, slug, base, clock, alarm } = await withSchedule(
      scheduled("* * * * *", true, { concurrency: { max_active_runs: 2 } }),
    );
    await owner.json("POST", `${base}/pause`);
    at("2030-01-07T11:30:30Z");
    await owner.json("POST", `${base}/unpause`);
    const first = await clock();
    // 100 intervals are owed (09:51 … 11:30); the tenant may hold 50 runs queued or running at once.
    const quota = Number(env.QUOTA_CONCURRENT_RUNS);
    expect(first.runs).toHaveLength(quota);
    expect(first.runs[0]?.logical_date).toBe("2030-01-07T09:51:00.000Z");
    expect(first.runs.at(-1)?.logical_date).toBe(
      new Date(Date.parse("2030-01-07T09:51:00Z") + (quota - 1) * 60_000).toISOString(),
    );
    // The rest stay owed: the clock comes back when places may have freed up, not at the next minute.
    expect(first.state?.next_fire).toBe("2030-01-07T11:31:00.000Z");
    // All ended: the queue drained two at a time instead of holding 100 runs at once.
    expect(first.runs.every((r) => r.status === "failed")).toBe(true);
    at("2030-01-07T11:31:00Z");
    await alarm();
    // 51 are owed now (the other 50 dates and the 11:31 fire itself): 50 fit, the newest waits again.
    const second = await clock();
    expect(second.runs).toHaveLength(100);
    expect(second.state?.next_fire).toBe("2030-01-07T11:31:30.000Z");
    at("2030-01-07T11:31:30Z");
    await alarm();
    const third = await clock();
    expect(third.runs).toHaveLength(101);
    expect(new Set(third.runs.map((r) => r.logical_date)).size).toBe(101);
    expect(third.runs.at(-1)?.logical_date).toBe("2030-01-07T11:31:00.000Z");
    expect(third.state?.next_fire).toBe("2030-01-07T11:32:00.000Z");
    const audit = await owner.json<{ items: { action: string }[] }>(
      "GET",
      `/api/tenants/${slug}/audit?limit=100`,
    );
    expect(audit.body.items.filter((e) => e.action === "run.skipped")).toEqual([]);
  });

  it("brings back a lost alarm and creates the overdue run on the next cron tick", async () => {
    const { stub, clock } = await withSchedule(scheduled("0 * * * *", false));
    await runInDurableObject(stub, async (_instance, st) => {
      st.storage.sql.exec("DELETE FROM timers");
      await st.storage.deleteAlarm();
    });
    at("2030-01-07T09:00:40Z");
    await cronTick();
    const { state, runs } = await clock();
    expect(runs.map((r) => r.logical_date)).toEqual(["2030-01-07T09:00:00.000Z"]);
    expect(state?.next_fire).toBe("2030-01-07T10:00:00.000Z");
    expect(await alarmOf(stub)).toBe(Date.parse("2030-01-07T10:00:00Z"));
    await cronTick();
    expect((await clock()).runs).toHaveLength(1);
  });

  it("syncs an object that missed a save or an unpause on the next cron tick", async () => {
    const { stub, clock } = await withSchedule(scheduled("0 * * * *", false));
    await runInDurableObject(stub, async (_instance, st) => {
      st.storage.sql.exec("UPDATE schedule_state SET paused = 1");
      st.storage.sql.exec("DELETE FROM timers");
      await st.storage.deleteAlarm();
    });
    at("2030-01-07T08:45:00Z");
    await cronTick();
    expect((await clock()).state).toMatchObject({ paused: false, next_fire: "2030-01-07T09:00:00.000Z" });
    await runInDurableObject(stub, (_instance, st) => {
      st.storage.sql.exec("DELETE FROM schedule_state");
      st.storage.sql.exec("DELETE FROM timers");
    });
    await cronTick();
    expect((await clock()).state).toMatchObject({ version: 1, next_fire: "2030-01-07T09:00:00.000Z" });
    expect(await alarmOf(stub)).toBe(Date.parse("2030-01-07T09:00:00Z"));
  });

  it("stops the clock when the pipeline is deleted or its schedule removed", async () => {
    const { owner, base, stub, clock } = await withSchedule(scheduled("0 * * * *", false));
    const plain = scheduled("0 * * * *", false) as Record<string, unknown>;
    delete plain.schedule;
    expect((await owner.json("PUT", base, { body: plain })).status).toBe(200);
    expect((await clock()).state).toBeNull();
    expect(await alarmOf(stub)).toBeNull();
    await owner.json("PUT", base, { body: scheduled("0 * * * *", false) });
    expect((await clock()).state?.next_fire).toBe("2030-01-07T09:00:00.000Z");
    expect((await owner.call("DELETE", base)).status).toBe(204);
    expect((await clock()).state).toBeNull();
    expect(await alarmOf(stub)).toBeNull();
  });
});
