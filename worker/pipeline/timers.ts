/**
 * The object's one timer table and its one alarm. Every row has a kind: a run's timers (retry delays,
 * timeouts, sensor pokes; written in the transaction of the transition that emitted them), the clock's
 * next fire, and the webhook ledger's sweeps (retention, dedup window, rotation grace). The alarm always
 * points at the earliest row (re-armed after every batch of work and in the alarm handler's `finally`),
 * and `dispatch` hands each due row to the handler of its kind, each in its own try/catch.
 *
 * Alarms are at-least-once, so a handled row is deleted unless its handler gave it a new time, and a
 * stale run timer is simply dropped by the planner. A row whose handler throws is not dropped (its run
 * would wait forever) nor left in the past (the alarm would re-run at once, in a loop): it comes back
 * after a backoff that grows with its failed attempts (retryLater).
 */
import { z } from "zod";
import { parseStored, type TimerRef } from "../engine";
import { inList, insertRows } from "./rows";

/** Kinds of timers that belong to the object rather than to a run; their rows' `run` is `~<kind>`. */
export const OWN_KINDS = ["schedule", "hooks"] as const;
export type OwnKind = (typeof OWN_KINDS)[number];
const ownRun = (kind: OwnKind) => `~${kind}`;

/** The stored form of a run's TimerRef (engine/run/events.ts), checked against that type. */
const StoredTimerRef: z.ZodType<TimerRef> = z.discriminatedUnion("reason", [
  z.object({ reason: z.enum(["timeout", "poke", "retry"]), key: z.string(), dispatch: z.int() }),
  z.object({ reason: z.literal("run_timeout"), at: z.number() }),
]);

/** `attempts`: how many times handling this row has thrown since it was written. */
export type RunTimer = { kind: "run"; run: string; id: string; at: number; ref: TimerRef; attempts: number };
export type OwnTimer = { kind: OwnKind; run: string; id: string; at: number; attempts: number };
export type DueTimer = RunTimer | OwnTimer;

/** What the object does with a due timer of each kind; a handler that throws is retried later. */
export type TimerHandlers = {
  run(timer: RunTimer): void;
} & { [K in OwnKind]: (timer: OwnTimer, now: number) => void | Promise<void> };

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

  /** The time of one of the object's own timers, or null. */
  at(kind: OwnKind, id: string): number | null {
    const row = this.sql
      .exec<{ at: number }>("SELECT at FROM timers WHERE run = ? AND id = ?", ownRun(kind), id)
      .toArray()[0];
    return row?.at ?? null;
  }

  /** Sets one of the object's own timers; `earliest` keeps an earlier time already set. */
  set(kind: OwnKind, id: string, at: number, { earliest = false } = {}): void {
    this.sql.exec(
      `INSERT INTO timers (run, id, at, ref, kind) VALUES (?, ?, ?, '{}', ?)
       ON CONFLICT (run, id) DO UPDATE SET ${earliest ? "at = MIN(at, excluded.at)" : "at = excluded.at, attempts = 0"}`,
      ownRun(kind),
      id,
      at,
      kind,
    );
  }

  clear(kind: OwnKind, id: string): void {
    this.sql.exec("DELETE FROM timers WHERE run = ? AND id = ?", ownRun(kind), id);
  }

  /**
   * Work that one of the object's own timers stands for failed outside the alarm (a schedule fire from
   * a sync): its row comes due after the backoff of one more failed attempt, written even if it had none.
   */
  failed(kind: OwnKind, id: string, now: number): number {
    const attempts =
      (this.sql
        .exec<{ attempts: number }>("SELECT attempts FROM timers WHERE run = ? AND id = ?", ownRun(kind), id)
        .toArray()[0]?.attempts ?? 0) + 1;
    const at = now + failedTimerDelay(attempts);
    this.sql.exec(
      `INSERT INTO timers (run, id, at, ref, kind, attempts) VALUES (?, ?, ?, '{}', ?, ?)
       ON CONFLICT (run, id) DO UPDATE SET at = excluded.at, attempts = excluded.attempts`,
      ownRun(kind),
      id,
      at,
      kind,
      attempts,
    );
    return at;
  }

  /**
   * Hands every due row to the handler of its kind, oldest first, each in its own try/catch: one bad
   * row must not stop the others. A handled row is gone unless its handler gave it a new time; a row
   * whose handler threw comes back after a backoff (dropping it could leave a run waiting forever).
   */
  async dispatch(now: number, handlers: TimerHandlers): Promise<void> {
    for (const timer of this.due(now)) {
      try {
        if (timer.kind === "run") handlers.run(timer);
        else await handlers[timer.kind](timer, now);
        this.consume(timer);
      } catch (error) {
        const retry = this.retryLater(timer, now);
        const when = retry === null ? "replaced" : `retry at ${new Date(retry).toISOString()}`;
        console.error(
          "timer failed",
          timer.kind,
          timer.run,
          timer.id,
          `attempt ${timer.attempts + 1}, ${when}`,
          error,
        );
      }
    }
  }

  /**
   * Due timers, oldest first. A row whose kind or ref is corrupt is not returned: it is logged and
   * backs off like a row whose handler threw, so it cannot stop the rows after it.
   */
  due(now: number, limit = 500): DueTimer[] {
    const rows = this.sql
      .exec<{ kind: string; run: string; id: string; at: number; ref: string; attempts: number }>(
        "SELECT kind, run, id, at, ref, attempts FROM timers WHERE at <= ? ORDER BY at LIMIT ?",
        now,
        limit,
      )
      .toArray();
    const due: DueTimer[] = [];
    for (const row of rows) {
      try {
        const { kind, ref, ...rest } = row;
        if (kind === "run") due.push({ ...rest, kind, ref: parseStored(StoredTimerRef, ref, "timer ref") });
        else if ((OWN_KINDS as readonly string[]).includes(kind))
          due.push({ ...rest, kind: kind as OwnKind });
        else throw new Error(`unknown timer kind ${kind}`);
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
