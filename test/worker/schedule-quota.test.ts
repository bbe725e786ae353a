/**
 * The clock within the tenant's daily runs quota: a scheduled fire over it is skipped for good and
 * audited, the schedule moves on, and runs are created again once the quota has room.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { seedLedger } from "./runs-helpers";
import { at, HOUR, scheduled, withSchedule } from "./schedule-helpers";

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date"] });
  at("2030-01-07T08:30:00Z");
});
afterEach(() => {
  vi.useRealTimers();
});

/** `count` finished runs in the tenant's run ledger, created an hour before the fake now. */
function seedRuns(slug: string, count: number) {
  return seedLedger(
    slug,
    Array.from({ length: count }, () => ({ active: false, created_at: Date.now() - HOUR })),
  );
}

describe("scheduled runs and the daily runs quota", () => {
  it("creates the owed runs that fit, oldest first, skips and audits the rest, and moves on", async () => {
    const { owner, slug, clock, alarm } = await withSchedule(scheduled("0 * * * *", true));
    const quota = Number(env.QUOTA_RUNS_PER_DAY);
    await seedRuns(slug, quota - 1);
    // 09:00, 10:00 and 11:00 are owed; one run is left in the day's quota.
    at("2030-01-07T11:00:02Z");
    expect(await alarm()).toBe(true);
    const { state, runs } = await clock();
    expect(runs.map((r) => r.logical_date)).toEqual(["2030-01-07T09:00:00.000Z"]);
    expect(state?.next_fire).toBe("2030-01-07T12:00:00.000Z");
    const audit = await owner.json<{ items: { actor: string; action: string; target: string }[] }>(
      "GET",
      `/api/tenants/${slug}/audit`,
    );
    const skipped = audit.body.items.filter((e) => e.action === "run.skipped");
    expect(skipped.map((e) => e.actor)).toEqual(["schedule", "schedule"]);
    expect(skipped.map((e) => e.target).sort()).toEqual([
      `demo 2030-01-07T10:00:00.000Z: over the ${quota} runs in 24 hours quota`,
      `demo 2030-01-07T11:00:00.000Z: over the ${quota} runs in 24 hours quota`,
    ]);

    // Once the seeded runs are a day old the owed fires run again (catchup: 12:00 … 09:00 the next
    // day); the skipped dates are not owed any more.
    at("2030-01-08T09:00:02Z");
    expect(await alarm()).toBe(true);
    const dates = (await clock()).runs.map((r) => r.logical_date);
    expect(dates).toHaveLength(1 + 22);
    expect(dates).toContain("2030-01-08T09:00:00.000Z");
    expect(dates).not.toContain("2030-01-07T10:00:00.000Z");
    expect(dates).not.toContain("2030-01-07T11:00:00.000Z");
  });
});
