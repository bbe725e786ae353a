/**
 * The delivery ledger (migrations.ts): every delivery with its redacted headers, body, verdict,
 * timing and run, and the dedup keys within their window. A plain module over the object's SQLite;
 * the object calls it in the turn that decides. Its size is bounded twice: by time (retention, the
 * sweeps) and by UTF-8 bytes, kept as running counts in `ledger_usage`.
 *
 * Deliveries anyone who knows the URL can send, and those that started nothing, are *expendable*: a
 * stranger must not be able to push out the verified history people replay. They have their own, much
 * smaller cap (MAX_EXPENDABLE_BYTES), and over either cap they are evicted before any other delivery.
 */
import { capHeaders, redact } from "./headers";
import type { DeliveryDetail, DeliverySummary, Verdict } from "./types";

/** The ledger's bytes (bodies, headers, queries) beyond which the oldest deliveries are evicted. */
export const MAX_LEDGER_BYTES = 256 * 1024 * 1024;
/**
 * The bytes of expendable deliveries beyond which the oldest of them are evicted. At the desk's 120
 * unverified records a minute of at most 16 KiB each, a flood fills this in about a quarter of an hour
 * and then only churns through itself.
 */
export const MAX_EXPENDABLE_BYTES = 32 * 1024 * 1024;
/**
 * Verdicts of verified deliveries that started nothing a replay needs whole (duplicate, filtered,
 * invalid) or that anyone could send (unverified, too_large): the desk cuts their body, and the
 * ledger files them as expendable. Paused, over-quota and failed deliveries keep theirs, to be replayed.
 */
export const CUT_VERDICTS: ReadonlySet<Verdict> = new Set<Verdict>([
  "unverified",
  "duplicate",
  "filtered",
  "invalid",
  "too_large",
]);

/** Byte caps: the whole ledger, and its expendable deliveries (tests pass small ones). */
export type LedgerCaps = { total: number; expendable: number };
const CAPS: LedgerCaps = { total: MAX_LEDGER_BYTES, expendable: MAX_EXPENDABLE_BYTES };

/** Whether a delivery is filed as expendable: unverified (anyone could send it) or of a cut verdict. */
export function isExpendable(delivery: { verified: boolean; verdict: Verdict }): boolean {
  return !delivery.verified || CUT_VERDICTS.has(delivery.verdict);
}

const utf8 = new TextEncoder();

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
  /** The body was cut before it was recorded: it cannot be replayed. */
  truncated: boolean;
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
  truncated: number;
  run_id: string | null;
  duplicate_of: string | null;
  replayed_from: string | null;
  elapsed_ms: number;
};

export type DeliveryQuery = { verdict?: Verdict; from?: number; to?: number; limit: number; before?: number };

/** What a replay needs of a stored delivery; its body is read when its run is created (body()). */
export type Stored = {
  id: string;
  trigger_id: string;
  version: number;
  verified: boolean;
  truncated: boolean;
  verdict: Verdict;
  headers: [string, string][];
  query: Record<string, string>;
  body_bytes: number;
};

type Usage = { bytes: number; expendable_bytes: number };

export class DeliveryLedger {
  constructor(
    private readonly sql: SqlStorage,
    private readonly caps: LedgerCaps = CAPS,
  ) {}

  record(delivery: Recorded): DeliverySummary {
    const headers = JSON.stringify(redact(capHeaders(delivery.headers)));
    const query = JSON.stringify(delivery.query);
    // Bytes as stored: a string's length counts UTF-16 units, which undercounts anything not ASCII.
    const bytes = delivery.body.byteLength + utf8.encode(headers).byteLength + utf8.encode(query).byteLength;
    const expendable = isExpendable(delivery);
    this.sql.exec(
      "UPDATE ledger_usage SET bytes = bytes + ?, expendable_bytes = expendable_bytes + ? WHERE id = 1",
      bytes,
      expendable ? bytes : 0,
    );
    const seq =
      1 + (this.sql.exec<{ n: number | null }>("SELECT MAX(seq) AS n FROM deliveries").one().n ?? 0);
    this.sql.exec(
      `INSERT INTO deliveries (id, seq, trigger_id, version, verified, received_at, verdict, status, detail, headers,
         query, body, truncated, bytes, expendable, run_id, duplicate_of, replayed_from, elapsed_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      delivery.id,
      seq,
      delivery.trigger_id,
      delivery.version,
      delivery.verified ? 1 : 0,
      delivery.received_at,
      delivery.verdict,
      delivery.status,
      delivery.detail,
      headers,
      query,
      delivery.body,
      delivery.truncated ? 1 : 0,
      bytes,
      expendable ? 1 : 0,
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
    const row = this.sql.exec<StoredRow>(`SELECT ${STORED} FROM deliveries WHERE id = ?`, id).toArray()[0];
    return row ? storedOf(row) : null;
  }

  /** A stored delivery's body (empty when it is gone since). */
  body(id: string): Uint8Array {
    const row = this.sql
      .exec<{ body: ArrayBuffer }>("SELECT body FROM deliveries WHERE id = ?", id)
      .toArray()[0];
    return new Uint8Array(row?.body ?? new ArrayBuffer(0));
  }

  /**
   * The deliveries a range replay re-drives: received in [from, to) with the verdict, oldest first,
   * not themselves replays; at most `limit` (the caller asks one more to tell a range that is too big).
   * Bodies are not read here: a thousand of them may not fit in memory at once.
   */
  range(query: { from: number; to: number; verdict: Verdict; limit: number }): Stored[] {
    return this.sql
      .exec<StoredRow>(
        `SELECT ${STORED} FROM deliveries
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
    this.forget("WHERE received_at < ?", [before], limit);
    return this.sql.exec<{ at: number | null }>("SELECT MIN(received_at) AS at FROM deliveries").one().at;
  }

  /** Whether the ledger is over either of its caps (then the retention sweep evicts at once). */
  full(): boolean {
    return this.over(this.counts());
  }

  /**
   * Over a cap: deletes the oldest deliveries that bring the ledger back under it, and no more (at most
   * `limit`); whether it is still over. Expendable deliveries go first, over either cap; the others only
   * when no expendable one is left.
   */
  evict(limit: number): boolean {
    const usage = this.counts();
    if (!this.over(usage)) return false;
    const overTotal = usage.bytes - this.caps.total;
    const overExpendable = usage.expendable_bytes - this.caps.expendable;
    const freed =
      this.forget("WHERE expendable = 1", [], limit, Math.max(overTotal, overExpendable)) ||
      (overTotal > 0 && this.forget("", [], limit, overTotal));
    if (!freed) {
      // No row left to free: counts that drifted from the rows are set from them (no endless sweep).
      this.sql.exec(
        `UPDATE ledger_usage SET bytes = (SELECT COALESCE(SUM(bytes), 0) FROM deliveries),
           expendable_bytes = (SELECT COALESCE(SUM(bytes), 0) FROM deliveries WHERE expendable = 1)
         WHERE id = 1`,
      );
    }
    return this.full();
  }

  private counts(): Usage {
    return this.sql.exec<Usage>("SELECT bytes, expendable_bytes FROM ledger_usage WHERE id = 1").one();
  }

  private over(usage: Usage): boolean {
    return usage.bytes > this.caps.total || usage.expendable_bytes > this.caps.expendable;
  }

  /**
   * Deletes the oldest deliveries that match, up to `limit` of them and only as many as free `need`
   * bytes, and takes their bytes off the counts; whether any went. The rows are read oldest first and
   * the read stops once enough is freed; the ones chosen are a prefix of that order, deleted by its end.
   */
  private forget(
    where: string,
    args: SqlStorageValue[],
    limit: number,
    need = Number.POSITIVE_INFINITY,
  ): boolean {
    const rows = this.sql.exec<{ received_at: number; seq: number; bytes: number; expendable: number }>(
      `SELECT received_at, seq, bytes, expendable FROM deliveries ${where} ORDER BY received_at, seq LIMIT ?`,
      ...args,
      limit,
    );
    let freed = 0;
    let expendable = 0;
    let last: { received_at: number; seq: number } | null = null;
    for (let next = rows.next(); !next.done && freed < need; next = rows.next()) {
      const row = next.value;
      freed += row.bytes;
      expendable += row.expendable === 1 ? row.bytes : 0;
      last = row;
    }
    if (last === null) return false;
    this.sql.exec(
      `DELETE FROM deliveries ${where ? `${where} AND` : "WHERE"} (received_at, seq) <= (?, ?)`,
      ...args,
      last.received_at,
      last.seq,
    );
    this.sql.exec(
      `UPDATE ledger_usage SET bytes = MAX(0, bytes - ?), expendable_bytes = MAX(0, expendable_bytes - ?)
       WHERE id = 1`,
      freed,
      expendable,
    );
    return true;
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

const STORED =
  "id, trigger_id, version, verified, truncated, verdict, headers, query, length(body) AS body_bytes";
type StoredRow = Omit<Row, "body"> & { body_bytes: number };

function storedOf(row: StoredRow): Stored {
  return {
    id: row.id,
    trigger_id: row.trigger_id,
    version: row.version,
    verified: row.verified === 1,
    truncated: row.truncated === 1,
    verdict: row.verdict,
    headers: JSON.parse(row.headers) as [string, string][],
    query: JSON.parse(row.query) as Record<string, string>,
    body_bytes: row.body_bytes,
  };
}

export function summary(row: Omit<Row, "headers" | "query" | "body" | "truncated">): DeliverySummary {
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
