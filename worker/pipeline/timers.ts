/**
 * The timer table and its one alarm. Rows are written in the transaction of the transition that
 * emitted them; the alarm always points at the earliest row (re-armed after every batch of work and in
 * the alarm handler's `finally`). Alarms are at-least-once, so a due row is deleted in the same
 * transaction that delivers it, and a stale one is simply dropped by the planner. A row whose handler
 * throws is not dropped (its run would wait forever) nor left in the past (the alarm would re-run at
 * once, in a loop): it comes back after a backoff that grows with its failed attempts (retryLater).
 */
import { z } from "zod";
import { parseStored, type TimerRef } from "../engine";
import { inList, insertRows } from "./rows";

/** The timer row of the clock (schedule.ts): it fires that row itself, and its ref is not a TimerRef. */
export const SCHEDULE_TIMER_RUN = "~schedule";

/** The stored form of a run's TimerRef (engine/run/events.ts), checked against that type. */
const StoredTimerRef: z.ZodType<TimerRef> = z.discriminatedUnion("reason", [
  z.object({ reason: z.enum(["timeout", "poke", "retry"]), key: z.string(), dispatch: z.int() }),
  z.object({ reason: z.literal("run_timeout"), at: z.number() }),
]);

/** `attempts`: how many times handling this row has thrown since it was written. */
export type DueTimer = { run: string; id: string; at: number; ref: TimerRef; attempts: number };

/** The first retry of a failed timer waits this long; each further failure doubles it, up to the cap. */
export const RETRY_BASE_MS = 5_000;
export const RETRY_CAP_MS = 300_000;

/** How long to wait before the given failed attempt's retry (the first failure is attempt 1). */
export function failedTimerDelay(attempt: number): number {
  return Math.min(RETRY_BASE_MS * 2 ** Math.max(0, attempt - 1), RETRY_CAP_MS);
}

export class Timers {
  constructor(
    private readonly sql: SqlStorage,
    private readonly storage: DurableObjectStorage,
  ) {}

  /** A transition's timer changes, each timer id at most once: deletes first, then upserts. */
  write(run: string, changes: ReadonlyMap<string, { at: number; ref: TimerRef } | null>): void {
    const cleared: string[] = [];
    const set: SqlStorageValue[][] = [];
    for (const [id, change] of changes) {
      if (change === null) cleared.push(id);
      else set.push([run, id, change.at, JSON.stringify(change.ref)]);
    }
    inList(this.sql, "DELETE FROM timers WHERE run = ? AND id IN", [run], cleared);
    insertRows(
      this.sql,
      "INSERT INTO timers (run, id, at, ref)",
      set,
      // A new time for the row is a new timer: earlier failures no longer count.
      "ON CONFLICT (run, id) DO UPDATE SET at = excluded.at, ref = excluded.ref, attempts = 0",
    );
  }

  /** Deletes the row only if it is still the one that came due (a newer one may have replaced it). */
  consume(timer: DueTimer): void {
    this.sql.exec("DELETE FROM timers WHERE run = ? AND id = ? AND at = ?", timer.run, timer.id, timer.at);
  }

  /**
   * The row's handler threw: it comes due again after failedTimerDelay, unless the failed work already
   * replaced or consumed it (then the newer row stands). Returns the retry time, or null.
   */
  retryLater(timer: Pick<DueTimer, "run" | "id" | "at" | "attempts">, now: number): number | null {
    const attempts = timer.attempts + 1;
    const at = now + failedTimerDelay(attempts);
    const cursor = this.sql.exec(
      "UPDATE timers SET at = ?, attempts = ? WHERE run = ? AND id = ? AND at = ?",
      at,
      attempts,
      timer.run,
      timer.id,
      timer.at,
    );
    return cursor.rowsWritten > 0 ? at : null;
  }

  clearRun(run: string): void {
    this.sql.exec("DELETE FROM timers WHERE run = ?", run);
  }

  /**
   * The runs' due timers, oldest first. A row whose ref is corrupt is not returned: it is logged and
   * backs off like a row whose handler threw, so it cannot stop the rows after it.
   */
  due(now: number, limit = 500): DueTimer[] {
    const rows = this.sql
      .exec<{ run: string; id: string; at: number; ref: string; attempts: number }>(
        "SELECT run, id, at, ref, attempts FROM timers WHERE at <= ? AND run != ? ORDER BY at LIMIT ?",
        now,
        SCHEDULE_TIMER_RUN,
        limit,
      )
      .toArray();
    const due: DueTimer[] = [];
    for (const row of rows) {
      try {
        due.push({ ...row, ref: parseStored(StoredTimerRef, row.ref, "timer ref") });
      } catch (error) {
        const retry = this.retryLater(row, now);
        const when = retry === null ? "replaced" : `retry at ${new Date(retry).toISOString()}`;
        console.error("timer not delivered", row.run, row.id, `attempt ${row.attempts + 1}, ${when}`, error);
      }
    }
    return due;
  }

  earliest(): number | null {
    const row = this.sql.exec<{ at: number | null }>("SELECT MIN(at) AS at FROM timers").toArray()[0];
    return row?.at ?? null;
  }

  /**
   * Points the alarm at the earliest timer, or removes it when there is none. While work is in flight
   * a `watchdog` time caps it, so an object that dies mid-call is woken to recover (driver.recover);
   * an earlier alarm already set is left alone then, so a busy object does not rewrite it on every entry.
   */
  async arm(watchdog: number | null = null): Promise<void> {
    const earliest = this.earliest();
    const next = watchdog === null ? earliest : Math.min(earliest ?? watchdog, watchdog);
    const current = await this.storage.getAlarm();
    if (next === null) {
      if (current !== null) await this.storage.deleteAlarm();
    } else if (watchdog !== null && current !== null && current <= next) {
      return;
    } else if (current !== next) {
      await this.storage.setAlarm(next);
    }
  }
}
