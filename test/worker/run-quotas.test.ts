/**
 * Run quotas: runs per rolling 24 hours and runs queued or running at once answer 429 with
 * Retry-After, and start nothing. The Worker is called with lowered quota vars; usage is seeded in
 * the tenant's run ledger (worker/tenant), which the quotas count exactly, bursts included.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../worker/index";
import { ORIGIN } from "./helpers";
import { seedLedger, withPipeline } from "./runs-helpers";

const spec = { name: "Quota", tasks: [{ id: "a", uses: "core/noop@^1", with: { value: 1 } }] };

/** POST …/runs through the Worker with these quota vars. */
function startWith(quotas: Partial<Env>, cookie: string, base: string, body: object = {}) {
  return postWith(quotas, cookie, `${base}/runs`, body);
}

/** A POST through the Worker with these quota vars. */
async function postWith(quotas: Partial<Env>, cookie: string, path: string, body: object) {
  const ctx = createExecutionContext();
  const request = new Request(`${ORIGIN}${path}`, {
    method: "POST",
    headers: { cookie, origin: ORIGIN, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const response = await worker.fetch(request, { ...env, ...quotas }, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

const ago = (ms: number) => Date.now() - ms;
const HOUR = 3_600_000;

describe("run quotas", () => {
  it("refuses a run over the runs-per-day quota, saying when the window frees a place", async () => {
    const { owner, slug, base, stub } = await withPipeline(spec);
    await seedLedger(slug, [
      { active: false, created_at: ago(23 * HOUR) },
      { active: false, created_at: ago(HOUR) },
      { active: false, created_at: ago(25 * HOUR) }, // outside the window
    ]);
    const refused = await startWith({ QUOTA_RUNS_PER_DAY: "2" }, owner.cookie ?? "", base);
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get("retry-after"));
    // The oldest run in the window turns a day old in about an hour.
    expect(retryAfter).toBeGreaterThan(HOUR / 1000 - 120);
    expect(retryAfter).toBeLessThanOrEqual(HOUR / 1000);
    expect(await refused.json()).toMatchObject({
      status: 429,
      detail: expect.stringContaining("2 runs in 24 hours"),
    });
    expect((await stub.listRuns({ limit: 10 })).items).toEqual([]);

    const allowed = await startWith({ QUOTA_RUNS_PER_DAY: "3" }, owner.cookie ?? "", base);
    expect(allowed.status).toBe(201);
  });

  it("refuses a run over the concurrent-runs quota; finished runs do not count", async () => {
    const { owner, slug, base, stub } = await withPipeline(spec);
    await seedLedger(slug, [
      { active: true, created_at: ago(HOUR) },
      { active: true, created_at: ago(HOUR) },
      { active: false, created_at: ago(HOUR) },
    ]);
    const tenant = await owner.json<{ usage: Record<string, number> }>("GET", `/api/tenants/${slug}`);
    expect(tenant.body.usage).toMatchObject({ runs_today: 3, active_runs: 2 });
    const refused = await startWith({ QUOTA_CONCURRENT_RUNS: "2" }, owner.cookie ?? "", base);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("30");
    expect((await stub.listRuns({ limit: 10 })).items).toEqual([]);
    expect((await startWith({ QUOTA_CONCURRENT_RUNS: "3" }, owner.cookie ?? "", base)).status).toBe(201);
  });

  it("refuses a backfill whose runs do not all fit in the day's quota, and creates none of them", async () => {
    const { owner, slug, base, stub } = await withPipeline({
      name: "Daily",
      schedule: { cron: "0 0 * * *", timezone: "UTC", catchup: false },
      tasks: [{ id: "a", uses: "core/noop@^1", with: { value: 1 } }],
    });
    await seedLedger(slug, [{ active: false, created_at: ago(HOUR) }]);
    const range = { from: "2026-01-01T00:00:00Z", to: "2026-01-04T00:00:00Z", reprocess: "missing" };
    const cookie = owner.cookie ?? "";
    // Three dates, two runs left of three.
    const refused = await postWith({ QUOTA_RUNS_PER_DAY: "3" }, cookie, `${base}/backfill`, range);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await refused.json()).toMatchObject({
      detail: expect.stringContaining("would create 3 runs, and 2 are left"),
    });
    expect((await stub.scheduleState()).runs).toEqual([]);
    expect((await stub.listRuns({ limit: 10 })).items).toEqual([]);
    // A dry run creates nothing, so it is not refused; the quota holds when the runs fit.
    const dry = await postWith({ QUOTA_RUNS_PER_DAY: "3" }, cookie, `${base}/backfill`, {
      ...range,
      dry_run: true,
    });
    expect(dry.status).toBe(200);
    const created = await postWith({ QUOTA_RUNS_PER_DAY: "4" }, cookie, `${base}/backfill`, range);
    expect(created.status).toBe(201);
    expect((await stub.scheduleState()).runs).toHaveLength(3);
  });

  it("still answers 404 for an unknown pipeline and 422 for bad params before the quota", async () => {
    const { owner, slug, base } = await withPipeline({
      ...spec,
      params: { n: { type: "integer" } },
    });
    await seedLedger(slug, [{ active: true, created_at: ago(HOUR) }]);
    const quotas = { QUOTA_CONCURRENT_RUNS: "1" };
    const missing = await startWith(quotas, owner.cookie ?? "", `/api/tenants/${slug}/pipelines/nope`);
    expect(missing.status).toBe(404);
    const bad = await startWith(quotas, owner.cookie ?? "", base, { params: { n: "x" } });
    expect(bad.status).toBe(422);
  });

  it("admits exactly the quota's runs from a burst of 20 concurrent starts, and frees a place when one ends", async () => {
    const { owner, base, stub } = await withPipeline(sleeping);
    const cookie = owner.cookie ?? "";
    const quotas = { QUOTA_CONCURRENT_RUNS: "5" };
    const answers = await Promise.all(Array.from({ length: 20 }, () => startWith(quotas, cookie, base)));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([...Array(5).fill(201), ...Array(15).fill(429)]);
    const runs = (await stub.listRuns({ limit: 50 })).items;
    expect(runs).toHaveLength(5);
    // A finished run leaves the count once its object has written it behind.
    const first = runs[0]?.id ?? "";
    expect((await owner.json("POST", `${base}/runs/${first}/cancel`)).status).toBe(200);
    await stub.settled();
    expect((await startWith(quotas, cookie, base)).status).toBe(201);
    expect((await startWith(quotas, cookie, base)).status).toBe(429);
    await stub.retire("test over");
  });

  it("admits exactly the day's runs from a burst, whatever the concurrency", async () => {
    const { owner, base, stub } = await withPipeline(spec);
    const answers = await Promise.all(
      Array.from({ length: 12 }, () => startWith({ QUOTA_RUNS_PER_DAY: "7" }, owner.cookie ?? "", base)),
    );
    expect(answers.filter((a) => a.status === 201)).toHaveLength(7);
    expect(answers.filter((a) => a.status === 429)).toHaveLength(5);
    await stub.settled();
    expect((await stub.listRuns({ limit: 50 })).items).toHaveLength(7);
  });

  it("refuses a backfill whose runs would not all fit in the concurrent-runs quota", async () => {
    const { owner, slug, base, stub } = await withPipeline({
      name: "Daily",
      schedule: { cron: "0 0 * * *", timezone: "UTC", catchup: false },
      tasks: [{ id: "a", uses: "core/noop@^1", with: { value: 1 } }],
    });
    await seedLedger(slug, [
      { active: true, created_at: ago(HOUR) },
      { active: true, created_at: ago(HOUR) },
    ]);
    const range = { from: "2026-01-01T00:00:00Z", to: "2026-01-04T00:00:00Z", reprocess: "missing" };
    const cookie = owner.cookie ?? "";
    const refused = await postWith({ QUOTA_CONCURRENT_RUNS: "4" }, cookie, `${base}/backfill`, range);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("30");
    expect(await refused.json()).toMatchObject({
      detail: expect.stringContaining(
        "would create 3 runs, and 2 are left. The free plan allows 4 queued or running",
      ),
    });
    expect((await stub.listRuns({ limit: 10 })).items).toEqual([]);
    // Over the quota by itself: waiting would never help, so the answer is a 422 that says to split it.
    const never = await postWith({ QUOTA_CONCURRENT_RUNS: "2" }, cookie, `${base}/backfill`, range);
    expect(never.status).toBe(422);
    expect(never.headers.get("retry-after")).toBeNull();
    expect(await never.json()).toMatchObject({
      detail: expect.stringContaining(
        "would create 3 runs; the free plan allows 2 queued or running runs at once",
      ),
    });
    expect((await stub.listRuns({ limit: 10 })).items).toEqual([]);
    const created = await postWith({ QUOTA_CONCURRENT_RUNS: "5" }, cookie, `${base}/backfill`, range);
    expect(created.status).toBe(201);
  });
});

const sleeping = {
  name: "Sleeping",
  tasks: [{ id: "wait", uses: "core/sleep@^1", with: { duration: "1h" } }],
};
