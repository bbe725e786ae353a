/** POST …/backfill: runs for the schedule's logical dates in [from, to), by what `reprocess` asks. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { addMember, expectProblem, ownerWithTenant } from "./helpers";
import { savePipeline, withPipeline } from "./runs-helpers";

type Backfilled = { runs: { id: string | null; logical_date: string; status: string }[]; dry_run: boolean };

/** Daily at midnight UTC; the run of 2 January fails (its `when` lets core/fail run), the others succeed. */
const daily = {
  name: "Daily",
  schedule: { cron: "0 0 * * *", timezone: "UTC", catchup: false },
  tasks: [
    { id: "ok", uses: "core/noop@^1", with: { value: "{{ run.logical_date }}" } },
    { id: "second_fails", uses: "core/fail@^1", when: "{{ $substring(run.logical_date, 8, 2) = '02' }}" },
  ],
};
const range = { from: "2026-01-01T00:00:00Z", to: "2026-01-04T00:00:00Z" };
const dates = ["2026-01-01T00:00:00.000Z", "2026-01-02T00:00:00.000Z", "2026-01-03T00:00:00.000Z"];

describe("backfill", () => {
  it("lists the dates it would create on a dry run and creates nothing", async () => {
    const { owner, base, stub } = await withPipeline(daily);
    const res = await owner.json<Backfilled>("POST", `${base}/backfill`, {
      body: { ...range, reprocess: "missing", dry_run: true },
    });
    expect(res.status).toBe(200);
    expect(res.body.dry_run).toBe(true);
    expect(res.body.runs).toEqual(dates.map((d) => ({ id: null, logical_date: d, status: "planned" })));
    expect((await stub.scheduleState()).runs).toEqual([]);
  });

  it("creates missing runs once, then re-runs only failed ones, then all, with an audit row", async () => {
    const { owner, slug, base, stub, settled } = await withPipeline(daily);
    const backfill = (reprocess: string) =>
      owner.json<Backfilled>("POST", `${base}/backfill`, { body: { ...range, reprocess } });
    const first = await backfill("missing");
    expect(first.status).toBe(201);
    expect(first.body.runs.map((r) => r.logical_date)).toEqual(dates);
    expect(first.body.runs.every((r) => typeof r.id === "string")).toBe(true);
    await settled();
    const byDate = async () =>
      Object.fromEntries((await stub.scheduleState()).runs.map((r) => [r.logical_date, r]));
    const after = await byDate();
    expect(dates.map((d) => after[d]?.status)).toEqual(["success", "failed", "success"]);
    expect(after[dates[1] ?? ""]).toMatchObject({
      data_interval_start: "2026-01-01T00:00:00.000Z",
      data_interval_end: "2026-01-02T00:00:00.000Z",
      source: "backfill",
    });
    const runs = await owner.json<{ items: { trigger: string; logical_date: string | null }[] }>(
      "GET",
      `${base}/runs`,
    );
    expect(runs.body.items.map((r) => r.trigger)).toEqual(["schedule", "schedule", "schedule"]);
    // Newest first in the pipeline's list, and in the tenant-wide one (written behind to D1).
    expect(runs.body.items.map((r) => r.logical_date)).toEqual([...dates].reverse());
    const tenantRuns = await owner.json<{ items: { logical_date: string | null }[] }>(
      "GET",
      `/api/tenants/${slug}/runs`,
    );
    expect(tenantRuns.body.items.map((r) => r.logical_date).sort()).toEqual(dates);

    const again = await backfill("missing");
    expect(again.status).toBe(200);
    expect(again.body.runs).toEqual([]);

    const failed = await backfill("failed");
    expect(failed.status).toBe(201);
    expect(failed.body.runs.map((r) => r.logical_date)).toEqual([dates[1]]);
    expect(failed.body.runs[0]?.id).not.toBe(after[dates[1] ?? ""]?.run);

    const all = await backfill("all");
    expect(all.status).toBe(201);
    expect(all.body.runs.map((r) => r.logical_date)).toEqual(dates);
    await settled();
    const total = await owner.json<{ items: unknown[] }>("GET", `${base}/runs?limit=50`);
    expect(total.body.items).toHaveLength(7);

    const audit = await owner.json<{ items: { action: string; target: string }[] }>(
      "GET",
      `/api/tenants/${slug}/audit`,
    );
    expect(audit.body.items.filter((e) => e.action === "pipeline.backfill")).toHaveLength(4);
  });

  it("honours Idempotency-Key: the same key and body answer the first runs and create none", async () => {
    const { owner, base, stub, settled } = await withPipeline(daily);
    const send = (reprocess: string, key: string) =>
      owner.call("POST", `${base}/backfill`, {
        body: { ...range, reprocess },
        headers: { "Idempotency-Key": key },
      });
    const first = await send("all", "fill-1");
    expect(first.status).toBe(201);
    const answer = (await first.json()) as Backfilled;
    await settled();
    const again = await send("all", "fill-1");
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await again.json()).toEqual(answer);
    // "all" would otherwise have created three more runs.
    await settled();
    const ids = (await stub.scheduleState()).runs.map((r) => r.run);
    expect(ids.sort()).toEqual(answer.runs.map((r) => r.id).sort());
    expectProblem(
      await owner.json("POST", `${base}/backfill`, {
        body: { ...range, reprocess: "failed" },
        headers: { "Idempotency-Key": "fill-1" },
      }),
      422,
    );
    // A key of POST …/runs is another key.
    expect(
      (await owner.call("POST", `${base}/runs`, { body: {}, headers: { "Idempotency-Key": "fill-1" } }))
        .status,
    ).toBe(201);
  });

  it("creates its runs while D1's audit log is unavailable; the entry follows once it is back", async () => {
    const { owner, slug, base, stub, settled } = await withPipeline(daily);
    await env.DB.exec("ALTER TABLE audit_log RENAME TO audit_log_away");
    let created: Awaited<ReturnType<typeof owner.json<Backfilled>>>;
    try {
      created = await owner.json<Backfilled>("POST", `${base}/backfill`, {
        body: { ...range, reprocess: "missing" },
      });
      await settled().catch(() => undefined);
    } finally {
      await env.DB.exec("ALTER TABLE audit_log_away RENAME TO audit_log");
    }
    expect(created.status).toBe(201);
    expect((await stub.scheduleState()).runs).toHaveLength(3);
    await settled();
    const audit = await owner.json<{ items: { action: string; target: string }[] }>(
      "GET",
      `/api/tenants/${slug}/audit`,
    );
    expect(audit.body.items.filter((e) => e.action === "pipeline.backfill").map((e) => e.target)).toEqual([
      `demo ${range.from}..${range.to} (3 runs)`,
    ]);
  });

  it("answers 422 for a pipeline without a schedule, an empty range, too many dates and bad input", async () => {
    const { owner, slug, base } = await withPipeline(daily);
    await savePipeline(owner, slug, "plain", { name: "Plain", tasks: [{ id: "a", uses: "core/noop@^1" }] });
    const post = (path: string, body: unknown) => owner.json("POST", path, { body });
    const noSchedule = expectProblem(
      await post(`/api/tenants/${slug}/pipelines/plain/backfill`, { ...range, reprocess: "missing" }),
      422,
    );
    expect(noSchedule.errors?.[0]?.path).toBe("schedule");
    expectProblem(await post(`${base}/backfill`, { from: range.to, to: range.from, reprocess: "all" }), 422);
    expectProblem(
      await post(`${base}/backfill`, { from: range.from, to: range.from, reprocess: "all" }),
      422,
    );
    const tooMany = expectProblem(
      await post(`${base}/backfill`, {
        from: "2020-01-01T00:00:00Z",
        to: "2026-01-01T00:00:00Z",
        reprocess: "all",
      }),
      422,
    );
    expect(tooMany.detail).toContain("1000");
    const badDate = expectProblem(
      await post(`${base}/backfill`, { from: "yesterday", to: range.to, reprocess: "all" }),
      422,
    );
    expect(badDate.errors?.map((e) => e.path)).toContain("from");
    expectProblem(await post(`${base}/backfill`, { ...range, reprocess: "some" }), 422);
    expectProblem(await post(`${base}/backfill`, { ...range, reprocess: "all", extra: 1 }), 422);
  });

  it("answers 404 for another tenant's pipeline and 403 to a viewer", async () => {
    const { owner, slug, base } = await withPipeline(daily);
    const { owner: stranger } = await ownerWithTenant();
    const body = { ...range, reprocess: "missing" };
    expectProblem(await stranger.json("POST", `${base}/backfill`, { body }), 404);
    const viewer = await addMember(owner, slug, "viewer");
    expectProblem(await viewer.client.json("POST", `${base}/backfill`, { body }), 403);
    expectProblem(await owner.json("POST", `/api/tenants/${slug}/pipelines/nope/backfill`, { body }), 404);
  });
});
