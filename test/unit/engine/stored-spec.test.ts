import { describe, expect, it } from "vitest";
import {
  canonicalJson,
  parsePipelineSpec,
  StoredValueError,
  storedSchedule,
  storedSpec,
} from "../../../worker/engine/index";
import { DESIGN_EXAMPLE, minimalSpec } from "./helpers";

/** What the save path writes to pipeline_versions.spec: the canonical JSON of the validated spec. */
function saved(source: string, format: "yaml" | "json" = "json"): { text: string; spec: unknown } {
  const parsed = parsePipelineSpec(source, format);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return { text: canonicalJson(parsed.spec), spec: parsed.spec };
}

describe("a stored pipeline spec", () => {
  it("reads back exactly what the save path wrote, defaults included", () => {
    const specs = [
      saved(DESIGN_EXAMPLE, "yaml"),
      saved(JSON.stringify(minimalSpec())),
      saved(
        JSON.stringify(
          minimalSpec({
            schedule: { cron: "@daily" },
            triggers: [
              { webhook: { id: "hook", verify: { scheme: "standard" }, schema: { type: "object" } } },
            ],
            timeout: "1h",
          }),
        ),
      ),
    ];
    for (const { text, spec } of specs) expect(storedSpec(text)).toEqual(spec);
  });

  it("refuses a spec without tasks, naming what is corrupt and where", () => {
    const read = () => storedSpec(JSON.stringify({ name: "No tasks" }));
    expect(read).toThrow(StoredValueError);
    expect(read).toThrow(/^stored pipeline spec is corrupt: tasks: /);
  });

  it("still reads a version saved before a save-time rule was tightened (time zone, regex, limit)", () => {
    const { text } = saved(JSON.stringify(minimalSpec({ schedule: { cron: "@daily" } })));
    const older = JSON.parse(text);
    older.schedule.timezone = "Mars/Olympus_Mons";
    older.params = { code: { type: "string", pattern: "(a+)+$" } };
    // zod's own checks: a regex (invalid_format) and a limit (too_big), as if both were tightened.
    older.triggers = [
      {
        webhook: {
          id: "Upper_Case",
          verify: { scheme: "none" },
          dedupe_window: "24h",
          respond: { mode: "sync", deadline_ms: 60_000 },
        },
      },
    ];
    expect(() => parsePipelineSpecOrThrow(JSON.stringify(older))).toThrow();
    expect(storedSpec(JSON.stringify(older))).toEqual(older);
    expect(storedSchedule(JSON.stringify(older.schedule))).toEqual(older.schedule);
  });

  it("refuses text that is not JSON", () => {
    expect(() => storedSpec('{"name": "cut off", "tas')).toThrow(
      /^stored pipeline spec is corrupt: not JSON/,
    );
  });

  it("lists the first few problems and counts the rest", () => {
    const tasks = Array.from({ length: 5 }, (_, i) => ({ id: `t${i}`, uses: 42 }));
    let error: unknown;
    try {
      storedSpec(JSON.stringify({ name: "x", tasks }));
    } catch (thrown) {
      error = thrown;
    }
    if (!(error instanceof StoredValueError)) throw new Error(`expected a StoredValueError, got ${error}`);
    expect(error.what).toBe("pipeline spec");
    expect(error.message).toMatch(
      /tasks\.0\.uses: .*; tasks\.1\.uses: .*; tasks\.2\.uses: .* \(and 2 more\)$/,
    );
  });
});

describe("a stored schedule", () => {
  it("reads the pipelines table's schedule column", () => {
    const text = JSON.stringify({ cron: "0 9 * * 1-5", timezone: "Europe/Berlin", catchup: true });
    expect(storedSchedule(text)).toEqual({ cron: "0 9 * * 1-5", timezone: "Europe/Berlin", catchup: true });
  });

  it("refuses a schedule without a cron instead of firing on undefined", () => {
    expect(() => storedSchedule(JSON.stringify({ timezone: "UTC" }))).toThrow(
      /^stored pipeline schedule is corrupt: cron: /,
    );
  });
});

function parsePipelineSpecOrThrow(source: string): unknown {
  const parsed = parsePipelineSpec(source, "json");
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.spec;
}
