/**
 * Saving checks a spec against the installed plugins' manifests: unknown plugins and operators,
 * version ranges and literal inputs are 422s with paths and lines; templated inputs wait for run time.
 */
import { describe, expect, it } from "vitest";
import { validatePipelineSpec } from "../../worker/engine";
import { PluginCatalog } from "../../worker/plugins/catalog";
import { checkOperators } from "../../worker/plugins/check";
import { expectProblem, ownerWithTenant } from "./helpers";
import { task, withPipeline } from "./runs-helpers";

const yaml = (raw: string) => ({ raw, contentType: "application/yaml" });

type SpecError = { path: string; message: string; line?: number; column?: number };

async function saveRefused(raw: string) {
  const { owner, slug } = await ownerWithTenant();
  const base = `/api/tenants/${slug}/pipelines/checked`;
  const problem = expectProblem(await owner.json("PUT", base, yaml(raw)), 422);
  expectProblem(await owner.json("GET", base), 404);
  const validated = await owner.json<{ valid: boolean; errors: SpecError[] }>(
    "POST",
    `${base}/validate`,
    yaml(raw),
  );
  expect(validated.body).toEqual({ valid: false, errors: problem.errors });
  return problem.errors as SpecError[];
}

describe("spec checks against installed plugins", () => {
  it("refuses a plugin that is not installed, at the task's uses line", async () => {
    const errors = await saveRefused(
      "name: x\ntasks:\n  - id: a\n    uses: core/noop@^1\n  - id: post\n    uses: acme-crm/post-message@^1\n",
    );
    expect(errors).toEqual([
      { path: "tasks[1].uses", message: 'plugin "acme-crm" is not installed', line: 6, column: 11 },
    ]);
  });

  it("refuses an operator the plugin does not have, naming the ones it has", async () => {
    const errors = await saveRefused("name: x\ntasks:\n  - id: a\n    uses: core/htp@^1\n");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ path: "tasks[0].uses", line: 4 });
    expect(errors[0]?.message).toMatch(/^plugin "core" has no operator "htp"; its operators are: .*\bhttp\b/);
    expect(errors[0]?.message).toMatch(/\bsleep\b/);
  });

  it("refuses a version range the installed plugin does not satisfy", async () => {
    const errors = await saveRefused(
      'name: x\ntasks:\n  - id: a\n    uses: "core/noop@>=2 <3"\n  - id: b\n    uses: core/noop@^1.0\n',
    );
    expect(errors).toEqual([
      {
        path: "tasks[0].uses",
        message: expect.stringMatching(
          /^plugin "core" is at version 1\.\d+\.\d+, which does not satisfy ">=2 <3"$/,
        ),
        line: 4,
        column: 11,
      },
    ]);
  });

  it("refuses literal inputs that violate the operator's input schema, at the offending values", async () => {
    const source = [
      "name: x",
      "tasks:",
      "  - id: ping",
      "    uses: core/http@^1",
      "    with:",
      '      url: "not a url"',
      "      method: FETCH",
      "      retries: 2",
      "      headers: { accept: 1 }",
      "  - id: wait",
      "    uses: core/sleep@^1",
      '    with: { duration: "5 minutes" }',
      "  - id: nourl",
      "    uses: core/http@^1",
      "  - id: boom",
      "    uses: core/fail@^1",
      '    with: { retryable: "yes" }',
      "",
    ].join("\n");
    const errors = await saveRefused(source);
    expect(errors).toEqual([
      {
        path: "tasks[0].with.url",
        message: "expected an absolute URL such as https://example.com/path",
        line: 6,
        column: 12,
      },
      {
        path: "tasks[0].with.method",
        message: "must be one of: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
        line: 7,
        column: 15,
      },
      {
        path: "tasks[0].with.retries",
        message: expect.stringMatching(
          /^unknown field "retries" \(expected one of: method, url, .*timeout\)$/,
        ),
        line: 8,
        column: 7,
      },
      {
        path: "tasks[0].with.headers.accept",
        message: "expected a string, got a number",
        line: 9,
        column: 26,
      },
      {
        path: "tasks[1].with.duration",
        message: 'expected a duration such as "500ms", "30s", "5m" or "1h"',
        line: 12,
        column: 23,
      },
      // A missing field points at the nearest thing that is written: the task.
      { path: "tasks[2].with.url", message: "url is required", line: 13, column: 5 },
      { path: "tasks[3].with.retryable", message: "expected a boolean, got a string", line: 17, column: 24 },
    ]);
  });

  it("keeps the previous version when a change breaks an operator's input", async () => {
    const { owner, slug } = await ownerWithTenant();
    const base = `/api/tenants/${slug}/pipelines/keep`;
    const spec = (url: string) => ({
      name: "Keep",
      tasks: [{ id: "ping", uses: "core/http@^1", with: { url } }],
    });
    expect((await owner.json("PUT", base, { body: spec("https://example.com/a") })).status).toBe(201);
    const refused = expectProblem(await owner.json("PUT", base, { body: spec("example.com/a") }), 422);
    // JSON bodies are positioned too.
    expect(refused.errors).toEqual([expect.objectContaining({ path: "tasks[0].with.url", line: 1 })]);
    const got = await owner.json<{ version: number; spec: { tasks: { with: unknown }[] } }>("GET", base);
    expect(got.body.version).toBe(1);
    expect(got.body.spec.tasks[0]?.with).toEqual({ url: "https://example.com/a" });
  });

  it("accepts templated values that would be invalid written literally, and still checks their siblings", async () => {
    const { owner, slug } = await ownerWithTenant();
    const base = `/api/tenants/${slug}/pipelines/templated`;
    const templated = {
      name: "Templated",
      params: { target: { type: "string", default: "https://example.com" } },
      tasks: [
        {
          id: "ping",
          uses: "core/http@^1",
          with: {
            url: "{{ params.target }}",
            method: "{{ 'PO' & 'ST' }}",
            headers: { "x-run": "run {{ run.id }}" },
            query: "{{ {'page': 1} }}",
          },
        },
        { id: "wait", uses: "core/sleep@^1", with: { duration: "{{ params.target }}" } },
      ],
    };
    const saved = await owner.json("PUT", base, { body: templated });
    expect(saved.status).toBe(201);
    const validated = await owner.json("POST", `${base}/validate`, { body: templated });
    expect(validated.body).toEqual({ valid: true, errors: [] });

    const ping = templated.tasks[0];
    const withLiteralMethod = {
      ...templated,
      tasks: [{ ...ping, with: { ...ping?.with, method: "FETCH", timeout: "{{ params.target }}" } }],
    };
    const refused = expectProblem(await owner.json("PUT", base, { body: withLiteralMethod }), 422);
    expect(refused.errors?.map((e) => e.path)).toEqual(["tasks[0].with.method"]);
  });

  it("saves a spec whose tasks all resolve and whose inputs fit", async () => {
    const { owner, slug } = await ownerWithTenant();
    const res = await owner.json(
      "PUT",
      `/api/tenants/${slug}/pipelines/fine`,
      yaml(
        [
          "name: Fine",
          "tasks:",
          "  - { id: a, uses: core/http@1.x, with: { url: https://example.com, method: POST, body: { n: [1, null] } } }",
          "  - { id: b, uses: core/transform@*, needs: [a], with: { expression: tasks.a.output.status } }",
          "  - { id: c, uses: core/sleep@^1.0.0, with: { duration: 1m30s } }",
          "  - { id: d, uses: core/noop@^1, with: { anything: [goes, here] } }",
          "  - { id: e, uses: core/fail@^1, with: { message: nope, retryable: true, retry_after: 5s } }",
          "",
        ].join("\n"),
      ),
    );
    expect(res.status).toBe(201);
  });
});

describe("the catalog", () => {
  const parsed = validatePipelineSpec({
    name: "x",
    tasks: [
      { id: "a", uses: "notes/create@^1", with: { title: 5 } },
      { id: "b", uses: "notes/create@^2" },
      { id: "c", uses: "notes/delete@^1" },
    ],
  });
  if (!parsed.ok) throw new Error("the spec is valid");

  it("checks uses and literal inputs against the stored manifest of the installation a name means", () => {
    const manifest = {
      protocol: 1 as const,
      name: "acme-notes",
      version: "1.4.0",
      title: "Notes",
      description: "",
      categories: [],
      icon: null,
      homepage: null,
      connection: {},
      operators: [
        {
          name: "create",
          description: "",
          kind: "action" as const,
          input: { type: "object", properties: { title: { type: "string" } } },
          output: {},
          timeout: "30s",
        },
      ],
    };
    const catalog = new PluginCatalog(
      new Map([["notes", { plugin: "acme-notes", version: "1.4.0", manifest }]]),
    );
    expect(checkOperators(parsed.spec, catalog)).toEqual([
      { path: ["tasks", 0, "with", "title"], message: "expected a string, got a number" },
      {
        path: ["tasks", 1, "uses"],
        message: 'plugin "notes" is at version 1.4.0, which does not satisfy "^2"',
      },
      {
        path: ["tasks", 2, "uses"],
        message: 'plugin "notes" has no operator "delete"; its operators are: create',
      },
    ]);
    expect(checkOperators(parsed.spec, new PluginCatalog(new Map()))).toEqual(
      [0, 1, 2].map((i) => ({ path: ["tasks", i, "uses"], message: 'plugin "notes" is not installed' })),
    );
  });
});

describe("templated inputs at run time", () => {
  it("fails the task without retrying when a rendered value violates the operator's schema", async () => {
    const { start } = await withPipeline({
      name: "Bad render",
      params: { target: { type: "string", default: "not a url" } },
      tasks: [{ id: "ping", uses: "core/http@^1", retries: 3, with: { url: "{{ params.target }}" } }],
    });
    const run = await start();
    expect(run.status).toBe("failed");
    expect(task(run, "ping")).toMatchObject({
      status: "failed",
      attempts: 1,
      error: {
        kind: "input_invalid",
        message: "input violates the operator's schema: input.url: expected an absolute http or https URL",
      },
    });
  });

  it("names the field when a rendered value has the wrong type", async () => {
    const { start } = await withPipeline({
      name: "Bad duration",
      tasks: [{ id: "wait", uses: "core/sleep@^1", retries: 2, with: { duration: "{{ 5 * 60 }}" } }],
    });
    const run = await start();
    expect(run.status).toBe("failed");
    const wait = task(run, "wait");
    expect(wait).toMatchObject({ status: "failed", attempts: 1 });
    expect(wait.error).toEqual({
      kind: "input_invalid",
      message:
        "input violates the operator's schema: input.duration: Invalid input: expected string, received number",
    });
  });
});
