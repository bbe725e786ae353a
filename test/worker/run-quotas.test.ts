/**
 * Run quotas: runs per rolling 24 hours and runs queued or running at once answer 429 with
 * Retry-After, and start nothing. The Worker is called with lowered quota vars; usage is seeded in
 * the D1 summaries the quotas count.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../worker/index";
import { ORIGIN } from "./helpers";
import { withPipeline } from "./runs-helpers";

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

/** Summaries as the PipelineDOs write them behind. */
async function seedRuns(slug: string, rows: { status: string; created_at: string }[]) {
  const tenant = await env.DB.prepare("SELECT id FROM tenants WHERE slug = ?")
    .bind(slug)
    .first<{ id: string }>();
  await env.DB.batch(
    rows.map((row, i) =>
      env.DB.prepare(
        `INSERT INTO runs (id, tenant_id, pipeline_id, pipeline_slug, status, trigger, version, created_at, seq)
         VALUES (?, ?, 'pip_seeded', 'seeded', ?, 'manual', 1, ?, ?)`,
      ).bind(`run_seed_${slug}_${i}`, tenant?.id, row.status, row.created_at, i + 1),
    ),
  );
}

const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
const HOUR = 3_600_000;

describe("run quotas", () => {
  it("refuses a run over the runs-per-day quota, saying when the window frees a place", async () => {
    const { owner, slug, base, stub } = await withPipeline(spec);
    await seedRuns(slug, [
      { status: "success", created_at: ago(23 * HOUR) },
      { status: "success", created_at: ago(HOUR) },
      { status: "success", created_at: ago(25 * HOUR) }, // outside the window
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
    await seedRuns(slug, [
      { status: "running", created_at: ago(HOUR) },
      { status: "queued", created_at: ago(HOUR) },
      { status: "failed", created_at: ago(HOUR) },
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
    await seedRuns(slug, [{ status: "success", created_at: ago(HOUR) }]);
    const range = { from: "2026-01-01T00:00:00Z", to: "2026-01-04T00:00:00Z", reprocess: "missing" };
    const cookie = owner.cookie ?? "";
    // Three dates, two runs left of three.
    const refused = await postWith({ QUOTA_RUNS_PER_DAY: "3" }, cookie, `${base}/backfill`, range);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await refused.json()).toMatchObject({
      detail: expect.stringContaining("would create 3 runs, and 2 of"),
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
    await seedRuns(slug, [{ status: "running", created_at: ago(HOUR) }]);
    const quotas = { QUOTA_CONCURRENT_RUNS: "1" };
    const missing = await startWith(quotas, owner.cookie ?? "", `/api/tenants/${slug}/pipelines/nope`);
    expect(missing.status).toBe(404);
    const bad = await startWith(quotas, owner.cookie ?? "", base, { params: { n: "x" } });
    expect(bad.status).toBe(422);
  });
});
