/**
 * Starting a run is safe to retry (Idempotency-Key, as Stripe's API honours it), and a person's action
 * on a run and its audit entry cannot part: the entry is written with the action in the pipeline's
 * object and reaches D1 behind it, so D1 trouble neither fails the action nor loses the entry.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { IDEMPOTENCY_WINDOW_MS } from "../../worker/pipeline/idempotency";
import { expectProblem } from "./helpers";
import { withPipeline } from "./runs-helpers";

const spec = {
  name: "Idempotent",
  params: { n: { type: "integer", default: 1 }, label: { type: "string", default: "" } },
  tasks: [{ id: "a", uses: "core/noop@^1" }],
};

async function runCount(stub: Awaited<ReturnType<typeof withPipeline>>["stub"]): Promise<number> {
  return runInDurableObject(
    stub,
    (_instance, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM runs").one().n,
  );
}

describe("Idempotency-Key on POST …/runs", () => {
  it("answers a repeated key and body with the first answer and starts nothing more", async () => {
    const { owner, base, stub } = await withPipeline(spec);
    const send = (body: object) =>
      owner.call("POST", `${base}/runs`, { body, headers: { "Idempotency-Key": "order-42" } });
    const first = await send({ params: { n: 2, label: "x" } });
    expect(first.status).toBe(201);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    const answer = (await first.json()) as { id: string };
    // Same body with its keys in another order is the same body.
    const again = await send({ params: { label: "x", n: 2 } });
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await again.json()).toEqual(answer);
    expect(await runCount(stub)).toBe(1);
  });

  it("refuses the same key with another body (422) and starts nothing", async () => {
    const { owner, base, stub } = await withPipeline(spec);
    const headers = { "Idempotency-Key": "k-1" };
    expect((await owner.call("POST", `${base}/runs`, { body: { params: { n: 1 } }, headers })).status).toBe(
      201,
    );
    const problem = expectProblem(
      await owner.json("POST", `${base}/runs`, { body: { params: { n: 2 } }, headers }),
      422,
    );
    expect(problem.type).toBe("urn:updraft:problem:idempotency_key_reused");
    expect(await runCount(stub)).toBe(1);
  });

  it("starts exactly one run for 20 concurrent requests with one key", async () => {
    const { owner, base, stub } = await withPipeline(spec);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        owner.json<{ id: string }>("POST", `${base}/runs`, {
          body: {},
          headers: { "Idempotency-Key": "burst" },
        }),
      ),
    );
    // While the first is being answered, the others are told so (409, as Stripe does); later ones and
    // every retry get the first answer.
    const statuses = new Set(answers.map((a) => a.status));
    expect([...statuses].every((status) => status === 201 || status === 409)).toBe(true);
    const created = answers.filter((a) => a.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(new Set(created.map((a) => a.body.id)).size).toBe(1);
    for (const busy of answers.filter((a) => a.status === 409))
      expect(busy.body).toMatchObject({ detail: expect.stringContaining("still being answered") });
    const again = await owner.json<{ id: string }>("POST", `${base}/runs`, {
      body: {},
      headers: { "Idempotency-Key": "burst" },
    });
    expect(again).toMatchObject({ status: 201, body: { id: created[0]?.body.id } });
    expect(await runCount(stub)).toBe(1);
  });

  it("starts a new run for another key, without a key, and once the key is a day old", async () => {
    const { owner, base, stub } = await withPipeline(spec);
    const post = (key?: string) =>
      owner.json<{ id: string }>("POST", `${base}/runs`, {
        body: {},
        headers: key === undefined ? {} : { "Idempotency-Key": key },
      });
    const a = await post("a");
    const b = await post("b");
    expect(a.body.id).not.toBe(b.body.id);
    await post();
    await post();
    expect(await runCount(stub)).toBe(4);
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec("UPDATE idempotency_keys SET at = at - ?", IDEMPOTENCY_WINDOW_MS + 1);
    });
    const later = await post("a");
    expect(later.status).toBe(201);
    expect(later.body.id).not.toBe(a.body.id);
    expect(await runCount(stub)).toBe(5);
  });

  it.each([
    ["empty", ""],
    ["too long", "k".repeat(256)],
    ["with a space", "two words"],
    ["not ASCII", "schlüssel"],
  ])("answers 4xx for a key that is %s and starts nothing", async (_label, key) => {
    const { owner, base, stub } = await withPipeline(spec);
    const res = await owner.call("POST", `${base}/runs`, { body: {}, headers: { "Idempotency-Key": key } });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(await runCount(stub)).toBe(0);
  });
});

describe("audit entries of run actions", () => {
  type AuditList = { items: { action: string; target: string }[] };

  it("an action succeeds while D1's audit log is unavailable, and the alarm brings its entry afterwards", async () => {
    const { owner, slug, base, start, stub } = await withPipeline(spec);
    const run = await start();
    await env.DB.exec("ALTER TABLE audit_log RENAME TO audit_log_away");
    let mark: Response;
    try {
      mark = await owner.call("POST", `${base}/runs/${run.id}/tasks/a/mark`, { body: { status: "failed" } });
      // The write-behind after the action fails; the object arms its alarm to try again.
      await stub.settled().catch(() => undefined);
      const alarm = await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
      expect(alarm).not.toBeNull();
    } finally {
      await env.DB.exec("ALTER TABLE audit_log_away RENAME TO audit_log");
    }
    expect(mark.status).toBe(200);
    // Only the alarm runs now: no action, no test-only flush.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const audit = await owner.json<AuditList>("GET", `/api/tenants/${slug}/audit`);
    const entries = audit.body.items.filter((i) => i.action === "task.mark_failed");
    expect(entries.map((i) => i.target)).toEqual([`demo/${run.id}/a`]);
    const left = await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
    expect(left).toBeNull();
  });

  it("writes one entry per action, with the run in its target, and none for a refused action", async () => {
    const { owner, slug, base, start, settled } = await withPipeline(spec);
    const run = await start();
    await owner.json("POST", `${base}/runs/${run.id}/tasks/a/mark`, { body: { status: "failed" } });
    expectProblem(await owner.json("POST", `${base}/runs/${run.id}/tasks/nope/retry`), 409);
    await settled();
    const audit = await owner.json<AuditList>("GET", `/api/tenants/${slug}/audit`);
    const runEntries = audit.body.items.filter(
      (i) => i.action.startsWith("run.") || i.action.startsWith("task."),
    );
    expect(runEntries.map((i) => [i.action, i.target]).reverse()).toEqual([
      ["run.create", `demo/${run.id}`],
      ["task.mark_failed", `demo/${run.id}/a`],
    ]);
  });
});
