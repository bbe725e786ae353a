/**
 * Cron schedules: validation for the spec and the next fire times for the scheduler and the API.
 * croner does the calendar arithmetic (including DST) so that the spec check and the clock agree.
 */
import { Cron } from "croner";

/** Five fields: minute-level precision matches the Cron Trigger safety net and Airflow's crons. */
const FIELD_COUNT = 5;
const NICKNAMES = new Set(["@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly", "@annually"]);
const MAX_RUNS = 1_000;

/** The part of a spec's `schedule` that decides when it fires. */
export type CronSchedule = { cron: string; timezone: string };

/** True when the runtime knows the IANA time zone (workerd ships full ICU data). */
export function isTimeZone(timezone: string): boolean {
  if (typeof timezone !== "string" || timezone.length === 0 || timezone.length > 100) return false;
  try {
    new Intl.DateTimeFormat(undefined, { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

/** Why a cron expression is unusable, or null when it is fine. */
export function cronProblem(cron: string): string | null {
  const pattern = cron.trim();
  if (pattern.startsWith("@")) {
    if (!NICKNAMES.has(pattern.toLowerCase())) {
      return `unknown cron nickname "${pattern}": use @hourly, @daily, @weekly, @monthly or @yearly`;
    }
  } else {
    const fields = pattern.split(/\s+/).filter((f) => f.length > 0).length;
    if (fields !== FIELD_COUNT) {
      return `cron must have 5 fields (minute hour day-of-month month day-of-week), e.g. "0 9 * * 1-5"; got ${fields}${fields > FIELD_COUNT ? " (seconds and years are not supported)" : ""}`;
    }
  }
  try {
    const job = new Cron(pattern, { paused: true, mode: "5-part", timezone: "UTC" });
    // A pattern such as "0 0 30 2 *" parses but never fires; that is a mistake, not a schedule.
    if (job.nextRun(new Date(0)) == null) return "cron never fires (no date matches it)";
    return null;
  } catch (error) {
    return `invalid cron: ${cronMessage(error)}`;
  }
}

/**
 * The next `count` fire times strictly after `from`, in the schedule's time zone.
 * A wall-clock time skipped by a DST switch fires at the first valid time after the gap, and a time that
 * occurs twice fires once (croner's "fixed-time" rule). Invalid schedules yield no runs rather than throw,
 * because callers use this for display and timers of specs that were validated earlier.
 * @example nextRuns({ cron: "0 9 * * 1-5", timezone: "Europe/Berlin" }, new Date(), 3)
 */
export function nextRuns(schedule: CronSchedule, from: Date, count: number): Date[] {
  const n = Math.min(Math.max(Math.floor(count), 0), MAX_RUNS);
  if (!(n > 0) || Number.isNaN(from.getTime())) return [];
  if (cronProblem(schedule.cron) !== null || !isTimeZone(schedule.timezone)) return [];
  try {
    const job = new Cron(schedule.cron.trim(), { paused: true, mode: "5-part", timezone: schedule.timezone });
    return job.nextRuns(n, from);
  } catch {
    return [];
  }
}

function cronMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^CronPattern:\s*/, "");
}
