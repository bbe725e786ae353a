/**
 * What the desk decides for deliveries that are signed correctly but ask for something (issue 12 §1,
 * §3, §4, §6): schema, filter, dedupe expressions, respond sync, bodies that are not JSON or UTF-8,
 * the quota and the recording budget; and what the ledger's timers clean up.
 */
import {
  createExecutionContext,
  runDurableObjectAlarm,
  runInDurableObject,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { UNVERIFIED_RECORDS_PER_MINUTE } from "../../worker/hooks/desk";
import { DELIVERY_RETENTION_MS } from "../../worker/hooks/sweeps";
import worker from "../../worker/index";
import { ORIGIN } from "./helpers";
import { anonymous, hooked, hookSpec, standardHeaders, syncedNow } from "./hooks-helpers";

type Page = { items: { status: string; run_id: string | null }[] };

describe("webhook checks", () => {
  it("answers 422 with the schema's path, 200 filtered, and dedups by the dedupe expression within its window", async () => {
    const { send, stub } = await hooked("standard", {
      schema: { type: "object", required: ["n"], properties: { n: { type: "integer" } } },
      filter: "body.n > 0",
      dedupe: "body.order",
    });
    const invalid = await send<{ detail: string }>("s1", { n: "one" });
    expect(invalid.status).toBe(422);
    expect(invalid.body.detail).toMatch(/schema/);
    const filtered = await send<{ filtered: boolean; delivery_id: string }>("s2", { n: 0 });
    expect(filtered.status).toBe(200);
    expect(filtered.body).toMatchObject({ filtered: true });
    const first = await send<{ run_id: string }>("s3", { n: 1, order: "o-1" });
    expect(first.status).toBe(202);
    // Another message id, the same order: the dedupe expression decides.
    const again = await send<{ run_id: string; duplicate: boolean }>("s4", { n: 2, order: "o-1" });
    expect(again.body).toMatchObject({ run_id: first.body.run_id, duplicate: true });
    expect((await send("s5", { n: 3, order: "o-2" })).status).toBe(202);
    expect((await stub.listRuns({ limit: 10 })).items).toHaveLength(2);
    const ledger = await stub.listDeliveries({ limit: 10 });
    expect(ledger.items.map((d) => d.status)).toEqual([
      "accepted",
      "duplicate",
      "accepted",
      "filtered",
      "invalid",
    ]);
  });

  it("answers a respond: sync delivery with the run's output when it finishes in time", async () => {
    const { send } = await hooked("standard", { respond: { mode: "sync", deadline_ms: 5_000 } });
    const answered = await send<{ run_id: string; status: string; output: unknown }>("y1", { n: 4 });
    expect(answered.status).toBe(200);
    expect(answered.body).toMatchObject({ status: "success", output: { echo: { value: 4 } } });
  });

  it("answers a respond: sync delivery 202 with its status URL when the run outlives the deadline", async () => {
    const nap = [{ id: "nap", uses: "core/sleep@^1", with: { duration: "1h" } }];
    const { send } = await hooked("standard", { respond: { mode: "sync", deadline_ms: 200 } }, nap);
    const started = performance.now();
    const answered = await send<{ run_id: string; status_url: string }>("y2", { n: 1 });
    expect(answered.status).toBe(202);
    expect(answered.body.status_url).toMatch(new RegExp(`/runs/${answered.body.run_id}$`));
    // It waited for the deadline, not longer (the sleep is an hour).
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it("keeps a body that is not JSON as text, and answers 413 when its text would be too large for the run", async () => {
    const { path, secret, detail } = await hooked("standard", {}, [
      { id: "echo", uses: "core/noop@^1", with: { value: "{{ trigger.body }}" } },
    ]);
    const text = "plain text, not JSON";
    const sent = await anonymous.json<{ run_id: string }>("POST", path, {
      raw: text,
      contentType: "text/plain",
      headers: standardHeaders(secret, "t1", text),
    });
    expect(sent.status).toBe(202);
    expect((await detail(sent.body.run_id)).tasks[0]?.output).toEqual({ value: text });
    // 600 KiB of control characters: as trigger.body text, JSON escapes each as \u0001 (6 bytes).
    const controls = "\u0001".repeat(600 * 1024);
    const big = await anonymous.json<{ detail: string }>("POST", path, {
      raw: controls,
      contentType: "text/plain",
      headers: standardHeaders(secret, "t2", controls),
    });
    expect(big.status).toBe(413);
    expect(big.body.detail).toMatch(/larger than 1.5 MiB/);
    // Bytes that are not UTF-8, unsigned: a 401 like any other, never a 500.
    const latin = new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]);
    const odd = await anonymous.json("POST", path, {
      raw: latin,
      contentType: "text/plain",
      headers: { "webhook-id": "t3" },
    });
    expect(odd.status).toBe(401);
  });

  it("answers 413 for a 1.5 MiB body sent in chunks without Content-Length, and creates nothing", async () => {
    const { path, stub } = await hooked("standard");
    const chunk = new Uint8Array(64 * 1024).fill(0x61);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 24) return controller.close();
        sent++;
        controller.enqueue(chunk);
      },
    });
    const response = await worker.fetch(
      new Request(`${ORIGIN}${path}`, {
        method: "POST",
        body,
        headers: { "content-type": "application/json" },
      }),
      env,
      createExecutionContext(),
    );
    expect(response.status).toBe(413);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect((await stub.listRuns({ limit: 10 })).items).toEqual([]);
  });

  it("answers 429 with Retry-After over the tenant's deliveries per minute, and records it", async () => {
    const { path, secret, stub } = await hooked("standard");
    const post = async (id: string) => {
      const raw = JSON.stringify({ n: 1 });
      const ctx = createExecutionContext();
      const request = new Request(`${ORIGIN}${path}`, {
        method: "POST",
        body: raw,
        headers: { "content-type": "application/json", ...standardHeaders(secret, id, raw) },
      });
      const response = await worker.fetch(request, { ...env, QUOTA_DELIVERIES_PER_MINUTE: "2" }, ctx);
      await waitOnExecutionContext(ctx);
      return response;
    };
    expect((await post("q1")).status).toBe(202);
    expect((await post("q2")).status).toBe(202);
    const refused = await post("q3");
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await stub.listRuns({ limit: 10 })).items).toHaveLength(2);
    expect((await stub.listDeliveries({ limit: 1 })).items[0]?.status).toBe("over_quota");
  });

  it("records at most its budget of unverified deliveries a minute, and answers every one 401", async () => {
    const { path, stub } = await hooked("standard");
    const answers = await Promise.all(
      Array.from({ length: UNVERIFIED_RECORDS_PER_MINUTE + 10 }, (_, i) =>
        anonymous.json("POST", path, { raw: "{}", headers: { "webhook-id": `u${i}` } }),
      ),
    );
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([401]));
    const page = (await stub.listDeliveries({ limit: 500 })) as Page;
    // A minute boundary during the burst may let a few more in; never all of them.
    expect(page.items.length).toBeGreaterThanOrEqual(UNVERIFIED_RECORDS_PER_MINUTE - 10);
    expect(page.items.length).toBeLessThan(UNVERIFIED_RECORDS_PER_MINUTE + 10);
  });

  it("forgets deliveries after the retention and dedup keys after their window, by timer", async () => {
    const { send, stub } = await hooked("standard", { dedupe_window: "1s" });
    expect((await send("w1", { n: 1 })).status).toBe(202);
    const timers = () =>
      runInDurableObject(stub, (_instance, state) =>
        state.storage.sql
          .exec<{ id: string; at: number }>("SELECT id, at FROM timers WHERE kind = 'hooks' ORDER BY id")
          .toArray(),
      );
    const armed = await timers();
    expect(armed.map((t) => t.id)).toEqual(["dedup", "retention"]);
    // Make the delivery old and the key expired, then let the alarm run the sweeps.
    await runInDurableObject(stub, async (_instance, state) => {
      const sql = state.storage.sql;
      sql.exec("UPDATE deliveries SET received_at = received_at - ?", DELIVERY_RETENTION_MS + 1);
      sql.exec("UPDATE dedup_keys SET expires_at = 1");
      sql.exec("UPDATE timers SET at = 1 WHERE kind = 'hooks'");
      await state.storage.setAlarm(Date.now());
    });
    await runDurableObjectAlarm(stub);
    const left = await runInDurableObject(stub, (_instance, state) => ({
      deliveries: state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM deliveries").one().n,
      keys: state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM dedup_keys").one().n,
    }));
    expect(left).toEqual({ deliveries: 0, keys: 0 });
    expect(await timers()).toEqual([]);
    // The same message id is a new delivery once its key expired.
    expect((await send("w1", { n: 1 })).status).toBe(202);
  });

  it("keeps the newer state when an older sync arrives late: a save's, or the unpause before a pause", async () => {
    const { owner, base, send, stub } = await hooked("standard");
    // What the object was told at the first save, as it was sent (identity, version 1, its hooks).
    const first = await syncedNow(stub);
    const spec = hookSpec("standard", { filter: "body.n > 10" });
    expect((await owner.json("PUT", base, { body: spec })).status).toBe(200);
    expect((await send("late-1", { n: 1 })).status).toBe(200); // v2 filters it out
    await stub.syncSchedule(first);
    expect((await send("late-2", { n: 2 })).status).toBe(200); // still v2's filter

    // Pause, then the sync of the state before it (same version, unpaused) arrives: still paused.
    const unpaused = await syncedNow(stub);
    expect((await owner.json("POST", `${base}/pause`)).status).toBe(200);
    await stub.syncSchedule(unpaused);
    expect((await send("late-3", { n: 20 })).status).toBe(410);
  });

  it("answers 404 for a deleted pipeline's hooks, also after a sync that was on its way", async () => {
    const { owner, base, path, secret, stub } = await hooked("standard");
    const before = await syncedNow(stub);
    expect((await owner.json("DELETE", base)).status).toBe(204);
    const raw = "{}";
    const post = () => anonymous.json("POST", path, { raw, headers: standardHeaders(secret, "z", raw) });
    expect((await post()).status).toBe(404);
    // The sync of the state before the deletion, with its real hooks, does not bring them back.
    expect(await stub.syncSchedule(before)).toBeNull();
    expect((await post()).status).toBe(404);
  });
});
