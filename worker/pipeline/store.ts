/**
 * The PipelineDO's tables, read and written synchronously through `ctx.storage.sql`. Writers that
 * belong to one state transition are called inside one `transactionSync` by transition.ts.
 */
import { type RunState, RunStateSchema, type RunStatus } from "../engine";
import { iso, type PipelineIdentity, type RunSummary, type TriggerKind } from "./types";

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
};

export type StoredRun = { version: number; trigger: TriggerKind; seq: number; state: RunState };

export class Store {
  constructor(readonly sql: SqlStorage) {}

  identity(): PipelineIdentity | null {
    const row = this.sql
      .exec<{ value: string }>("SELECT value FROM meta WHERE key = 'identity'")
      .toArray()[0];
    return row ? (JSON.parse(row.value) as PipelineIdentity) : null;
  }

  setIdentity(identity: PipelineIdentity): void {
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

  putVersion(version: number, spec: string): void {
    this.sql.exec("INSERT OR IGNORE INTO versions (version, spec) VALUES (?, ?)", version, spec);
  }

  nextSeq(): number {
    const row = this.sql.exec<{ n: number | null }>("SELECT MAX(seq) AS n FROM runs").toArray()[0];
    return (row?.n ?? 0) + 1;
  }

  insertRun(run: StoredRun): void {
    const s = run.state;
    this.sql.exec(
      `INSERT INTO runs (id, seq, status, version, trigger_kind, state, created_at, started_at, ended_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      s.id,
      run.seq,
      s.status,
      run.version,
      run.trigger,
      JSON.stringify(s),
      s.created_at,
      s.started_at,
      s.ended_at,
    );
  }

  /** The one write of a transition's run state. */
  updateRun(state: RunState): void {
    this.sql.exec(
      "UPDATE runs SET status = ?, state = ?, started_at = ?, ended_at = ? WHERE id = ?",
      state.status,
      JSON.stringify(state),
      state.started_at,
      state.ended_at,
      state.id,
    );
  }

  run(id: string): StoredRun | null {
    const row = this.sql.exec<RunRow>("SELECT * FROM runs WHERE id = ?", id).toArray()[0];
    return row ? toStored(row) : null;
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
    this.sql.exec(
      "INSERT INTO blobs (ref, run, body) VALUES (?, ?, ?) ON CONFLICT (ref) DO UPDATE SET body = excluded.body",
      ref,
      run,
      JSON.stringify(value ?? null),
    );
  }

  /** Values by reference; one statement for the whole list. */
  blobs(refs: readonly string[]): Map<string, unknown> {
    const out = new Map<string, unknown>();
    for (let i = 0; i < refs.length; i += 90) {
      const chunk = refs.slice(i, i + 90);
      const marks = chunk.map(() => "?").join(",");
      const rows = this.sql.exec<{ ref: string; body: string }>(
        `SELECT ref, body FROM blobs WHERE ref IN (${marks})`,
        ...chunk,
      );
      for (const row of rows) out.set(row.ref, JSON.parse(row.body));
    }
    return out;
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
  const current = typeof value === "object" && value !== null && "v" in value && value.v === 1;
  return current ? (value as RunState) : RunStateSchema.parse(value);
}

export function summaryOf(
  row: Pick<RunRow, "id" | "status" | "trigger_kind" | "version" | "created_at" | "started_at" | "ended_at">,
): RunSummary {
  return {
    id: row.id,
    status: row.status as RunStatus,
    trigger: row.trigger_kind as TriggerKind,
    version: row.version,
    created_at: iso(row.created_at) ?? "",
    started_at: iso(row.started_at),
    ended_at: iso(row.ended_at),
  };
}
