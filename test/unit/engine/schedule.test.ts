import { describe, expect, it } from "vitest";
import { nextRuns } from "../../../worker/engine/index";

const iso = (dates: Date[]) => dates.map((d) => d.toISOString());

describe("nextRuns", () => {
  it("lists fire times strictly after the start, in the schedule's time zone", () => {
    const runs = nextRuns(
      { cron: "0 9 * * 1-5", timezone: "Europe/Berlin" },
      new Date("2027-01-01T08:00:00Z"),
      3,
    );
    // 2027-01-01 is a Friday, 09:00 CET = 08:00Z: that instant is excluded, the weekend skipped.
    expect(iso(runs)).toEqual([
      "2027-01-04T08:00:00.000Z",
      "2027-01-05T08:00:00.000Z",
      "2027-01-06T08:00:00.000Z",
    ]);
  });

  it("moves a time skipped by the spring DST switch in Berlin to the end of the gap", () => {
    const runs = nextRuns(
      { cron: "30 2 * * *", timezone: "Europe/Berlin" },
      new Date("2027-03-26T12:00:00Z"),
      3,
    );
    expect(iso(runs)).toEqual([
      "2027-03-27T01:30:00.000Z", // 02:30 CET
      "2027-03-28T01:00:00.000Z", // 02:30 does not exist; 03:00 CEST
      "2027-03-29T00:30:00.000Z", // 02:30 CEST
    ]);
  });

  it("fires a daily time that occurs twice at the autumn switch only once", () => {
    const runs = nextRuns(
      { cron: "30 2 * * *", timezone: "Europe/Berlin" },
      new Date("2027-10-30T12:00:00Z"),
      2,
    );
    expect(iso(runs)).toEqual(["2027-10-31T00:30:00.000Z", "2027-11-01T01:30:00.000Z"]);
  });

  it("keeps hourly schedules hourly in real time across the autumn switch", () => {
    const runs = nextRuns(
      { cron: "30 * * * *", timezone: "Europe/Berlin" },
      new Date("2027-10-30T23:45:00Z"),
      3,
    );
    expect(iso(runs)).toEqual([
      "2027-10-31T00:30:00.000Z",
      "2027-10-31T01:30:00.000Z",
      "2027-10-31T02:30:00.000Z",
    ]);
  });

  it("returns nothing for invalid schedules, counts or dates instead of throwing", () => {
    const from = new Date("2027-01-01T00:00:00Z");
    expect(nextRuns({ cron: "* * * * * *", timezone: "UTC" }, from, 3)).toEqual([]);
    expect(nextRuns({ cron: "@daily", timezone: "Nowhere/Special" }, from, 3)).toEqual([]);
    expect(nextRuns({ cron: "@daily", timezone: "UTC" }, from, 0)).toEqual([]);
    expect(nextRuns({ cron: "@daily", timezone: "UTC" }, from, Number.NaN)).toEqual([]);
    expect(nextRuns({ cron: "@daily", timezone: "UTC" }, new Date(Number.NaN), 3)).toEqual([]);
    expect(nextRuns({ cron: "@daily", timezone: "UTC" }, from, 1e9)).toHaveLength(1_000);
  });
});
