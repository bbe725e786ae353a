import { describe, expect, it } from "vitest";
import { parseTemplate, validatePipelineSpec } from "../../../worker/engine/index";
import { errorAt, invalidErrors, positionOf, yamlErrors } from "./helpers";

describe("parseTemplate", () => {
  it("keeps a string without {{ as a literal", () => {
    expect(parseTemplate("trigger.body.x")).toEqual({ kind: "literal", value: "trigger.body.x" });
  });

  it("treats exactly one expression as a typed value, ignoring surrounding whitespace", () => {
    expect(parseTemplate("{{ tasks.a.output }}")).toEqual({ kind: "expression", expr: "tasks.a.output" });
    expect(parseTemplate("  {{params.n}}\n")).toEqual({ kind: "expression", expr: "params.n" });
  });

  it("splits text and expressions of an interpolated string", () => {
    expect(parseTemplate("Hi {{ item.name }}, run {{ run.id }}!")).toEqual({
      kind: "interpolated",
      parts: [
        { kind: "text", value: "Hi " },
        { kind: "expression", expr: "item.name" },
        { kind: "text", value: ", run " },
        { kind: "expression", expr: "run.id" },
        { kind: "text", value: "!" },
      ],
    });
  });

  it("does not end an expression at braces inside objects, strings or names", () => {
    expect(parseTemplate("{{ {'a': {'b': 1}} }}")).toEqual({ kind: "expression", expr: "{'a': {'b': 1}}" });
    expect(parseTemplate("{{ 'x }} y' & `we}}ird` }}")).toEqual({
      kind: "expression",
      expr: "'x }} y' & `we}}ird`",
    });
    expect(parseTemplate("{{ '{{' }}")).toEqual({ kind: "expression", expr: "'{{'" });
  });

  it("flags unterminated and empty expressions", () => {
    expect(parseTemplate("{{ params.x")).toMatchObject({ kind: "invalid" });
    expect(parseTemplate("a {{ 'open }}")).toMatchObject({ kind: "invalid" });
    expect(parseTemplate("{{   }}")).toMatchObject({ kind: "invalid" });
  });
});

describe("expressions in a spec", () => {
  const base = `name: x
params:
  channel: { type: string }
tasks:
  - { id: fetch, uses: core/x@^1 }
  - { id: other, uses: core/x@^1 }
`;

  it("refuses secrets in when and for_each at their path, and keeps them in with", () => {
    const source = `${base}  - { id: t, uses: core/x@^1, when: "{{ secrets.FLAG = 'on' }}", for_each: "{{ $split(secrets.LIST, ',') }}", with: { key: "{{ secrets.KEY }}" } }\n`;
    const errors = yamlErrors(source);
    expect(errorAt(errors, "tasks[2].when").message).toMatch(/^secrets can only be read in with/);
    expect(errorAt(errors, "tasks[2].for_each").message).toMatch(/^secrets can only be read in with/);
    expect(errors.filter((e) => e.path.startsWith("tasks[2].with"))).toEqual([]);
  });

  it("reports a JSONata syntax error with the jsonata message and position", () => {
    const source = `${base}  - { id: t, uses: core/x@^1, needs: [fetch], with: { v: "{{ tasks.fetch.output[ }}" } }\n`;
    expect(errorAt(yamlErrors(source), "tasks[2].with.v")).toMatchObject({
      message: expect.stringMatching(/^invalid expression "tasks.fetch.output\[": .+\(at character \d+\)$/),
      ...positionOf(source, '"{{ tasks.fetch'),
    });
  });

  it("refuses names that are not in the expression context", () => {
    const source = `${base}  - { id: t, uses: core/x@^1, with: { v: "{{ trigger.body & output.x }}" } }\n`;
    expect(errorAt(yamlErrors(source), "tasks[2].with.v").message).toBe(
      'unknown name "output": expressions can read params, trigger, tasks, run, secrets and, with for_each, item',
    );
  });

  it("refuses tasks.X when X is not upstream, and says to add it to needs", () => {
    const source = `${base}  - id: t
    uses: core/x@^1
    needs: [fetch]
    with:
      deep: { list: [1, "{{ tasks.other.output }}"] }
`;
    expect(errorAt(yamlErrors(source), "tasks[2].with.deep.list[1]")).toEqual({
      path: "tasks[2].with.deep.list[1]",
      message: "tasks.other is not upstream of t — add it to needs",
      ...positionOf(source, '"{{ tasks.other'),
    });
  });

  it("accepts transitive upstream tasks and refuses unknown or own outputs", () => {
    const spec = (withValue: string) =>
      validatePipelineSpec({
        name: "x",
        tasks: [
          { id: "a", uses: "core/x@^1" },
          { id: "b", uses: "core/x@^1", needs: ["a"] },
          { id: "c", uses: "core/x@^1", needs: ["b"], with: { v: withValue } },
        ],
      });
    expect(spec("{{ tasks.a.output }}").ok).toBe(true);
    expect(errorAt(invalidErrors(spec("{{ tasks.zz.output }}")), "tasks[2].with.v").message).toBe(
      'tasks.zz: there is no task "zz"',
    );
    expect(errorAt(invalidErrors(spec("{{ tasks.c.output }}")), "tasks[2].with.v").message).toMatch(
      /own output/,
    );
    expect(errorAt(invalidErrors(spec("{{ $keys(tasks) }}")), "tasks[2].with.v").message).toMatch(
      /tasks.<id>.output/,
    );
  });

  it("refuses params that are not declared", () => {
    const source = `${base}  - { id: t, uses: core/x@^1, when: "{{ params.channel and params.chanel }}" }\n`;
    expect(errorAt(yamlErrors(source), "tasks[2].when").message).toBe(
      "params.chanel is not declared in params",
    );
  });

  it("allows item only in a task with for_each, and not in for_each itself", () => {
    const errors = invalidErrors(
      validatePipelineSpec({
        name: "x",
        tasks: [
          { id: "a", uses: "core/x@^1", with: { v: "{{ item }}" } },
          { id: "b", uses: "core/x@^1", for_each: "{{ item.list }}" },
          { id: "c", uses: "core/x@^1", for_each: [1, 2], when: "{{ item > 1 }}", with: { v: "{{ item }}" } },
        ],
      }),
    );
    expect(errors).toEqual([
      { path: "tasks[0].with.v", message: "item is only defined in a task with for_each" },
      { path: "tasks[1].for_each", message: "for_each cannot use item: item is what for_each produces" },
    ]);
  });

  it("ignores names evaluated against a step's items rather than the root", () => {
    const result = validatePipelineSpec({
      name: "x",
      tasks: [
        { id: "a", uses: "core/x@^1" },
        {
          id: "b",
          uses: "core/x@^1",
          needs: ["a"],
          with: {
            filtered: "{{ tasks.a.output[status = 'ok'].{ 'id': id } }}",
            sorted: "{{ tasks.a.output^(>score) }}",
            grouped: "{{ tasks.a.output{ kind: $count(id) } }}",
            bound: "{{ ($x := tasks.a.output; $x.name) }}",
          },
        },
      ],
    });
    expect(result).toMatchObject({ ok: true });
  });
});
