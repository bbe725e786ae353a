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

/** Headers recorded per delivery, and their bytes in all (names and values): the rest is not kept. */
export const RECORDED_HEADERS = 100;
export const RECORDED_HEADER_BYTES = 32 * 1024;

export type Recorded = {
  id: string;
  trigger_id: string;
  /** The pipeline version the delivery was for (replay's "original"). */
  version: number;
  verified: boolean;
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
  version: number;
  verified: number;
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

/** What a replay needs of a stored delivery. */
export type Stored = {
  id: string;
  trigger_id: string;
  version: number;
  verified: boolean;
  verdict: Verdict;
  headers: [string, string][];
  query: Record<string, string>;
  body: Uint8Array;
};

export class DeliveryLedger {
  /** Parsed hook configs, as last synced (null: not read yet). */
  private hooks: Map<string, HookConfig> | null = null;

  constructor(private readonly sql: SqlStorage) {}

  /** The hooks of the latest version replace the ones before. */
  setHooks(hooks: readonly HookConfig[]): void {
    this.hooks = null;
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
    return this.allHooks().get(hookId) ?? null;
  }

  /** The hook of a trigger of the latest version, or null. */
  hookOf(triggerId: string): HookConfig | null {
    for (const hook of this.allHooks().values()) if (hook.trigger.id === triggerId) return hook;
    return null;
  }

  /** Parsed once per sync, not once per delivery. */
  private allHooks(): Map<string, HookConfig> {
    if (this.hooks) return this.hooks;
    const rows = this.sql
      .exec<{ hook_id: string; config: string }>("SELECT hook_id, config FROM hooks")
      .toArray();
    this.hooks = new Map(rows.map((r) => [r.hook_id, parseStored(HookConfig, r.config, "webhook config")]));
    return this.hooks;
  }

  /** Drops rotated-out secrets whose grace ended; returns the earliest grace end still ahead, or null. */
  dropExpiredSecrets(now: number): number | null {
    const hooks = [...this.allHooks().values()];
    const kept = hooks.map((hook) => ({
      ...hook,
      secrets: hook.secrets.filter((s) => s.until === null || s.until > now),
    }));
    if (kept.some((hook, i) => hook.secrets.length !== hooks[i]?.secrets.length)) this.setHooks(kept);
    return graceEnd(kept);
  }

  record(delivery: Recorded): DeliverySummary {
    const seq =
      1 + (this.sql.exec<{ n: number | null }>("SELECT MAX(seq) AS n FROM deliveries").one().n ?? 0);
    this.sql.exec(
      `INSERT INTO deliveries (id, seq, trigger_id, version, verified, received_at, verdict, status, detail, headers,
         query, body, run_id, duplicate_of, replayed_from, elapsed_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      delivery.id,
      seq,
      delivery.trigger_id,
      delivery.version,
      delivery.verified ? 1 : 0,
      delivery.received_at,
      delivery.verdict,
      delivery.status,
      delivery.detail,
      JSON.stringify(redact(capHeaders(delivery.headers))),
      JSON.stringify(delivery.query),
      delivery.body,
      delivery.run_id,
      delivery.duplicate_of,
      delivery.replayed_from,
      delivery.elapsed_ms,
    );
    return summary({ ...delivery, seq, verified: delivery.verified ? 1 : 0, status: delivery.status });
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
        `SELECT id, seq, trigger_id, version, verified, received_at, verdict, status, detail, run_id, duplicate_of,
           replayed_from, elapsed_ms FROM deliveries ${where} ORDER BY seq DESC LIMIT ?`,
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

  /** What a replay needs of a delivery, or null. */
  stored(id: string): Stored | null {
    const row = this.sql
      .exec<Row>(
        "SELECT id, trigger_id, version, verified, verdict, headers, query, body FROM deliveries WHERE id = ?",
        id,
      )
      .toArray()[0];
    return row ? storedOf(row) : null;
  }

  /**
   * The deliveries a range replay re-drives: received in [from, to) with the verdict, oldest first,
   * not themselves replays; at most `limit` (the caller asks one more to tell a range that is too big).
   */
  range(query: { from: number; to: number; verdict: Verdict; limit: number }): Stored[] {
    return this.sql
      .exec<Row>(
        `SELECT id, trigger_id, version, verified, verdict, headers, query, body FROM deliveries
         WHERE received_at >= ? AND received_at < ? AND verdict = ? AND replayed_from IS NULL
         ORDER BY received_at, seq LIMIT ?`,
        query.from,
        query.to,
        query.verdict,
        query.limit,
      )
      .toArray()
      .map(storedOf);
  }

  /** The delivery that started a run, for the run's view: its id and what it replayed. */
  ofRun(runId: string): { delivery_id: string; replayed_from: string | null } | null {
    const row = this.sql
      .exec<{ id: string; replayed_from: string | null }>(
        "SELECT id, replayed_from FROM deliveries WHERE run_id = ? AND verdict = 'accepted' LIMIT 1",
        runId,
      )
      .toArray()[0];
    return row ? { delivery_id: row.id, replayed_from: row.replayed_from } : null;
  }

  /** Deletes up to `limit` deliveries received before `before`; returns the earliest one left, or null. */
  forgetBefore(before: number, limit: number): number | null {
    this.sql.exec(
      "DELETE FROM deliveries WHERE seq IN (SELECT seq FROM deliveries WHERE received_at < ? ORDER BY received_at LIMIT ?)",
      before,
      limit,
    );
    return this.sql.exec<{ at: number | null }>("SELECT MIN(received_at) AS at FROM deliveries").one().at;
  }

  /** Deletes up to `limit` expired dedup keys; returns the earliest expiry left, or null. */
  forgetKeys(now: number, limit: number): number | null {
    this.sql.exec(
      "DELETE FROM dedup_keys WHERE rowid IN (SELECT rowid FROM dedup_keys WHERE expires_at <= ? LIMIT ?)",
      now,
      limit,
    );
    return this.sql.exec<{ at: number | null }>("SELECT MIN(expires_at) AS at FROM dedup_keys").one().at;
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

/** The earliest end of a rotated-out secret's grace among the hooks, or null. */
export function graceEnd(hooks: readonly HookConfig[]): number | null {
  const ends = hooks.flatMap((hook) => hook.secrets.flatMap((s) => (s.until === null ? [] : [s.until])));
  return ends.length === 0 ? null : Math.min(...ends);
}

/**
 * The headers kept: those that say what the delivery is first (content-type, the schemes' ids and
 * timestamps), then the rest in order, within RECORDED_HEADERS and RECORDED_HEADER_BYTES.
 */
export function capHeaders(headers: readonly [string, string][]): [string, string][] {
  const first = (name: string) =>
    /^(content-type|user-agent|webhook-|x-github-|stripe-|x-slack-)/i.test(name) ? 0 : 1;
  const ordered = [...headers].sort((a, b) => first(a[0]) - first(b[0]));
  const kept: [string, string][] = [];
  let bytes = 0;
  for (const [name, value] of ordered) {
    bytes += name.length + value.length;
    if (kept.length >= RECORDED_HEADERS || bytes > RECORDED_HEADER_BYTES) break;
    kept.push([name, value]);
  }
  return kept;
}

/** Headers as recorded: secret-bearing values replaced, names lower-case. */
export function redact(headers: readonly [string, string][]): [string, string][] {
  return headers.map(([name, value]) => {
    const lower = name.toLowerCase();
    return [lower, SECRET_HEADERS.test(lower) ? REDACTED : value];
  });
}

function storedOf(row: Row): Stored {
  return {
    id: row.id,
    trigger_id: row.trigger_id,
    version: row.version,
    verified: row.verified === 1,
    verdict: row.verdict,
    headers: JSON.parse(row.headers) as [string, string][],
    query: JSON.parse(row.query) as Record<string, string>,
    body: new Uint8Array(row.body),
  };
}

export function summary(row: Omit<Row, "headers" | "query" | "body">): DeliverySummary {
  return {
    id: row.id,
    received_at: new Date(row.received_at).toISOString(),
    trigger: row.trigger_id,
    verified: row.verified === 1,
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
