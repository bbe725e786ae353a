/**
 * What a sender who knows a hook URL (or holds a captured delivery) can and cannot make a pipeline do:
 * replays under other spellings of a signature, credentials leaking into a run's view, bodies that
 * fill the object's storage, replays of what was not kept whole.
 */

import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { sign as githubSign } from "@octokit/webhooks-methods";
import { describe, expect, it } from "vitest";
import { REJECTED_BODY_BYTES } from "../../worker/hooks/desk";
import { MAX_LEDGER_BYTES } from "../../worker/hooks/ledger";
import { addMember, expectProblem } from "./helpers";
import { anonymous, hooked } from "./hooks-helpers";

const big = (n: number) => JSON.stringify({ n: 1, pad: "x".repeat(n) });

describe("webhook abuse", () => {
  it("treats a captured GitHub delivery sent again with its signature in upper case or spaced as a duplicate", async () => {
    const { path, secret, stub } = await hooked("github");
    const body = JSON.stringify({ n: 1, action: "opened" });
    const signature = await githubSign(secret, body);
    const hex = signature.slice("sha256=".length);
    const statuses: unknown[] = [];
    for (const spelling of [signature, `sha256=${hex.toUpperCase()}`, `sha256=${hex} `, `sha256= ${hex}`]) {
      const headers = { "x-hub-signature-256": spelling };
      const res = await anonymous.json("POST", path, { raw: body, headers });
      statuses.push(res.status === 200 ? res.body.duplicate : res.status);
    }
    // Verified spellings are the same delivery; one that verification does not accept is refused.
    expect(statuses).toEqual([202, true, true, 401]);
    expect((await stub.listRuns({ limit: 10 })).items).toHaveLength(1);
  });

  it("never shows a bearer token or basic credentials in a run's trigger headers", async () => {
    const { owner, base, path, trigger, slug, detail } = await hooked("bearer");
    const { secret } = await trigger();
    const sent = await anonymous.json<{ run_id: string }>("POST", path, {
      raw: "{}",
      headers: { authorization: `Bearer ${secret}` },
    });
    expect(sent.status).toBe(202);
    await detail(sent.body.run_id);
    const { client: viewer } = await addMember(owner, slug, "viewer");
    const run = await viewer.json<{ trigger_payload: { headers: Record<string, string> } }>(
      "GET",
      `${base}/runs/${sent.body.run_id}`,
    );
    expect(run.body.trigger_payload.headers.authorization).toBe("[redacted]");
    expect(JSON.stringify(run.body)).not.toContain(secret ?? "no secret");
  });

  it("redacts the signature header a generic HMAC trigger names, in the ledger and the run", async () => {
    const { owner, base, slug } = await hooked("hmac", { verify: { scheme: "hmac", header: "x-my-sig" } });
    const sent = await owner.json<{ body: { delivery_id: string } }>(
      "POST",
      `${base}/triggers/in/test-delivery`,
      {
        body: {},
      },
    );
    const delivery = await owner.json<{ headers: Record<string, string> }>(
      "GET",
      `/api/tenants/${slug}/pipelines/demo/deliveries/${sent.body.body.delivery_id}`,
    );
    expect(delivery.body.headers["x-my-sig"]).toBe("[redacted]");
  });

  it("generates basic credentials a sender's client can use as user:password", async () => {
    const { path, secret } = await hooked("basic");
    expect(secret).toMatch(/^updraft:[A-Za-z0-9_-]+$/);
    const res = await anonymous.json("POST", path, {
      raw: "{}",
      headers: { authorization: `Basic ${btoa(secret)}` },
    });
    expect(res.status).toBe(202);
  });

  it("keeps only the start of a filtered body, and refuses to replay what it did not keep whole", async () => {
    const { owner, base, send, stub } = await hooked("standard", { filter: "body.n > 5" });
    const filtered = await send<{ delivery_id: string }>("f1", big(900 * 1024));
    expect(filtered.status).toBe(200);
    const stored = await runInDurableObject(stub, (_instance, state) =>
      state.storage.sql
        .exec<{ n: number; truncated: number }>("SELECT length(body) AS n, truncated FROM deliveries")
        .one(),
    );
    expect(stored).toEqual({ n: REJECTED_BODY_BYTES, truncated: 1 });
    const refused = await owner.json<{ detail: string }>(
      "POST",
      `${base}/deliveries/${filtered.body.delivery_id}/replay`,
      {
        body: {},
      },
    );
    expectProblem(refused, 409);
    expect(refused.body.detail).toMatch(/not kept whole/);
    expect((await stub.listRuns({ limit: 10 })).items).toEqual([]);
  });

  it("evicts the oldest deliveries once the ledger is over its bytes, by timer", async () => {
    const { send, stub } = await hooked("standard");
    for (const id of ["e1", "e2", "e3"]) expect((await send(id, { n: 1 })).status).toBe(202);
    // As if the ledger held MAX_LEDGER_BYTES already: the next delivery arms the sweep at once.
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec("UPDATE ledger_usage SET bytes = bytes + ?", MAX_LEDGER_BYTES + 1_000_000);
    });
    expect((await send("e4", { n: 1 })).status).toBe(202);
    await runDurableObjectAlarm(stub);
    const left = await runInDurableObject(stub, (_instance, state) => ({
      deliveries: state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM deliveries").one().n,
      usage: state.storage.sql.exec<{ bytes: number }>("SELECT bytes FROM ledger_usage").one().bytes,
    }));
    // Every real row's bytes came off the count; what is left is the pretend part, still over: all went.
    expect(left.deliveries).toBe(0);
    expect(left.usage).toBe(MAX_LEDGER_BYTES + 1_000_000);
    // The next sweep finds no row to free: the count is set from the rows, and the timer stops.
    await runInDurableObject(stub, async (_instance, state) => {
      state.storage.sql.exec("UPDATE timers SET at = 1 WHERE kind = 'hooks'");
      await state.storage.setAlarm(Date.now());
    });
    await runDurableObjectAlarm(stub);
    const after = await runInDurableObject(stub, (_instance, state) => ({
      usage: state.storage.sql.exec<{ bytes: number }>("SELECT bytes FROM ledger_usage").one().bytes,
      timers: state.storage.sql
        .exec("SELECT id FROM timers WHERE kind = 'hooks' AND id = 'retention'")
        .toArray(),
    }));
    expect(after).toEqual({ usage: 0, timers: [] });
  });
});
