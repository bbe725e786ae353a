/**
 * The object's webhook tables (migrations.ts): the hooks as last synced, the delivery ledger (every
 * delivery with its redacted headers, raw body, verdict, timing and run), and dedup keys within their
 * window. A plain module over the object's SQLite; the object calls it in the turn that decides.
 */
import { parseStored } from "../engine";
import { type DeliveryDetail, type DeliverySummary, HookConfig, type Verdict } from "./types";

/** Header values shown as this: whatever authenticates a delivery. */
export const REDACTED = "[redacted]";
const SECRET_HEADERS =
  /^(authorization|proxy-authorization|cookie|set-cookie|x-hub-signature(-256)?|stripe-signature|x-slack-signature|webhook-signature|x-signature|x-api-key)$/;

export type Recorded = {
  id: string;
  trigger_id: string;
  received_at: number;
  verdict: Verdict;
  status: number;
  detail: string | null;
  headers: [string, string][];
  query: Record<string, string>;
  body: Uint8Array;
  run_id: string | null;
  duplicate_of: string | null;
  replayed_from: string | null;
  elapsed_ms: number;
};

type Row = {
  id: string;
  seq: number;
  trigger_id: string;
  received_at: number;
  verdict: Verdict;
  status: number;
  detail: string | null;
  headers: string;
  query: string;
  body: ArrayBuffer;
  run_id: string | null;
  duplicate_of: string | null;
  replayed_from: string | null;
  elapsed_ms: number;
};

export type DeliveryQuery = { verdict?: Verdict; from?: number; to?: number; limit: number; before?: number };

export class DeliveryLedger {
  constructor(private readonly sql: SqlStorage) {}

  /** The hooks of the latest version replace the ones before. */
  setHooks(hooks: readonly HookConfig[]): void {
    this.sql.exec("DELETE FROM hooks");
    for (const hook of hooks) {
      this.sql.exec(
        "INSERT INTO hooks (hook_id, trigger_id, config) VALUES (?, ?, ?)",
        hook.hook_id,
        hook.trigger.id,
        JSON.stringify(hook),
      );
    }
  }

  hook(hookId: string): HookConfig | null {
    const row = this.sql
      .exec<{ config: string }>("SELECT config FROM hooks WHERE hook_id = ?", hookId)
      .toArray()[0];
    return row ? parseStored(HookConfig, row.config, "webhook config") : null;
  }

  record(delivery: Recorded): void {
    const seq = this.sql.exec<{ n: number | null }>("SELECT MAX(seq) AS n FROM deliveries").one().n ?? 0;
    this.sql.exec(
      `INSERT INTO deliveries (id, seq, trigger_id, received_at, verdict, status, detail, headers, query, body,
         run_id, duplicate_of, replayed_from, elapsed_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      delivery.id,
      seq + 1,
      delivery.trigger_id,
      delivery.received_at,
      delivery.verdict,
      delivery.status,
      delivery.detail,
      JSON.stringify(redact(delivery.headers)),
      JSON.stringify(delivery.query),
      delivery.body,
      delivery.run_id,
      delivery.duplicate_of,
      delivery.replayed_from,
      delivery.elapsed_ms,
    );
  }

  /** Newest first; `before` is the cursor (a seq). */
  list(query: DeliveryQuery): { items: DeliverySummary[]; next: number | null } {
    const clauses: string[] = [];
    const args: SqlStorageValue[] = [];
    if (query.verdict) clauses.push("verdict = ?") && args.push(query.verdict);
    if (query.from !== undefined) clauses.push("received_at >= ?") && args.push(query.from);
    if (query.to !== undefined) clauses.push("received_at < ?") && args.push(query.to);
    if (query.before !== undefined) clauses.push("seq < ?") && args.push(query.before);
    const where = clauses.length > 0 ? `WHERE ${clauses.join(" AND ")}` : "";
    const rows = this.sql
      .exec<Omit<Row, "headers" | "query" | "body">>(
        `SELECT id, seq, trigger_id, received_at, verdict, status, detail, run_id, duplicate_of, replayed_from,
           elapsed_ms FROM deliveries ${where} ORDER BY seq DESC LIMIT ?`,
        ...args,
        query.limit + 1,
      )
      .toArray();
    const page = rows.slice(0, query.limit);
    return {
      items: page.map(summary),
      next: rows.length > query.limit ? (page.at(-1)?.seq ?? null) : null,
    };
  }

  get(id: string): DeliveryDetail | null {
    const row = this.sql.exec<Row>("SELECT * FROM deliveries WHERE id = ?", id).toArray()[0];
    if (!row) return null;
    const body = new Uint8Array(row.body);
    return {
      ...summary(row),
      detail: row.detail,
      headers: Object.fromEntries(JSON.parse(row.headers) as [string, string][]),
      query: JSON.parse(row.query) as Record<string, string>,
      body: bodyValue(body),
      body_bytes: body.length,
      elapsed_ms: row.elapsed_ms,
    };
  }

  /** The delivery and run a dedup key already led to within its window, or null. */
  seen(triggerId: string, key: string, now: number): { delivery: string; run: string } | null {
    return (
      this.sql
        .exec<{ delivery: string; run: string }>(
          "SELECT delivery, run FROM dedup_keys WHERE trigger_id = ? AND key = ? AND expires_at > ?",
          triggerId,
          key,
          now,
        )
        .toArray()[0] ?? null
    );
  }

  rememberKey(triggerId: string, key: string, delivery: string, run: string, expiresAt: number): void {
    this.sql.exec(
      `INSERT INTO dedup_keys (trigger_id, key, delivery, run, expires_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (trigger_id, key) DO UPDATE SET delivery = excluded.delivery, run = excluded.run,
         expires_at = excluded.expires_at`,
      triggerId,
      key,
      delivery,
      run,
      expiresAt,
    );
  }
}

/** Headers as recorded: secret-bearing values replaced, names lower-case. */
export function redact(headers: readonly [string, string][]): [string, string][] {
  return headers.map(([name, value]) => {
    const lower = name.toLowerCase();
    return [lower, SECRET_HEADERS.test(lower) ? REDACTED : value];
  });
}

function summary(row: Omit<Row, "headers" | "query" | "body">): DeliverySummary {
  return {
    id: row.id,
    received_at: new Date(row.received_at).toISOString(),
    trigger: row.trigger_id,
    verified: row.verdict !== "unverified" && row.verdict !== "too_large" && row.verdict !== "paused",
    status: row.verdict,
    http_status: row.status,
    run_id: row.run_id,
    duplicate_of: row.duplicate_of,
    replayed_from: row.replayed_from,
  };
}

/** What `trigger.body` is: JSON when the body parses as JSON, else its text. */
export function bodyValue(body: Uint8Array): unknown {
  const text = new TextDecoder().decode(body);
  if (text.trim() === "") return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
