import { describe, expect, it } from "vitest";
import { canonicalJson, parsePipelineSpec, validatePipelineSpec } from "../../../worker/engine/index";
import { DESIGN_EXAMPLE, minimalSpec } from "./helpers";

describe("a valid pipeline spec", () => {
  it("accepts the DESIGN.md example, webhook secret template included", () => {
    const result = parsePipelineSpec(DESIGN_EXAMPLE, "yaml");
    expect(result).toMatchObject({ ok: true });
    if (!result.ok) return;
    expect(result.spec.name).toBe("GitHub pushes to Slack");
    expect(result.spec.triggers?.[0]?.webhook.verify).toEqual({
      scheme: "github",
      secret: "{{ secrets.GITHUB_HOOK_SECRET }}",
    });
    expect(result.spec.tasks.map((t) => t.id)).toEqual(["commits", "notify"]);
  });

  it("applies defaults to the output", () => {
    const result = validatePipelineSpec(
      minimalSpec({
        schedule: { cron: "@daily" },
        triggers: [{ webhook: { id: "hook", verify: { scheme: "standard" } } }],
      }),
    );
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    expect(result.spec.schedule).toEqual({ cron: "@daily", timezone: "UTC", catchup: false });
    expect(result.spec.triggers?.[0]?.webhook).toMatchObject({
      dedupe_window: "24h",
      respond: { mode: "async", deadline_ms: 10_000 },
    });
    expect(result.spec.tasks[0]).toEqual({ id: "only", uses: "core/noop@^1", with: {}, needs: [] });
  });

  it("gives the same spec for YAML and for the equivalent JSON", () => {
    const yaml = parsePipelineSpec(DESIGN_EXAMPLE, "yaml");
    if (!yaml.ok) throw new Error("the example must parse");
    const json = parsePipelineSpec(JSON.stringify(yaml.spec, null, 2), "json");
    expect(json).toEqual(yaml);
    expect(validatePipelineSpec(JSON.parse(JSON.stringify(yaml.spec)))).toEqual(yaml);
  });

  it("reports the same errors for YAML and JSON, with positions in both", () => {
    const spec = { name: "x", tasks: [{ id: "a", uses: "core/x@^1", needs: ["ghost"] }] };
    const json = parsePipelineSpec(JSON.stringify(spec, null, 2), "json");
    const yaml = parsePipelineSpec(
      "name: x\ntasks:\n  - id: a\n    uses: core/x@^1\n    needs: [ghost]\n",
      "yaml",
    );
    expect(json).toMatchObject({
      ok: false,
      kind: "invalid",
      errors: [{ path: "tasks[0].needs[0]", line: 8, column: 9 }],
    });
    expect(yaml).toMatchObject({
      ok: false,
      kind: "invalid",
      errors: [{ path: "tasks[0].needs[0]", line: 5, column: 13 }],
    });
    if (json.ok || yaml.ok) return;
    expect(json.errors.map((e) => [e.path, e.message])).toEqual(yaml.errors.map((e) => [e.path, e.message]));
  });

  it("is canonically equal however its keys are ordered", () => {
    const a = parsePipelineSpec("name: n\ntasks:\n  - {id: t, uses: core/x@^1, retries: 2}\n", "yaml");
    const b = parsePipelineSpec(
      '{"tasks": [{"retries": 2, "uses": "core/x@^1", "id": "t"}], "name": "n"}',
      "json",
    );
    if (!a.ok || !b.ok) throw new Error("both must parse");
    expect(canonicalJson(a.spec)).toBe(canonicalJson(b.spec));
  });

  it("accepts YAML anchors, aliases and merge keys", () => {
    const anchored = `name: shared
tasks:
  - &base { id: a, uses: core/x@^1, retries: 2 }
  - <<: *base
    id: b
    needs: [a]
`;
    const ok = parsePipelineSpec(anchored, "yaml");
    expect(ok).toMatchObject({
      ok: true,
      spec: { tasks: [{ id: "a" }, { id: "b", retries: 2, needs: ["a"] }] },
    });
  });

  it("accepts every uses range form that semver accepts", () => {
    for (const range of [
      "^1",
      "~1.2",
      "1.2.3",
      ">=1 <2",
      "*",
      "1.x",
      "^1.2.3-beta.1",
      "1 - 2",
      ">=1 || <0.5",
    ]) {
      const result = validatePipelineSpec(minimalSpec({ tasks: [{ id: "t", uses: `core/x@${range}` }] }));
      expect(result.ok, range).toBe(true);
    }
  });

  it("accepts expressions that read declared params, upstream tasks, run, trigger and secrets", () => {
    const result = validatePipelineSpec({
      name: "refs",
      params: { limit: { type: "integer", default: 10 } },
      tasks: [
        { id: "a", uses: "core/x@^1" },
        { id: "b", uses: "core/x@^1", needs: ["a"] },
        {
          id: "c",
          uses: "core/x@^1",
          needs: ["b"],
          when: "{{ $count(tasks.a.output) > params.limit }}",
          for_each: "{{ tasks.b.output[status = 'ok'] }}",
          with: {
            nested: { list: ["{{ item.id }}", "run {{ run.id }} at {{ $now() }}"] },
            auth: "Bearer {{ secrets.API_TOKEN }}",
            body: "{{ trigger.body }}",
            literal: "{{ '{{' }} is how a literal brace pair is written",
            lambda: "{{ $map(tasks.a.output, function($v) { $v.x + $$.params.limit }) }}",
          },
        },
      ],
    });
    expect(result).toMatchObject({ ok: true });
  });
});
