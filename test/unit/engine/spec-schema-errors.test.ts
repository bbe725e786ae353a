import { describe, expect, it } from "vitest";
import { validatePipelineSpec } from "../../../worker/engine/index";
import { errorAt, invalidErrors, minimalSpec, positionOf, yamlErrors } from "./helpers";

describe("schema errors", () => {
  it("points an unknown field at its key, at any depth", () => {
    const source = "name: x\nbogus: 1\ntasks:\n  - id: a\n    uses: core/x@^1\n    retry: 3\n";
    const errors = yamlErrors(source);
    expect(errorAt(errors, "bogus")).toEqual({
      path: "bogus",
      message: 'unknown field "bogus"',
      ...positionOf(source, "bogus"),
    });
    expect(errorAt(errors, "tasks[0].retry")).toMatchObject(positionOf(source, "retry"));
  });

  it("points a missing required field at the mapping that lacks it", () => {
    const source = "tasks:\n  - id: a\n    needs: []\n";
    const errors = yamlErrors(source);
    expect(errorAt(errors, "name")).toEqual({
      path: "name",
      message: "name is required",
      line: 1,
      column: 1,
    });
    expect(errorAt(errors, "tasks[0].uses")).toEqual({
      path: "tasks[0].uses",
      message: "uses is required",
      ...positionOf(source, "id: a"),
    });
  });

  it("reports wrong types and out-of-range numbers with the value's position", () => {
    const source =
      "name: x\nconcurrency: { max_active_runs: 0 }\ntasks:\n  - { id: a, uses: core/x@^1, retries: three }\n";
    const errors = yamlErrors(source);
    expect(errorAt(errors, "concurrency.max_active_runs")).toEqual({
      path: "concurrency.max_active_runs",
      message: "must be at least 1",
      ...positionOf(source, "0 }"),
    });
    expect(errorAt(errors, "tasks[0].retries")).toMatchObject({
      message: "expected a number, got a string",
      ...positionOf(source, "three"),
    });
    const fraction = invalidErrors(validatePipelineSpec(minimalSpec({ defaults: { retries: 1.5 } })));
    expect(errorAt(fraction, "defaults.retries").message).toBe("expected a whole number, got a number");
  });

  it("requires at least one task and at most 500", () => {
    expect(errorAt(invalidErrors(validatePipelineSpec(minimalSpec({ tasks: [] }))), "tasks").message).toBe(
      "a pipeline needs at least one task",
    );
    const many = Array.from({ length: 501 }, (_, i) => ({ id: `t${i}`, uses: "core/x@^1" }));
    expect(errorAt(invalidErrors(validatePipelineSpec(minimalSpec({ tasks: many }))), "tasks").message).toBe(
      "must have at most 500 items",
    );
  });

  it("explains that a task id with a dash would be read as subtraction", () => {
    const source = "name: x\ntasks:\n  - id: fetch-data\n    uses: core/x@^1\n";
    const error = errorAt(yamlErrors(source), "tasks[0].id");
    expect(error.message).toMatch(/subtraction/);
    expect(error).toMatchObject(positionOf(source, "fetch-data"));
  });

  it("checks the shape of uses and that its range is a semver range", () => {
    const source =
      "name: x\ntasks:\n  - { id: a, uses: slack/post }\n  - { id: b, uses: slack/post@latest }\n";
    const errors = yamlErrors(source);
    expect(errorAt(errors, "tasks[0].uses").message).toMatch(/plugin\/operator@range/);
    expect(errorAt(errors, "tasks[1].uses")).toMatchObject({
      message: expect.stringMatching(/"latest" is not a semver range/),
      ...positionOf(source, "slack/post@latest"),
    });
  });

  it("lists the allowed trigger rules and backoffs", () => {
    const errors = invalidErrors(
      validatePipelineSpec(
        minimalSpec({
          tasks: [{ id: "a", uses: "core/x@^1", trigger_rule: "any", retry_backoff: "random" }],
        }),
      ),
    );
    expect(errorAt(errors, "tasks[0].trigger_rule").message).toMatch(
      /^must be one of: all_success, all_failed/,
    );
    expect(errorAt(errors, "tasks[0].retry_backoff").message).toBe(
      "must be one of: constant, linear, exponential",
    );
  });

  it("refuses a longest retry delay shorter than the first delay", () => {
    const errors = invalidErrors(
      validatePipelineSpec(minimalSpec({ defaults: { retry_delay: "1h", max_retry_delay: "5m" } })),
    );
    expect(errorAt(errors, "defaults.max_retry_delay").message).toMatch(
      /must not be shorter than retry_delay/,
    );
  });

  it("checks when and for_each forms", () => {
    const source = `name: x
tasks:
  - id: a
    uses: core/x@^1
    when: "yes"
    for_each: 3
`;
    const errors = yamlErrors(source);
    expect(errorAt(errors, "tasks[0].when")).toMatchObject({
      message: expect.stringMatching(/single "\{\{ expression \}\}"/),
      ...positionOf(source, '"yes"'),
    });
    expect(errorAt(errors, "tasks[0].for_each")).toMatchObject({
      message: 'for_each must be a "{{ expression }}" string or a list of items',
      ...positionOf(source, "3"),
    });
    const tooMany = minimalSpec({
      tasks: [{ id: "a", uses: "core/x@^1", for_each: Array.from({ length: 1001 }, (_, i) => i) }],
    });
    expect(errorAt(invalidErrors(validatePipelineSpec(tooMany)), "tasks[0].for_each").message).toBe(
      "must have at most 1000 items",
    );
  });

  it("reports every error of a spec at once", () => {
    const source = `name: ""
timeout: forever
tasks:
  - { id: a-b, uses: nope }
  - { id: c, uses: core/x@^1, needs: [zzz], with: { v: "{{ nope.x }}" } }
`;
    const errors = yamlErrors(source);
    expect(errors.map((e) => e.path)).toEqual([
      "name",
      "timeout",
      "tasks[0].id",
      "tasks[0].uses",
      "tasks[1].needs[0]",
      "tasks[1].with.v",
    ]);
  });
});
