import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { type ParsedSpec, parsePipelineSpec, validatePipelineSpec } from "../../../worker/engine/index";
import { DESIGN_EXAMPLE } from "./helpers";

function expectWellFormed(result: ParsedSpec): void {
  if (result.ok) {
    expect(result.spec.tasks.length).toBeGreaterThan(0);
    return;
  }
  expect(["syntax", "invalid"]).toContain(result.kind);
  expect(result.errors.length).toBeGreaterThan(0);
  for (const error of result.errors) {
    expect(typeof error.path).toBe("string");
    expect(error.message.length).toBeGreaterThan(0);
    // The backstop catch must stay unused: every input gets a real answer.
    expect(error.message).not.toMatch(/could not be (validated|read)/);
    if (error.line !== undefined) expect(error.line).toBeGreaterThanOrEqual(1);
    if (error.column !== undefined) expect(error.column).toBeGreaterThanOrEqual(1);
  }
}

// Small values keep a run fast inside workerd; breadth comes from the number of runs.
const json = fc.jsonValue({ maxDepth: 2 });
const ids = fc.constantFrom("a", "b", "c", "d", "a-b", "");
const expression = fc.oneof(
  fc.string().map((s) => `{{ ${s} }}`),
  fc.constantFrom(
    "{{ tasks.a.output }}",
    "{{ item }}",
    "{{ params.x }}",
    "{{ $$ }}",
    "{{",
    "x {{ run.id }} y",
  ),
  fc.string(),
);
const task = fc.record(
  {
    id: fc.oneof(ids, json),
    uses: fc.oneof(fc.constantFrom("core/x@^1", "core/x@latest", "x"), fc.string()),
    needs: fc.oneof(fc.array(ids), json),
    with: fc.dictionary(fc.string(), fc.oneof(expression, json), { maxKeys: 4 }),
    when: fc.oneof(expression, json),
    for_each: fc.oneof(expression, fc.array(expression, { maxLength: 3 })),
    retries: fc.oneof(fc.integer(), json),
    timeout: fc.oneof(fc.constantFrom("1h30m", "0s", "31d"), fc.string()),
  },
  { requiredKeys: [] },
);
const specLike = fc.record(
  {
    name: fc.oneof(fc.string(), json),
    params: fc.oneof(fc.dictionary(fc.string(), json, { maxKeys: 3 }), json),
    schedule: fc.record({
      cron: fc.oneof(fc.constantFrom("@daily", "0 0 30 2 *"), fc.string()),
      timezone: fc.string(),
    }),
    triggers: fc.array(
      fc.record({
        webhook: fc.record(
          { id: ids, verify: fc.record({ scheme: fc.string(), secret: expression }), filter: expression },
          { requiredKeys: [] },
        ),
      }),
      { maxLength: 3 },
    ),
    tasks: fc.array(task, { maxLength: 6 }),
  },
  { requiredKeys: [] },
);

// Generous: workerd runs these several times slower than Node, and CI machines are small.
describe("parsing never throws", { timeout: 60_000 }, () => {
  it("returns one of the three outcomes for any string, as YAML and as JSON", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme-composite", maxLength: 200 }), (source) => {
        expectWellFormed(parsePipelineSpec(source, "yaml"));
        expectWellFormed(parsePipelineSpec(source, "json"));
      }),
      { numRuns: 500 },
    );
  });

  it("returns one of the three outcomes for any JSON value", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expectWellFormed(validatePipelineSpec(value));
        expectWellFormed(parsePipelineSpec(JSON.stringify(value) ?? "", "json"));
      }),
      { numRuns: 300 },
    );
  });

  it("returns one of the three outcomes for arbitrary JS values", () => {
    fc.assert(
      fc.property(fc.anything(), (value) => expectWellFormed(validatePipelineSpec(value))),
      { numRuns: 300 },
    );
  });

  it("returns one of the three outcomes for spec-shaped values, in YAML and as values", () => {
    fc.assert(
      fc.property(specLike, (value) => {
        expectWellFormed(validatePipelineSpec(value));
        expectWellFormed(parsePipelineSpec(stringify(value), "yaml"));
      }),
      { numRuns: 300 },
    );
  });

  it("returns one of the three outcomes when the example is corrupted anywhere", () => {
    const corruption = fc.tuple(fc.nat(DESIGN_EXAMPLE.length), fc.nat(8), fc.string({ maxLength: 8 }));
    fc.assert(
      fc.property(corruption, ([at, cut, insert]) => {
        const source = DESIGN_EXAMPLE.slice(0, at) + insert + DESIGN_EXAMPLE.slice(at + cut);
        expectWellFormed(parsePipelineSpec(source, "yaml"));
      }),
      { numRuns: 500 },
    );
  });
});
