/**
 * The tenant's run ledger (DESIGN.md §2, §6): one row per run created in the last 24 hours or still
 * queued or running, in the tenant's own object, so run quotas are decided on counts that are exact at
 * the moment of decision. A PipelineDO asks for places before it creates runs (admit) and tells the
 * ledger when runs stop or start being active (sync, through its write-behind outbox). A plain module
 * over the object's SQLite; TenantDO is its thin class.
 */
import type { Quotas } from "../config";

/** The runs-per-day quota's window: a rolling 24 hours. */
export const RUN_WINDOW_MS = 24 * 60 * 60 * 1000;

/** A full tenant's active runs free up as runs finish: ask again soon. */
export const ACTIVE_RETRY_SECONDS = 30;

export type RunQuotas = Pick<Quotas, "runs_per_day" | "concurrent_runs">;

export type Admission = {
  pipeline: string;
  /** Ids of the runs about to be created, oldest first. */
  runs: readonly string[];
  quotas: RunQuotas;
  /** "all": every run or none (a person waits for the answer); "some": as many as fit, oldest first. */
  mode: "all" | "some";
  /** A webhook delivery's run: it also takes one of the tenant's deliveries this minute. */
  deliveries_per_minute?: number;
};

export type Refusal = {
  quota: "runs_per_day" | "concurrent_runs" | "deliveries_per_minute";
  limit: number;
  /** Places left under that quota (fewer than asked for). */
  left: number;
  retry_after_s: number;
};

export type Admitted = { admitted: string[]; refused: Refusal | null };

/** A run's activeness as its pipeline's object last wrote it. */
export type RunMark = { id: string; pipeline: string; created_at: number; active: boolean };

export type RunUsage = { recent: number; active: number; oldest: number | null };

/** Queued and running runs hold a place under the concurrent quota. */
export function isActiveStatus(status: string): boolean {
  return status === "queued" || status === "running";
}

export class RunLedger {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(
      `CREATE TABLE IF NOT EXISTS runs (
         id TEXT PRIMARY KEY,
         pipeline TEXT NOT NULL,
         created_at INTEGER NOT NULL,
         active INTEGER NOT NULL
       );
       CREATE INDEX IF NOT EXISTS runs_created ON runs (created_at);
       CREATE INDEX IF NOT EXISTS runs_active ON runs (active, created_at);
       CREATE TABLE IF NOT EXISTS forgotten (id INTEGER PRIMARY KEY CHECK (id = 1));
       CREATE TABLE IF NOT EXISTS delivery_minutes (minute INTEGER PRIMARY KEY, n INTEGER NOT NULL);`,
    );
  }

  /** The tenant was deleted: marks that arrive late are dropped instead of written back. */
  markForgotten(): void {
    this.sql.exec("INSERT OR IGNORE INTO forgotten (id) VALUES (1)");
  }

  private forgotten(): boolean {
    return this.sql.exec("SELECT 1 FROM forgotten").toArray().length > 0;
  }

  /**
   * Counts, then records what fits, in one synchronous turn: no other admission interleaves. A
   * delivery's budget is a fixed window per minute, spent only by deliveries whose run is admitted.
   */
  admit(request: Admission, now: number): Admitted {
    const minute = Math.floor(now / 60_000);
    if (request.deliveries_per_minute !== undefined) {
      const used = this.deliveriesIn(minute);
      if (used >= request.deliveries_per_minute) {
        const retry_after_s = Math.max(1, Math.ceil(((minute + 1) * 60_000 - now) / 1000));
        return {
          admitted: [],
          refused: {
            quota: "deliveries_per_minute",
            limit: request.deliveries_per_minute,
            left: 0,
            retry_after_s,
          },
        };
      }
    }
    const result = this.admitRuns(request, now);
    if (request.deliveries_per_minute !== undefined && result.admitted.length > 0) {
      this.sql.exec("DELETE FROM delivery_minutes WHERE minute < ?", minute);
      this.sql.exec(
        `INSERT INTO delivery_minutes (minute, n) VALUES (?, 1)
         ON CONFLICT (minute) DO UPDATE SET n = n + 1`,
        minute,
      );
    }
    return result;
  }

  private deliveriesIn(minute: number): number {
    return (
      this.sql.exec<{ n: number }>("SELECT n FROM delivery_minutes WHERE minute = ?", minute).toArray()[0]
        ?.n ?? 0
    );
  }

  private admitRuns(request: Admission, now: number): Admitted {
    this.prune(now);
    const usage = this.usage(now);
    const { runs_per_day, concurrent_runs } = request.quotas;
    const daily = runs_per_day - usage.recent;
    const concurrent = concurrent_runs - usage.active;
    const fits = Math.max(0, Math.min(daily, concurrent, request.runs.length));
    const refused: Refusal | null =
      fits === request.runs.length
        ? null
        : daily <= concurrent
          ? {
              quota: "runs_per_day",
              limit: runs_per_day,
              left: Math.max(0, daily),
              retry_after_s: dailyRetryAfter(usage.oldest, now),
            }
          : {
              quota: "concurrent_runs",
              limit: concurrent_runs,
              left: Math.max(0, concurrent),
              retry_after_s: ACTIVE_RETRY_SECONDS,
            };
    const admitted = refused && request.mode === "all" ? [] : request.runs.slice(0, fits);
    for (const id of admitted) {
      this.sql.exec(
        "INSERT OR IGNORE INTO runs (id, pipeline, created_at, active) VALUES (?, ?, ?, 1)",
        id,
        request.pipeline,
        now,
      );
    }
    return { admitted, refused };
  }

  /**
   * Runs that became active or stopped being so. A run the ledger does not know (created while it
   * could not be asked, or before it existed) is recorded now, so it counts from here on.
   */
  sync(marks: readonly RunMark[]): void {
    if (this.forgotten()) return;
    for (const mark of marks) {
      this.sql.exec(
        `INSERT INTO runs (id, pipeline, created_at, active) VALUES (?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET active = excluded.active`,
        mark.id,
        mark.pipeline,
        mark.created_at,
        mark.active ? 1 : 0,
      );
    }
  }

  /** Admitted places whose runs were not created after all. */
  release(ids: readonly string[]): void {
    for (const id of ids) this.sql.exec("DELETE FROM runs WHERE id = ?", id);
  }

  usage(now: number): RunUsage {
    return this.sql
      .exec<RunUsage>(
        `SELECT
           (SELECT COUNT(*) FROM runs WHERE created_at > ?) AS recent,
           (SELECT COUNT(*) FROM runs WHERE active = 1) AS active,
           (SELECT MIN(created_at) FROM runs WHERE created_at > ?) AS oldest`,
        now - RUN_WINDOW_MS,
        now - RUN_WINDOW_MS,
      )
      .one();
  }

  /** Active runs recorded before `before`, oldest first: candidates for repair (TenantDO.alarm). */
  activeBefore(before: number, limit: number): string[] {
    return this.sql
      .exec<{ id: string }>(
        "SELECT id FROM runs WHERE active = 1 AND created_at < ? ORDER BY created_at LIMIT ?",
        before,
        limit,
      )
      .toArray()
      .map((row) => row.id);
  }

  /** Marks these runs inactive (their object said so in D1, or they never came to exist). */
  deactivate(ids: readonly string[]): void {
    for (const id of ids) this.sql.exec("UPDATE runs SET active = 0 WHERE id = ?", id);
  }

  /** Finished runs older than the window count for nothing any more. */
  private prune(now: number): void {
    this.sql.exec("DELETE FROM runs WHERE active = 0 AND created_at <= ?", now - RUN_WINDOW_MS);
  }
}

/** Seconds until the oldest run of the rolling day leaves it (at least 1). */
function dailyRetryAfter(oldest: number | null, now: number): number {
  return Math.max(1, Math.ceil(((oldest ?? now) + RUN_WINDOW_MS - now) / 1000));
}
