/**
 * The pipeline's clock (DESIGN.md §2: "DO alarms are the clock"). The API tells the object about the
 * latest version's schedule and the paused flag (`sync`); the object keeps one timer row for the next
 * fire in the shared timer table, and when it comes due creates the run of each owed logical date
 * exactly once (`schedule_runs` is keyed by logical date), then arms the next fire. The Cron Trigger
 * calls `fire` too (through `reconcile`), so a lost alarm delays a run, never loses it. A fire that throws
 * is retried by the clock's timer after a growing backoff (the object's fireSchedule, Timers.failed).
 *
 * Logical dates follow Airflow 3's CronTriggerTimetable: the logical date is the fire time, and the data
 * interval is [previous fire, this fire). Catchup owes at most MAX_CATCHUP intervals (the newest ones,
 * created oldest first); without catchup only the latest missed one. max_active_runs still applies: the
 * runs queue like any other. Runs over the tenant's quotas: see fire().
 */
import type { PipelineSpec } from "../engine";
import { dueFires, type Interval, intervalsOf, nextFire } from "../engine/intervals";
import type { HookConfig } from "../hooks/types";
import { ACTIVE_RETRY_SECONDS, type Refusal } from "../tenant/ledger";
import type { Driver } from "./driver";
import type { PluginBinding } from "./plugins";
import type { PipelineIdentity } from "./types";

const SCHEDULE_TIMER_ID = "next_fire";
export const MAX_CATCHUP = 100;

export type ScheduleSpec = { cron: string; timezone: string; catchup: boolean };

export type ScheduleSync = PipelineIdentity & {
  /** The pipeline's revision in D1 when the sync was read (migration 0012): an older one is late. */
  revision: number;
  /** The latest version's webhooks (worker/hooks); absent: unchanged. */
  hooks?: HookConfig[];
  /** The plugins the latest version names, resolved against the tenant's (plugins.ts); absent: unchanged. */
  plugins?: PluginBinding[];
  /** The tenant's wrapped data key, which opens the installations' sealed settings. */
  data_key?: string;
  version: number;
  /** null with `schedule: null`: the pipeline was deleted. */
  spec: PipelineSpec | null;
  paused: boolean;
  /** null: the pipeline was deleted, or its latest version has no schedule. */
  schedule: ScheduleSpec | null;
};

export type ScheduleState = {
  version: number;
  schedule: ScheduleSpec;
  paused: boolean;
  /** The latest logical date the clock has handled (or the moment it started counting). */
  cursor: number;
  next_fire: string | null;
};

export type ScheduledRun = {
  logical_date: string;
  data_interval_start: string;
  data_interval_end: string;
  run: string;
  status: string;
  source: "schedule" | "backfill";
};

export type BackfillInput = {
  /** The latest version (the object has it once the API synced it) and its schedule. */
  version: number;
  schedule: ScheduleSpec;
  /** Logical dates (ms) the API computed from the schedule, oldest first. */
  dates: number[];
  reprocess: "missing" | "failed" | "all";
  dry_run: boolean;
  /** The ids the tenant's ledger admitted (admission.ts), one per run to create; not for a dry run. */
  ids?: readonly string[];
};

export type BackfillItem = { id: string | null; logical_date: string; status: string };

type StateRow = {
  version: number;
  cron: string;
  timezone: string;
  catchup: number;
  paused: number;
  cursor: number;
};

const iso = (ms: number) => new Date(ms).toISOString();

export class Clock {
  constructor(
    private readonly ctx: DurableObjectState,
    private readonly driver: Driver,
  ) {}

  private get sql(): SqlStorage {
    return this.ctx.storage.sql;
  }

  state(): ScheduleState | null {
    const row = this.sql.exec<StateRow>("SELECT * FROM schedule_state WHERE id = 1").toArray()[0];
    if (!row) return null;
    const at = this.driver.timers.at("schedule", SCHEDULE_TIMER_ID);
    return {
      version: row.version,
      schedule: { cron: row.cron, timezone: row.timezone, catchup: row.catchup === 1 },
      paused: row.paused === 1,
      cursor: row.cursor,
      next_fire: at === null ? null : iso(at),
    };
  }

  /** Records the latest version's schedule and paused flag; the caller then fires what is owed. */
  sync(input: Omit<ScheduleSync, "revision">, now: number): void {
    const { version, spec, paused, schedule, ...identity } = input;
    const before = this.state();
    this.ctx.storage.transactionSync(() => {
      // The cron reconciler knows no request origin: it keeps the one the API last told us.
      const origin = identity.origin || this.driver.store.identity()?.origin || "http://localhost";
      this.driver.store.setIdentity({ ...identity, origin });
      if (spec) this.driver.store.putVersion(version, JSON.stringify(spec));
      if (!schedule) {
        this.sql.exec("DELETE FROM schedule_state WHERE id = 1");
        return;
      }
      // A new cron or time zone starts counting now: intervals of the old schedule are not owed.
      const same =
        before !== null &&
        before.schedule.cron === schedule.cron &&
        before.schedule.timezone === schedule.timezone;
      const cursor = same ? before.cursor : now;
      this.sql.exec(
        `INSERT INTO schedule_state (id, version, cron, timezone, catchup, paused, cursor) VALUES (1, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET version = excluded.version, cron = excluded.cron, timezone = excluded.timezone,
           catchup = excluded.catchup, paused = excluded.paused, cursor = excluded.cursor`,
        version,
        schedule.cron,
        schedule.timezone,
        schedule.catchup ? 1 : 0,
        paused ? 1 : 0,
        cursor,
      );
    });
  }

  /** The pipeline is being deleted: no schedule, no timer. */
  stop(): void {
    this.ctx.storage.transactionSync(() => {
      this.sql.exec("DELETE FROM schedule_state WHERE id = 1");
      this.clearTimer();
    });
  }

  /** How many runs fire(now) would create: the due logical dates that have no run yet. */
  owed(now: number): number {
    const state = this.state();
    if (!state || state.paused) return 0;
    return this.owedIntervals(state, now).intervals.length;
  }

  /**
   * Creates the runs owed at `now` (idempotent: a logical date that has a run is skipped), one per id
   * the tenant's ledger admitted, oldest first. The others wait while the tenant is at its concurrent
   * runs quota (they stay owed, and the clock comes back in ACTIVE_RETRY_SECONDS, as Airflow queues
   * runs over max_active_runs), and are skipped for good over its daily quota. Leaves exactly one
   * timer row, or none when paused or unscheduled.
   */
  fire(
    now: number,
    ids: readonly string[],
    refused: Refusal | null,
  ): { created: BackfillItem[]; skipped: string[] } {
    return this.fireOwed(now, ids, refused?.quota === "concurrent_runs");
  }

  private fireOwed(
    now: number,
    ids: readonly string[],
    waitForPlaces: boolean,
  ): { created: BackfillItem[]; skipped: string[] } {
    const state = this.state();
    if (!state || state.paused) {
      this.clearTimer();
      return { created: [], skipped: [] };
    }
    const { intervals, fires } = this.owedIntervals(state, now);
    const created: BackfillItem[] = [];
    const left: string[] = [];
    for (const interval of intervals) {
      const id = ids[created.length];
      if (id !== undefined) created.push(this.create(state.version, interval, "schedule", id));
      else left.push(iso(interval.logical_date));
    }
    const waiting = waitForPlaces && left.length > 0;
    const skipped = waiting ? [] : left;
    // Waiting dates keep the cursor where it was: they stay owed, and those created are not owed twice.
    const cursor = waiting ? state.cursor : (fires.at(-1) ?? state.cursor);
    const next = waiting
      ? now + ACTIVE_RETRY_SECONDS * 1000
      : nextFire(state.schedule, Math.max(cursor, now));
    this.ctx.storage.transactionSync(() => {
      this.sql.exec("UPDATE schedule_state SET cursor = ? WHERE id = 1", cursor);
      if (next === null) this.clearTimer();
      else this.driver.timers.set("schedule", SCHEDULE_TIMER_ID, next);
    });
    return { created, skipped };
  }

  /**
   * A fire that threw is tried again after a backoff that grows with its failed attempts (timers.ts):
   * left at its past time, the timer would re-run the alarm at once, in a loop. Runs created before the
   * throw stay, and the retry skips their logical dates. The row is written even if the fire had none.
   */
  failed(now: number): void {
    const at = this.driver.timers.failed("schedule", SCHEDULE_TIMER_ID, now);
    console.warn("schedule fire failed; retrying", { at: iso(at) });
  }

  private owedIntervals(state: ScheduleState, now: number): { intervals: Interval[]; fires: number[] } {
    const limit = state.schedule.catchup ? MAX_CATCHUP : 1;
    const fires = dueFires(state.schedule, state.cursor, now, limit);
    const intervals = intervalsOf(state.schedule, fires).filter((i) => !this.runOf(i.logical_date));
    return { intervals, fires };
  }

  /** Runs for the given logical dates; which ones depends on `reprocess` and the runs they have. */
  backfill(input: BackfillInput): BackfillItem[] {
    const all = intervalsOf(input.schedule, input.dates);
    const chosen = all.filter((interval) => {
      const existing = this.runOf(interval.logical_date);
      if (!existing) return true;
      if (input.reprocess === "all") return true;
      return (
        input.reprocess === "failed" && (existing.status === "failed" || existing.status === "cancelled")
      );
    });
    if (input.dry_run) {
      return chosen.map((i) => ({ id: null, logical_date: iso(i.logical_date), status: "planned" }));
    }
    // As many as were admitted: a date that lost its run since the count waits for the next backfill.
    const ids = input.ids ?? [];
    return chosen
      .slice(0, ids.length)
      .map((interval, i) => this.create(input.version, interval, "backfill", ids[i] ?? ""));
  }

  /** Oldest logical date first. */
  runs(limit = 1000): ScheduledRun[] {
    return this.sql
      .exec<{
        logical_date: number;
        interval_start: number;
        interval_end: number;
        run: string;
        source: "schedule" | "backfill";
        status: string | null;
      }>(
        `SELECT s.logical_date, s.interval_start, s.interval_end, s.run, s.source, r.status
         FROM schedule_runs s LEFT JOIN runs r ON r.id = s.run ORDER BY s.logical_date LIMIT ?`,
        limit,
      )
      .toArray()
      .map((row) => ({
        logical_date: iso(row.logical_date),
        data_interval_start: iso(row.interval_start),
        data_interval_end: iso(row.interval_end),
        run: row.run,
        status: row.status ?? "deleted",
        source: row.source,
      }));
  }

  private runOf(logicalDate: number): { run: string; status: string } | null {
    return (
      this.sql
        .exec<{ run: string; status: string | null }>(
          "SELECT s.run, r.status FROM schedule_runs s LEFT JOIN runs r ON r.id = s.run WHERE s.logical_date = ?",
          logicalDate,
        )
        .toArray()
        .map((r) => ({ run: r.run, status: r.status ?? "deleted" }))[0] ?? null
    );
  }

  /**
   * One run for one interval. Nothing awaits between creating the run and recording its logical date,
   * so both land in the same implicit commit: a retried alarm sees the row and creates nothing.
   */
  private create(
    version: number,
    interval: Interval,
    source: "schedule" | "backfill",
    id: string,
  ): BackfillItem {
    const identity = this.driver.store.identity();
    if (!identity || this.driver.store.specJson(version) === null) {
      throw new Error("the clock has no pipeline version to run");
    }
    // The row says whether the version is still stored; its spec is parsed and compiled once per version
    // (plans.ts), not once per run: a backfill creates many runs of one. A corrupt spec throws here,
    // before anything is written.
    const spec = this.driver.plans.spec(version);
    // The interval is recorded first: the run's first tasks render (run.data_interval_*) inside createRun.
    this.sql.exec(
      `INSERT INTO schedule_runs (logical_date, interval_start, interval_end, run, source) VALUES (?, ?, ?, '', ?)
       ON CONFLICT (logical_date) DO UPDATE SET source = excluded.source`,
      interval.logical_date,
      interval.start,
      interval.end,
      source,
    );
    let created: { id: string; status: string };
    try {
      created = this.driver.createRun(
        {
          ...identity,
          spec,
          version,
          params: defaultParams(spec),
          trigger: { kind: "schedule" },
          logical_date: iso(interval.logical_date),
        },
        id,
      );
    } catch (error) {
      // Left behind, the placeholder would count as the date's run, and the retry would skip it.
      this.sql.exec("DELETE FROM schedule_runs WHERE logical_date = ? AND run = ''", interval.logical_date);
      throw error;
    }
    this.sql.exec(
      "UPDATE schedule_runs SET run = ? WHERE logical_date = ?",
      created.id,
      interval.logical_date,
    );
    return { id: created.id, logical_date: iso(interval.logical_date), status: created.status };
  }

  private clearTimer(): void {
    this.driver.timers.clear("schedule", SCHEDULE_TIMER_ID);
  }
}

/** A scheduled or webhook run has nobody to ask for params: each declared param takes its default. */
export function defaultParams(spec: PipelineSpec): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(spec.params ?? {})) {
    const value = (schema as { default?: unknown }).default;
    if (value !== undefined) out[name] = value;
  }
  return out;
}
