/**
 * Data intervals of a cron schedule (Airflow 3's CronTriggerTimetable semantics): a run's logical date
 * is the fire time itself, and its data interval is [previous fire, this fire). Pure: the PipelineDO
 * uses it for its clock and catchup, the API for backfill, so both agree on which dates exist.
 */
import { Cron } from "croner";
import { type CronSchedule, cronProblem, isTimeZone } from "./schedule";

export type Interval = { logical_date: number; start: number; end: number };

function cronOf(schedule: CronSchedule): Cron | null {
  if (cronProblem(schedule.cron) !== null || !isTimeZone(schedule.timezone)) return null;
  try {
    return new Cron(schedule.cron.trim(), { paused: true, mode: "5-part", timezone: schedule.timezone });
  } catch {
    return null;
  }
}

/** The fire just before `at` (strictly), or `at` itself when the schedule never fired before it. */
export function previousFire(schedule: CronSchedule, at: number): number {
  const job = cronOf(schedule);
  const before = job?.previousRuns(2, new Date(at + 1)).find((d) => d.getTime() < at);
  return before ? before.getTime() : at;
}

/** The first fire strictly after `after`, or null. */
export function nextFire(schedule: CronSchedule, after: number): number | null {
  const next = cronOf(schedule)?.nextRuns(1, new Date(after))[0];
  return next ? next.getTime() : null;
}

/**
 * Fires in (after, now], at most the latest `limit` of them, oldest first: what a clock that last
 * fired at `after` owes at `now` (catchup takes many, no catchup takes one).
 */
export function dueFires(schedule: CronSchedule, after: number, now: number, limit: number): number[] {
  const job = cronOf(schedule);
  if (!job || limit <= 0 || now <= after) return [];
  return job
    .previousRuns(limit, new Date(now + 1))
    .map((d) => d.getTime())
    .filter((t) => t > after && t <= now)
    .reverse();
}

/** Fires in [from, to), oldest first, at most `max + 1` (so a caller can tell "more than max"). */
export function firesBetween(schedule: CronSchedule, from: number, to: number, max: number): number[] {
  const job = cronOf(schedule);
  if (!job || to <= from) return [];
  const out: number[] = [];
  let cursor = new Date(from - 1);
  while (out.length <= max) {
    const batch = job.nextRuns(Math.min(500, max + 1 - out.length), cursor);
    if (batch.length === 0) break;
    for (const d of batch) {
      if (d.getTime() >= to) return out;
      out.push(d.getTime());
    }
    cursor = batch[batch.length - 1] ?? cursor;
  }
  return out;
}

/** Each fire with its data interval [previous fire, fire). */
export function intervalsOf(schedule: CronSchedule, fires: readonly number[]): Interval[] {
  return fires.map((fire, i) => ({
    logical_date: fire,
    start: i > 0 ? (fires[i - 1] ?? fire) : previousFire(schedule, fire),
    end: fire,
  }));
}
