/**
 * The delivery ledger over the API (issue 12 §4–§5): list with filters and pages, one delivery with
 * its redacted headers, replay of one and of a time range (a webhook backfill), each exactly once,
 * and what cannot be replayed.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { addMember, expectProblem, ownerWithTenant } from "./helpers";
import { anonymous, hooked } from "./hooks-helpers";

type Summary = {
  id: string;
  status: string;
  run_id: string | null;
  replayed_from: string | null;
  verified: boolean;
};
type Page = { items: Summary[]; next_cursor: string | null };
type ReplayRun = { delivery_id: string; replay_id: string | null; run_id: string | null; status: string };

describe("delivery ledger API", () => {
  it("lists deliveries newest first, by verdict and time, a page at a time, and shows one with secrets redacted", async () => {
    const { owner, base, send, path, slug } = await hooked("standard");
    const accepted = await send<{ delivery_id: string; run_id: string }>("m1", { n: 1 });
    await send("m2", { n: 2 });
    await send("m1", { n: 1 }); // duplicate
    const bad = await anonymous.json("POST", path, {
      raw: "{}",
      headers: { "webhook-id": "x", "webhook-timestamp": "1", "webhook-signature": "v1,AAAA", cookie: "s=1" },
    });
    expect(bad.status).toBe(401);

    const all = await owner.json<Page>("GET", `${base}/deliveries`);
    expect(all.status).toBe(200);
    expect(all.body.items.map((d) => d.status)).toEqual(["unverified", "duplicate", "accepted", "accepted"]);
    expect(all.body.items.map((d) => d.verified)).toEqual([false, true, true, true]);

    const first = await owner.json<Page>("GET", `${base}/deliveries?limit=3`);
    expect(first.body.items).toHaveLength(3);
    const rest = await owner.json<Page>("GET", `${base}/deliveries?limit=3&cursor=${first.body.next_cursor}`);
    expect(rest.body.items.map((d) => d.id)).toEqual([all.body.items[3]?.id]);
    expect(rest.body.next_cursor).toBeNull();

    const onlyAccepted = await owner.json<Page>("GET", `${base}/deliveries?verdict=accepted`);
    expect(onlyAccepted.body.items).toHaveLength(2);
    const future = new Date(Date.now() + 60_000).toISOString();
    expect((await owner.json<Page>("GET", `${base}/deliveries?from=${future}`)).body.items).toEqual([]);

    const one = await owner.json<{ headers: Record<string, string>; body: unknown; run_id: string }>(
      "GET",
      `${base}/deliveries/${accepted.body.delivery_id}`,
    );
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ body: { n: 1 }, run_id: accepted.body.run_id });
    expect(one.body.headers["webhook-signature"]).toBe("[redacted]");
    const unverified = all.body.items[0]?.id ?? "";
    const shown = await owner.json<{ headers: Record<string, string> }>(
      "GET",
      `${base}/deliveries/${unverified}`,
    );
    expect(shown.body.headers.cookie).toBe("[redacted]");

    // A viewer reads the ledger; bad filters and cursors are 4xx; another tenant sees nothing.
    const { client: viewer } = await addMember(owner, slug, "viewer");
    expect((await viewer.json("GET", `${base}/deliveries`)).status).toBe(200);
    expectProblem(await owner.json("GET", `${base}/deliveries?verdict=maybe`), 422);
    expectProblem(await owner.json("GET", `${base}/deliveries?cursor=-1`), 422);
    expectProblem(await owner.json("GET", `${base}/deliveries?limit=1000`), 422);
    expectProblem(await owner.json("GET", `${base}/deliveries/dlv_nope`), 404);
    const other = await ownerWithTenant();
    const foreign = base.replace(`/tenants/${slug}/`, `/tenants/${other.slug}/`);
    expectProblem(await other.owner.json("GET", `${foreign}/deliveries`), 404);
  });

  it("replays one delivery as a new run that names its original, and refuses what was never verified", async () => {
    const { owner, base, send, path, detail, stub } = await hooked("standard");
    const sent = await send<{ delivery_id: string; run_id: string }>("r1", { n: 5 });
    const replay = await owner.json<{ run_id: string; delivery_id: string; replayed_from: string }>(
      "POST",
      `${base}/deliveries/${sent.body.delivery_id}/replay`,
      { body: {} },
    );
    expect(replay.status).toBe(201);
    expect(replay.body.run_id).not.toBe(sent.body.run_id);
    expect(replay.body.replayed_from).toBe(sent.body.delivery_id);
    const run = (await detail(replay.body.run_id)) as unknown as {
      status: string;
      tasks: { output: unknown }[];
      delivery: { delivery_id: string; replayed_from: string };
    };
    expect(run.status).toBe("success");
    expect(run.tasks[0]?.output).toEqual({ value: 5 });
    expect(run.delivery).toEqual({
      delivery_id: replay.body.delivery_id,
      replayed_from: sent.body.delivery_id,
    });
    const recorded = await owner.json<Summary>("GET", `${base}/deliveries/${replay.body.delivery_id}`);
    expect(recorded.body).toMatchObject({ status: "accepted", replayed_from: sent.body.delivery_id });

    await anonymous.json("POST", path, { raw: "{}", headers: { "webhook-id": "x" } });
    const unverified = (await owner.json<Page>("GET", `${base}/deliveries?verdict=unverified`)).body.items[0];
    const refused = await owner.json("POST", `${base}/deliveries/${unverified?.id}/replay`, { body: {} });
    expectProblem(refused, 409);
    expectProblem(await owner.json("POST", `${base}/deliveries/dlv_nope/replay`, { body: {} }), 404);
    expectProblem(
      await owner.json("POST", `${base}/deliveries/${sent.body.delivery_id}/replay`, {
        body: { version: "newest" },
      }),
      422,
    );
    expect((await stub.listRuns({ limit: 10 })).items).toHaveLength(2);
  });

  it("replays a time range once per delivery (dry run first; Idempotency-Key answers the same runs again)", async () => {
    const { owner, base, send, stub, settled } = await hooked("standard");
    const from = new Date(Date.now() - 1000).toISOString();
    for (const n of [1, 2, 3]) expect((await send(`k${n}`, { n })).status).toBe(202);
    await send("k1", { n: 1 }); // a duplicate: not replayed unless asked for
    const to = new Date(Date.now() + 1000).toISOString();
    const range = { from, to, version: "original" };

    const dry = await owner.json<{ runs: ReplayRun[]; dry_run: boolean }>(
      "POST",
      `${base}/deliveries/replay`,
      {
        body: { ...range, dry_run: true },
      },
    );
    expect(dry.status).toBe(200);
    expect(dry.body.runs.map((r) => [r.status, r.run_id])).toEqual([
      ["planned", null],
      ["planned", null],
      ["planned", null],
    ]);
    expect((await stub.listRuns({ limit: 50 })).items).toHaveLength(3);

    const headers = { "idempotency-key": "replay-1" };
    const done = await owner.json<{ runs: ReplayRun[] }>("POST", `${base}/deliveries/replay`, {
      body: range,
      headers,
    });
    expect(done.status).toBe(201);
    expect(done.body.runs.every((r) => r.status === "created" && r.run_id && r.replay_id)).toBe(true);
    const again = await owner.json<{ runs: ReplayRun[] }>("POST", `${base}/deliveries/replay`, {
      body: range,
      headers,
    });
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body.runs).toEqual(done.body.runs);
    await settled();
    expect((await stub.listRuns({ limit: 50 })).items).toHaveLength(6);
    // The replays' own ledger rows are not replayed by the next range replay.
    const next = await owner.json<{ runs: ReplayRun[] }>("POST", `${base}/deliveries/replay`, {
      body: { ...range, dry_run: true },
    });
    expect(next.body.runs).toHaveLength(3);

    expectProblem(
      await owner.json("POST", `${base}/deliveries/replay`, { body: { ...range, to: from } }),
      422,
    );
    expectProblem(
      await owner.json("POST", `${base}/deliveries/replay`, { body: { ...range, verdict: "unverified" } }),
      422,
    );
    expectProblem(await owner.json("POST", `${base}/deliveries/replay`, { body: { from, to } }), 422);
  });

  it("refuses a range of more than 1,000 deliveries with a 422 and creates nothing", async () => {
    const { owner, base, stub } = await hooked("standard");
    const now = Date.now();
    await runInDurableObject(stub, (_instance, state) => {
      for (let i = 0; i < 1_001; i++) {
        state.storage.sql.exec(
          `INSERT INTO deliveries (id, seq, trigger_id, version, verified, received_at, verdict, status, headers, query,
             body, elapsed_ms) VALUES (?, ?, 'in', 1, 1, ?, 'accepted', 202, '[]', '{}', ?, 0)`,
          `dlv_seed_${i}`,
          i + 1,
          now - 10_000 + i,
          new TextEncoder().encode("{}"),
        );
      }
    });
    const range = {
      from: new Date(now - 20_000).toISOString(),
      to: new Date(now).toISOString(),
      version: "latest",
    };
    const refused = await owner.json<{ detail: string }>("POST", `${base}/deliveries/replay`, {
      body: range,
    });
    expectProblem(refused, 422);
    expect(refused.body.detail).toMatch(/at most 1000/);
    expect((await stub.listRuns({ limit: 10 })).items).toEqual([]);
  });
});
