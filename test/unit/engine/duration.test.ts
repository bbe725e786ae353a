import { describe, expect, it } from "vitest";
import { parseDuration, validatePipelineSpec } from "../../../worker/engine/index";
import { errorAt, invalidErrors, minimalSpec, positionOf, yamlErrors } from "./helpers";

describe("parseDuration", () => {
  it.each([
    ["500ms", 500],
    ["30s", 30_000],
    ["5m", 300_000],
    ["1h", 3_600_000],
    ["1d", 86_400_000],
    ["1h30m", 5_400_000],
    ["1d2h3m4s5ms", 93_784_005],
    ["0s", 0],
  ])("reads %s as %i ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    "",
    "5",
    "m5",
    "5 m",
    "1.5h",
    "-1s",
    "1w",
    "1H",
    " 1s",
    "1s ",
    "99999999999999999999d",
    `${"1s".repeat(40)}`,
  ])("refuses %j", (text) => {
    expect(parseDuration(text)).toBeNull();
  });
});

describe("durations in a spec", () => {
  it("shows an example when the format is wrong", () => {
    const source = "name: x\ntimeout: 90\ntasks:\n  - { id: a, uses: core/x@^1, retry_delay: 5 seconds }\n";
    const errors = yamlErrors(source);
    expect(errorAt(errors, "timeout")).toMatchObject({
      message: "expected a string, got a number",
      ...positionOf(source, "90"),
    });
    expect(errorAt(errors, "tasks[0].retry_delay")).toMatchObject({
      message: 'must be a duration such as "500ms", "30s", "5m", "1h" or "1h30m"',
      ...positionOf(source, "5 seconds"),
    });
  });

  it("refuses zero and anything longer than 30 days", () => {
    const errors = invalidErrors(
      validatePipelineSpec(minimalSpec({ timeout: "0s", defaults: { timeout: "31d" } })),
    );
    expect(errorAt(errors, "timeout").message).toBe('must be greater than 0, e.g. "30s"');
    expect(errorAt(errors, "defaults.timeout").message).toBe("must be at most 30d");
    expect(validatePipelineSpec(minimalSpec({ timeout: "30d", defaults: { retry_delay: "500ms" } })).ok).toBe(
      true,
    );
  });
});
