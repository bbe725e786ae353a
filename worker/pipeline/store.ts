/**
 * The PipelineDO's tables, read and written synchronously through `ctx.storage.sql`. Writers that
 * belong to one state transition are called inside one `transaction` by transition.ts.
 *
 * Runs and blobs are also kept parsed in memory (write-through, bounded): every hop of a chain reads
 * its run twice and its upstream outputs once, and re-parsing them dominated the object's CPU. Only
 * this class writes those rows, so the copies stay exact; a transaction that throws drops them all.
 * Cached values are shared: callers treat them as read-only (the planner copies what it changes).
 */
import { parseStored, RUN_STATE_VERSION, type RunState, RunStateSchema, type RunStatus } from "../engine";
import { insertRows } from "./rows";
import { iso, PipelineIdentity, type RunSummary, type TriggerKind } from "./types";

type RunRow = {
  id: string;
  seq: number;
  status: string;
  version: number;
  trigger_kind: string;
  state: string;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
  logical_date: string | null;
};

export type StoredRun = { version: number; trigger: TriggerKind; seq: number; state: RunState };

/** Parsed runs kept in memory; the running ones are the ones read on every hop. */
const MAX_CACHED_RUNS = 64;
/** Parsed blobs kept in memory, by the length of their JSON. */
const MAX_CACHED_BLOB_CHARS = 8 * 1024 * 1024;
/** Larger payloads are kept by reference only: read from SQLite when a task needs them, never held. */
export const MAX_IN_MEMORY_PAYLOAD_CHARS = 64 * 1024;

export class Store {
  readonly sql: SqlStorage;
  private readonly runs = new Map<string, StoredRun>();
  private readonly blobCache = new Map<string, { value: unknown; chars: number }>();
  private blobChars = 0;
  private knownIdentity: PipelineIdentity | null | undefined;

  constructor(private readonly storage: DurableObjectStorage) {
    this.sql = storage.sql;
  }

  /** Writes atomically; if `write` throws nothing is committed, and no cached copy outlives it. */
  transaction<T>(write: () => T): T {
    try {
      return this.storage.transactionSync(write);
    } catch (error) {
      this.forget();
      throw error;
    }
  }

  /** Whether a blob is held in memory right now (asserted by tests). */
  holds(ref: string): boolean {
    return this.blobCache.has(ref);
  }

  /** Drops the in-memory copies, after the tables were edited out of band (tests, a manual repair). */
  forget(): void {
    this.knownIdentity = undefined;
    this.runs.clear();
    this.blobCache.clear();
    this.blobChars = 0;
  }

  /** Read on every job: kept in memory once read (undefined: not read yet). */
  identity(): PipelineIdentity | null {
    if (this.knownIdentity !== undefined) return this.knownIdentity;
    const row = this.sql
      .exec<{ value: string }>("SELECT value FROM meta WHERE key = 'identity'")
      .toArray()[0];
    this.knownIdentity = row ? parseStored(PipelineIdentity, row.value, "pipeline identity") : null;
    return this.knownIdentity;
  }

  setIdentity(identity: PipelineIdentity): void {
    this.knownIdentity = identity;
    this.sql.exec(
      "INSERT INTO meta (key, value) VALUES ('identity', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      JSON.stringify(identity),
    );
  }

  specJson(version: number): string | null {
    const row = this.sql
      .exec<{ spec: string }>("SELECT spec FROM versions WHERE version = ?", version)
      .toArray()[0];
    return row?.spec ?? null;
  }

  latestVersion(): number | null {
    return this.sql.exec<{ v: number | null }>("SELECT MAX(version) AS v FROM versions").one().v;
  }

  /**
   * Whether a sync of this revision is current (not older than the last one taken); if so, it is the
   * last one taken from now on.
   */
  takeRevision(revision: number): boolean {
    const row = this.sql
      .exec<{ value: string }>("SELECT value FROM meta WHERE key = 'revision'")
      .toArray()[0];
    if (row && Number(row.value) > revision) return false;
    this.sql.exec(
      "INSERT INTO meta (key, value) VALUES ('revision', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      String(revision),
    );
    return true;
  }

  /** The pipeline was deleted: a tombstone that outlives purge(), so no late sync brings it back. */
  retire(): void {
    this.sql.exec("INSERT INTO meta (key, value) VALUES ('retired', '1') ON CONFLICT (key) DO NOTHING");
  }

  retired(): boolean {
    return this.sql.exec("SELECT 1 FROM meta WHERE key = 'retired'").toArray().length > 0;
  }

  putVersion(version: number, spec: string): void {
    this.sql.exec("INSERT OR IGNORE INTO versions (version, spec) VALUES (?, ?)", version, spec);
  }

  nextSeq(): number {
    const row = this.sql.exec<{ n: number | null }>("SELECT MAX(seq) AS n FROM runs").toArray()[0];
    return (row?.n ?? 0) + 1;
  }

  insertRun(run: StoredRun): void {
    this.remember(run);
    const s = run.state;
    this.sql.exec(
      `INSERT INTO runs (id, seq, status, version, trigger_kind, state, created_at, started_at, ended_at, logical_date)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      s.id,
      run.seq,
      s.status,
      run.version,
      run.trigger,
      JSON.stringify(s),
      s.created_at,
      s.started_at,
      s.ended_at,
      s.logical_date,
    );
  }

  /** The one write of a transition's run state. */
  updateRun(state: RunState): void {
    const cached = this.runs.get(state.id);
    if (cached) this.remember({ ...cached, state });
    this.sql.exec(
      "UPDATE runs SET status = ?, state = ?, started_at = ?, ended_at = ? WHERE id = ?",
      state.status,
      JSON.stringify(state),
      state.started_at,
      state.ended_at,
      state.id,
    );
  }

  /** Whether the run exists, without reading its state. */
  has(id: string): boolean {
    return this.runs.has(id) || this.sql.exec("SELECT 1 FROM runs WHERE id = ?", id).toArray().length > 0;
  }

  run(id: string): StoredRun | null {
    const cached = this.runs.get(id);
    if (cached) return cached;
    const row = this.sql.exec<RunRow>("SELECT * FROM runs WHERE id = ?", id).toArray()[0];
    if (!row) return null;
    const stored = toStored(row);
    this.remember(stored);
    return stored;
  }

  private remember(run: StoredRun): void {
    this.runs.delete(run.state.id);
    this.runs.set(run.state.id, run);
    if (this.runs.size > MAX_CACHED_RUNS) {
      const oldest = this.runs.keys().next().value;
      if (oldest !== undefined) this.runs.delete(oldest);
    }
  }

  /** Newest first; the cursor is the last item's seq. */
  list(status: RunStatus | undefined, limit: number, before: number | undefined) {
    const clauses: string[] = [];
    const args: (string | number)[] = [];
    if (status) {
      clauses.push("status = ?");
      args.push(status);
    }
    if (before !== undefined) {
      clauses.push("seq < ?");
      args.push(before);
    }
    const where = clauses.length ? `WHERE ${clauses.join(" AND ")}` : "";
    const rows = this.sql
      .exec<RunRow>(`SELECT * FROM runs ${where} ORDER BY seq DESC LIMIT ?`, ...args, limit + 1)
      .toArray();
    const page = rows.slice(0, limit);
    return { items: page.map(summaryOf), next: rows.length > limit ? (page.at(-1)?.seq ?? null) : null };
  }

  /** Oldest first: runs waiting for max_active_runs. */
  queued(): string[] {
    return this.sql
      .exec<{ id: string }>("SELECT id FROM runs WHERE status = 'queued' ORDER BY seq")
      .toArray()
      .map((r) => r.id);
  }

  running(): string[] {
    return this.sql
      .exec<{ id: string }>("SELECT id FROM runs WHERE status = 'running' ORDER BY seq")
      .toArray()
      .map((r) => r.id);
  }

  countRunning(): number {
    const row = this.sql
      .exec<{ n: number }>("SELECT COUNT(*) AS n FROM runs WHERE status = 'running'")
      .toArray()[0];
    return row?.n ?? 0;
  }

  /** The data interval of a scheduled or backfilled run's logical date (schedule.ts records it). */
  dataInterval(logicalDate: string | null): { start: number; end: number } | null {
    if (logicalDate === null) return null;
    const row = this.sql
      .exec<{ start: number; end: number }>(
        "SELECT interval_start AS start, interval_end AS end FROM schedule_runs WHERE logical_date = ?",
        Date.parse(logicalDate),
      )
      .toArray()[0];
    return row ?? null;
  }

  putBlob(ref: string, run: string, value: unknown): void {
    this.putBlobs(run, [{ ref, value }]);
  }

  putBlobs(run: string, blobs: readonly { ref: string; value: unknown }[]): void {
    const rows = blobs.map(({ ref, value }) => {
      const body = JSON.stringify(value ?? null);
      this.cacheBlob(ref, value ?? null, body.length);
      return [ref, run, body];
    });
    insertRows(
      this.sql,
      "INSERT INTO blobs (ref, run, body)",
      rows,
      "ON CONFLICT (ref) DO UPDATE SET body = excluded.body",
    );
  }

  /** Values by reference: from memory, the rest with one statement per 90 refs. */
  blobs(refs: readonly string[]): Map<string, unknown> {
    const out = new Map<string, unknown>();
    const missing: string[] = [];
    for (const ref of refs) {
      const cached = this.blobCache.get(ref);
      if (cached) out.set(ref, cached.value);
      else missing.push(ref);
    }
    for (let i = 0; i < missing.length; i += 90) {
      const chunk = missing.slice(i, i + 90);
      const marks = chunk.map(() => "?").join(",");
      const rows = this.sql.exec<{ ref: string; body: string }>(
        `SELECT ref, body FROM blobs WHERE ref IN (${marks})`,
        ...chunk,
      );
      for (const row of rows) {
        const value: unknown = JSON.parse(row.body);
        out.set(row.ref, value);
        this.cacheBlob(row.ref, value, row.body.length);
      }
    }
    return out;
  }

  private cacheBlob(ref: string, value: unknown, chars: number): void {
    const previous = this.blobCache.get(ref);
    if (previous) {
      this.blobCache.delete(ref);
      this.blobChars -= previous.chars;
    }
    if (chars > MAX_IN_MEMORY_PAYLOAD_CHARS) return;
    this.blobCache.set(ref, { value, chars });
    this.blobChars += chars;
    for (const [oldest, entry] of this.blobCache) {
      if (this.blobChars <= MAX_CACHED_BLOB_CHARS) break;
      this.blobCache.delete(oldest);
      this.blobChars -= entry.chars;
    }
  }
}

function toStored(row: RunRow): StoredRun {
  return {
    version: row.version,
    trigger: row.trigger_kind as TriggerKind,
    seq: row.seq,
    state: trustedState(JSON.parse(row.state)),
  };
}

/**
 * The object's own persisted state, written only by updateRun/insertRun from planner output: a row of
 * the current shape version is trusted as is (a full parse costs O(instances) on every hop, O(n²) over a
 * wide fan-out); any other version goes through the schema, which refuses what it does not know.
 */
function trustedState(value: unknown): RunState {
  const current =
    typeof value === "object" && value !== null && "v" in value && value.v === RUN_STATE_VERSION;
  return current ? (value as RunState) : RunStateSchema.parse(value);
}

export function summaryOf(
  row: Pick<
    RunRow,
    "id" | "status" | "trigger_kind" | "version" | "created_at" | "started_at" | "ended_at" | "logical_date"
  >,
): RunSummary {
  return {
    id: row.id,
    status: row.status as RunStatus,
    trigger: row.trigger_kind as TriggerKind,
    version: row.version,
    created_at: iso(row.created_at) ?? "",
    started_at: iso(row.started_at),
    ended_at: iso(row.ended_at),
    logical_date: row.logical_date,
  };
}
