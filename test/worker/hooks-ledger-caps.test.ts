/**
 * The ledger's byte caps (ledger.ts): deliveries anyone can send have their own, smaller cap and go
 * before verified history, so a stranger who knows a hook URL cannot evict what people replay; and the
 * counts are the bytes SQLite stores, not string lengths.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  DeliveryLedger,
  type LedgerCaps,
  MAX_EXPENDABLE_BYTES,
  MAX_LEDGER_BYTES,
  type Recorded,
} from "../../worker/hooks/ledger";
import { SWEEP_BATCH } from "../../worker/hooks/sweeps";
import type { Verdict } from "../../worker/hooks/types";
import { anonymous, hooked, standardHeaders } from "./hooks-helpers";

let received = Date.parse("2030-01-01T00:00:00Z");

/** A delivery of `bytes` as the ledger counts them: its body and its empty headers ("[]") and query ("{}"). */
function sized(id: string, verdict: Verdict, bytes: number): Recorded {
  return delivery(id, verdict, bytes - 4);
}

function delivery(id: string, verdict: Verdict, bodyBytes: number): Recorded {
  received += 1_000;
  return {
    id,
    trigger_id: "in",
    version: 1,
    verified: verdict !== "unverified" && verdict !== "too_large",
    received_at: received,
    verdict,
    status: verdict === "accepted" ? 202 : 401,
    detail: null,
    headers: [],
    query: {},
    body: new Uint8Array(bodyBytes),
    truncated: false,
    run_id: null,
    duplicate_of: null,
    replayed_from: null,
    elapsed_ms: 1,
  };
}

type Left = { accepted: string[]; expendable: string[]; usage: { bytes: number; expendable_bytes: number } };

/** What the rows say, read from SQLite (the observer), and the counts the ledger keeps. */
function left(sql: SqlStorage): Left {
  const ids = (where: string) =>
    sql
      .exec<{ id: string }>(`SELECT id FROM deliveries WHERE ${where} ORDER BY seq`)
      .toArray()
      .map((row) => row.id);
  return {
    accepted: ids("verdict = 'accepted'"),
    expendable: ids("verdict != 'accepted'"),
    usage: sql.exec<Left["usage"]>("SELECT bytes, expendable_bytes FROM ledger_usage").one(),
  };
}

/** Sweeps as the retention timer does, a small batch at a time, checking each batch's victims. */
function sweepChecked(ledger: DeliveryLedger, sql: SqlStorage): void {
  for (let more = true; more; ) {
    const before = left(sql);
    more = ledger.evict(1);
    const after = left(sql);
    const lost = before.accepted.filter((id) => !after.accepted.includes(id));
    // An accepted delivery is evicted only when no expendable one was left to take instead.
    if (lost.length > 0) expect(before.expendable).toEqual([]);
  }
}

async function withLedger<T>(caps: LedgerCaps, work: (ledger: DeliveryLedger, sql: SqlStorage) => T) {
  const { stub } = await hooked("standard");
  return runInDurableObject(stub, (_instance, state) => {
    const sql = state.storage.sql;
    return work(new DeliveryLedger(sql, caps), sql);
  });
}

describe("delivery ledger caps", () => {
  it("evicts the oldest unverified deliveries under their own cap and never an accepted one", async () => {
    const result = await withLedger({ total: 1_000_000, expendable: 3_000 }, (ledger, sql) => {
      ledger.record(delivery("a1", "accepted", 500));
      ledger.record(delivery("a2", "accepted", 500));
      for (let i = 0; i < 40; i++) {
        ledger.record(delivery(`u${i}`, i % 5 === 0 ? "too_large" : "unverified", 300));
        sweepChecked(ledger, sql);
      }
      return left(sql);
    });
    expect(result.accepted).toEqual(["a1", "a2"]);
    // The newest unverified ones are kept, up to the cap.
    expect(result.expendable.at(-1)).toBe("u39");
    expect(result.expendable).not.toContain("u0");
    expect(result.usage.expendable_bytes).toBeLessThanOrEqual(3_000);
    expect(result.usage.expendable_bytes).toBeGreaterThan(3_000 - 400);
  });

  it("over the whole cap, takes expendable deliveries first and verified ones only when none is left", async () => {
    const result = await withLedger({ total: 3_100, expendable: 1_000_000 }, (ledger, sql) => {
      const steps: Left[] = [];
      ledger.record(delivery("a1", "accepted", 1_000));
      for (const id of ["u1", "u2", "u3"]) ledger.record(delivery(id, "unverified", 300));
      ledger.record(delivery("f1", "filtered", 300));
      ledger.record(delivery("a2", "accepted", 1_000));
      sweepChecked(ledger, sql);
      steps.push(left(sql));
      ledger.record(delivery("a3", "accepted", 1_200));
      sweepChecked(ledger, sql);
      steps.push(left(sql));
      return steps;
    });
    // Over 3,100 bytes: the oldest expendable one goes, the accepted ones stay.
    expect(result[0]).toMatchObject({ accepted: ["a1", "a2"], expendable: ["u2", "u3", "f1"] });
    // A third accepted one: the rest of the expendable ones go, then the oldest accepted one.
    expect(result[1]).toMatchObject({ accepted: ["a2", "a3"], expendable: [] });
    expect(result[1]?.usage.bytes).toBeLessThanOrEqual(3_100);
  });

  it("evicts a flood of unverified deliveries by timer without touching accepted ones", async () => {
    const { path, send, stub } = await hooked("standard");
    for (const id of ["k1", "k2"]) expect((await send(id, { n: 1 })).status).toBe(202);
    // As if a flood had filled the expendable cap already: the next unverified delivery arms the sweep.
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec("UPDATE ledger_usage SET expendable_bytes = ?", MAX_EXPENDABLE_BYTES);
    });
    const unsigned = { "webhook-id": "x", "webhook-timestamp": "1", "webhook-signature": "v1,AAAA" };
    for (let i = 0; i < 3; i++) {
      expect((await anonymous.json("POST", path, { raw: "{}", headers: unsigned })).status).toBe(401);
    }
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const rows = await runInDurableObject(stub, (_instance, state) =>
      state.storage.sql
        .exec<{ verdict: string }>("SELECT verdict FROM deliveries ORDER BY seq")
        .toArray()
        .map((row) => row.verdict),
    );
    expect(rows).toEqual(["accepted", "accepted"]);
  });

  it("counts a delivery's bytes as UTF-8, as SQLite stores them", async () => {
    const { path, secret, stub } = await hooked("standard");
    const raw = JSON.stringify({ n: 1, text: "héllo wörld €€€ 🚀🚀" });
    const query = "?note=%E2%82%AC%E2%82%AC%F0%9F%9A%80&city=K%C3%B8benhavn";
    const sent = await anonymous.json("POST", `${path}${query}`, {
      raw,
      headers: standardHeaders(secret, "utf8-1", raw),
    });
    expect(sent.status).toBe(202);
    const counted = await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql;
      return {
        usage: sql.exec<{ bytes: number }>("SELECT bytes FROM ledger_usage").one().bytes,
        row: sql
          .exec<{ bytes: number; stored: number; chars: number }>(
            `SELECT bytes,
               length(body) + length(CAST(headers AS BLOB)) + length(CAST(query AS BLOB)) AS stored,
               length(CAST(body AS TEXT)) + length(headers) + length(query) AS chars
             FROM deliveries`,
          )
          .one(),
      };
    });
    // SQLite's own byte lengths are the observer; the characters are fewer (the body and query are not ASCII).
    expect(counted.row.bytes).toBe(counted.row.stored);
    expect(counted.usage).toBe(counted.row.stored);
    expect(counted.row.chars).toBeLessThan(counted.row.stored);
  });

  it("over the whole cap by a few bytes, evicts the oldest expendable deliveries that bring it under and no more", async () => {
    const result = await withLedger({ total: 2_000, expendable: 1_000_000 }, (ledger, sql) => {
      const steps: { over: boolean; left: Left }[] = [];
      ledger.record(sized("a1", "accepted", 500));
      for (const id of ["u1", "u2", "u3", "u4", "u5"]) ledger.record(sized(id, "unverified", 300));
      // At the cap: nothing goes.
      steps.push({ over: ledger.evict(SWEEP_BATCH), left: left(sql) });
      // Five bytes over: the oldest expendable one is enough.
      ledger.record(sized("u6", "unverified", 5));
      steps.push({ over: ledger.evict(SWEEP_BATCH), left: left(sql) });
      // 301 bytes over: it takes the two oldest.
      ledger.record(sized("a2", "accepted", 596));
      steps.push({ over: ledger.evict(SWEEP_BATCH), left: left(sql) });
      return steps;
    });
    expect(result[0]).toMatchObject({ over: false, left: { expendable: ["u1", "u2", "u3", "u4", "u5"] } });
    expect(result[1]).toMatchObject({
      over: false,
      left: { accepted: ["a1"], expendable: ["u2", "u3", "u4", "u5", "u6"], usage: { bytes: 1_705 } },
    });
    expect(result[2]).toMatchObject({
      over: false,
      left: { accepted: ["a1", "a2"], expendable: ["u4", "u5", "u6"], usage: { bytes: 1_701 } },
    });
  });

  it("over the expendable cap by a few bytes, evicts only the oldest expendable delivery", async () => {
    const result = await withLedger({ total: 1_000_000, expendable: 900 }, (ledger, sql) => {
      ledger.record(sized("a1", "accepted", 500));
      for (const id of ["u1", "u2", "u3"]) ledger.record(sized(id, "unverified", 300));
      ledger.record(sized("d1", "duplicate", 4));
      return { over: ledger.evict(SWEEP_BATCH), left: left(sql) };
    });
    expect(result).toMatchObject({
      over: false,
      left: {
        accepted: ["a1"],
        expendable: ["u2", "u3", "d1"],
        usage: { bytes: 1_104, expendable_bytes: 604 },
      },
    });
  });

  it("evicts verified deliveries only when no expendable one is left, and only the oldest ones needed", async () => {
    const result = await withLedger({ total: 1_000, expendable: 1_000_000 }, (ledger, sql) => {
      const steps: { over: boolean; left: Left }[] = [];
      ledger.record(sized("a1", "accepted", 300));
      ledger.record(sized("a2", "accepted", 300));
      ledger.record(sized("f1", "filtered", 100));
      ledger.record(sized("a3", "accepted", 300));
      ledger.record(sized("a4", "accepted", 300));
      for (let i = 0; i < 2; i++) steps.push({ over: ledger.evict(SWEEP_BATCH), left: left(sql) });
      return steps;
    });
    // 300 bytes over: the expendable one goes first, though it frees too little.
    expect(result[0]).toMatchObject({
      over: true,
      left: { accepted: ["a1", "a2", "a3", "a4"], expendable: [] },
    });
    // Then the oldest verified one, which is enough.
    expect(result[1]).toMatchObject({
      over: false,
      left: { accepted: ["a2", "a3", "a4"], usage: { bytes: 900 } },
    });
  });

  it("a byte over the cap, the retention timer evicts the oldest expendable delivery and keeps the rest", async () => {
    const { path, send, stub } = await hooked("standard");
    expect((await send("k1", { n: 1 })).status).toBe(202);
    const unsigned = { "webhook-id": "x", "webhook-timestamp": "1", "webhook-signature": "v1,AAAA" };
    const stranger = () => anonymous.json("POST", path, { raw: "{}", headers: unsigned });
    for (let i = 0; i < 2; i++) expect((await stranger()).status).toBe(401);
    // The next one, as many bytes as these, takes the ledger one byte over its cap and arms the sweep.
    await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql;
      const each = sql
        .exec<{ bytes: number }>("SELECT bytes FROM deliveries WHERE verdict = 'unverified' LIMIT 1")
        .one().bytes;
      sql.exec("UPDATE ledger_usage SET bytes = ?", MAX_LEDGER_BYTES - each + 1);
    });
    expect((await stranger()).status).toBe(401);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const rows = await runInDurableObject(stub, (_instance, state) =>
      state.storage.sql
        .exec<{ verdict: string }>("SELECT verdict FROM deliveries ORDER BY seq")
        .toArray()
        .map((row) => row.verdict),
    );
    expect(rows).toEqual(["accepted", "unverified", "unverified"]);
  });
});
