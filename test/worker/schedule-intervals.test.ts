/** Logical dates and data intervals of a cron schedule, in its time zone (engine/intervals.ts). */
import { describe, expect, it } from "vitest";
import { dueFires, firesBetween, intervalsOf, nextFire, previousFire } from "../../worker/engine/intervals";

const t = (iso: string) => Date.parse(iso);
const isos = (ms: number[]) => ms.map((m) => new Date(m).toISOString());
const berlin9 = { cron: "0 9 * * 1-5", timezone: "Europe/Berlin" };

describe("schedule intervals", () => {
  it("lists fires in [from, to) in the schedule's time zone, weekdays only", () => {
    const fires = firesBetween(berlin9, t("2030-01-04T08:00:00Z"), t("2030-01-08T08:00:00Z"), 1000);
    // Friday, then Monday (the weekend skipped); 09:00 in Berlin is 08:00 UTC in winter, `to` excluded.
    expect(isos(fires)).toEqual(["2030-01-04T08:00:00.000Z", "2030-01-07T08:00:00.000Z"]);
  });

  it("gives each fire the interval since the previous fire, across a weekend", () => {
    const [monday] = intervalsOf(berlin9, [t("2030-01-07T08:00:00Z")]);
    expect(monday).toEqual({
      logical_date: t("2030-01-07T08:00:00Z"),
      start: t("2030-01-04T08:00:00Z"),
      end: t("2030-01-07T08:00:00Z"),
    });
    expect(previousFire(berlin9, t("2030-01-07T08:00:00Z"))).toBe(t("2030-01-04T08:00:00Z"));
  });

  it("follows daylight saving time: 09:00 Berlin is 07:00 UTC in summer", () => {
    expect(nextFire(berlin9, t("2030-06-03T06:00:00Z"))).toBe(t("2030-06-03T07:00:00Z"));
  });

  it("owes the newest fires up to a limit, oldest first, and nothing already handled", () => {
    const hourly = { cron: "0 * * * *", timezone: "UTC" };
    const from = t("2030-01-07T08:30:00Z");
    const now = t("2030-01-07T12:00:00Z");
    expect(isos(dueFires(hourly, from, now, 100))).toEqual([
      "2030-01-07T09:00:00.000Z",
      "2030-01-07T10:00:00.000Z",
      "2030-01-07T11:00:00.000Z",
      "2030-01-07T12:00:00.000Z",
    ]);
    expect(isos(dueFires(hourly, from, now, 2))).toEqual([
      "2030-01-07T11:00:00.000Z",
      "2030-01-07T12:00:00.000Z",
    ]);
    expect(dueFires(hourly, now, now + 59 * 60_000, 100)).toEqual([]);
  });

  it("stops at max + 1 so a caller can refuse a range that is too long", () => {
    const minutely = { cron: "* * * * *", timezone: "UTC" };
    expect(firesBetween(minutely, t("2030-01-01T00:00:00Z"), t("2030-01-02T00:00:00Z"), 1000)).toHaveLength(
      1001,
    );
  });
});
