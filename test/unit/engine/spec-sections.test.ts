import { describe, expect, it } from "vitest";
import { validatePipelineSpec } from "../../../worker/engine/index";
import { errorAt, invalidErrors, minimalSpec, positionOf, yamlErrors } from "./helpers";

function hookErrors(webhook: Record<string, unknown>) {
  return invalidErrors(
    validatePipelineSpec(minimalSpec({ triggers: [{ webhook: { id: "h", ...webhook } }] })),
  );
}

describe("params", () => {
  it("checks param names and that each param is a JSON Schema object", () => {
    const source =
      'name: x\nparams:\n  "bad-name": { type: string }\n  flat: string\ntasks: [{ id: a, uses: core/x@^1 }]\n';
    const errors = yamlErrors(source);
    expect(errorAt(errors, "params.bad-name")).toMatchObject({
      message: expect.stringMatching(/^param name must start with a letter/),
      ...positionOf(source, '"bad-name"'),
    });
    expect(errorAt(errors, "params.flat")).toMatchObject({
      message: "a param must be a JSON Schema object, e.g. { type: string }",
      ...positionOf(source, "string", "flat"),
    });
  });

  it("checks a default against its schema, at the default's position", () => {
    const source =
      "name: x\nparams:\n  limit: { type: integer, minimum: 1, default: 0 }\ntasks: [{ id: a, uses: core/x@^1 }]\n";
    expect(errorAt(yamlErrors(source), "params.limit.default")).toMatchObject({
      message: "default does not match the schema: 0 is less than 1.",
      ...positionOf(source, "0 }"),
    });
  });

  it("refuses schemas the validator would misread or choke on", () => {
    const errors = invalidErrors(
      validatePipelineSpec(
        minimalSpec({
          params: {
            typo: { type: "strng" },
            regex: { type: "string", pattern: "(" },
            redos: { type: "string", pattern: "^(a+)+$" },
            fine: { type: "string", pattern: "^[a-z0-9-]+$" },
            ref: { $ref: "#/$defs/missing" },
            props: { type: "object", properties: 5 },
          },
        }),
      ),
    );
    expect(errorAt(errors, "params.typo.type").message).toMatch(/^type must be one of string, number/);
    expect(errorAt(errors, "params.regex.pattern").message).toMatch(/^invalid regular expression/);
    // Run params are validated with these patterns in the API's isolate: one that backtracks is refused.
    expect(errorAt(errors, "params.redos.pattern").message).toMatch(/quantifies a group .*could stall/);
    expect(errors.filter((e) => e.path.startsWith("params.fine"))).toEqual([]);
    expect(errorAt(errors, "params.ref.$ref").message).toMatch(/cannot resolve \$ref "#\/\$defs\/missing"/);
    expect(errorAt(errors, "params.props.properties").message).toBe(
      "properties must be an object of schemas",
    );
  });
});

describe("schedule", () => {
  it.each([
    ["* * * * * *", /5 fields .*seconds and years are not supported/],
    ["0 9 * *", /5 fields/],
    ["@reboot", /unknown cron nickname/],
    ["0 0 30 2 *", /never fires/],
    ["61 * * * *", /^invalid cron: .*minute/],
  ])("refuses the cron %j", (cron, message) => {
    const errors = invalidErrors(validatePipelineSpec(minimalSpec({ schedule: { cron } })));
    expect(errorAt(errors, "schedule.cron").message).toMatch(message);
  });

  it.each([
    "0 9 * * 1-5",
    "*/15 * * * *",
    "@hourly",
    "@daily",
    "@weekly",
    "@monthly",
    "@yearly",
    "0 0 L * *",
  ])("accepts the cron %j", (cron) => {
    expect(validatePipelineSpec(minimalSpec({ schedule: { cron } })).ok).toBe(true);
  });

  it("refuses an unknown time zone at its position", () => {
    const source =
      "name: x\nschedule: { cron: '@daily', timezone: Mars/Olympus }\ntasks: [{ id: a, uses: core/x@^1 }]\n";
    expect(errorAt(yamlErrors(source), "schedule.timezone")).toMatchObject({
      message: expect.stringMatching(/unknown time zone/),
      ...positionOf(source, "Mars/Olympus"),
    });
  });
});

describe("webhook triggers", () => {
  it("refuses a literal secret without echoing it, and says to store it as a tenant secret", () => {
    const source = `name: x
triggers:
  - webhook:
      id: gh
      verify: { scheme: github, secret: hunter2 }
tasks: [{ id: a, uses: core/x@^1 }]
`;
    const error = errorAt(yamlErrors(source), "triggers[0].webhook.verify.secret");
    expect(error).toMatchObject(positionOf(source, "hunter2"));
    expect(error.message).toMatch(/tenant secret/);
    expect(error.message).toMatch(/\{\{ secrets\./);
    expect(error.message).not.toMatch(/hunter2/);
  });

  it("refuses a secret that mixes a reference with text", () => {
    const errors = hookErrors({ verify: { scheme: "hmac", secret: "prefix-{{ secrets.KEY }}" } });
    expect(errorAt(errors, "triggers[0].webhook.verify.secret").message).toMatch(/tenant secret/);
  });

  it("refuses a secret for scheme none and a tolerance for schemes without timestamps", () => {
    const errors = hookErrors({ verify: { scheme: "none", secret: "{{ secrets.X }}", tolerance: "5m" } });
    expect(errorAt(errors, "triggers[0].webhook.verify.secret").message).toMatch(/takes no secret/);
    expect(errorAt(errors, "triggers[0].webhook.verify.tolerance").message).toMatch(
      /standard, stripe, slack/,
    );
  });

  it("checks scheme, id, dedupe window, respond and schema", () => {
    const errors = invalidErrors(
      validatePipelineSpec(
        minimalSpec({
          triggers: [
            {
              webhook: {
                id: "Bad Id",
                verify: { scheme: "md5" },
                dedupe_window: "8d",
                respond: { mode: "sync", deadline_ms: 60_000 },
                schema: { type: "object", required: "id" },
              },
            },
          ],
        }),
      ),
    );
    expect(errors.map((e) => [e.path, e.message])).toEqual([
      ["triggers[0].webhook.id", expect.stringMatching(/^id must start with a lower-case letter/)],
      [
        "triggers[0].webhook.verify.scheme",
        "must be one of: standard, github, stripe, slack, hmac, bearer, basic, none",
      ],
      ["triggers[0].webhook.dedupe_window", "must be at most 7d"],
      ["triggers[0].webhook.schema.required", "required must be a list of property names"],
      ["triggers[0].webhook.respond.deadline_ms", "must be at most 30000"],
    ]);
  });

  it("compiles filter and dedupe as bare JSONata over headers, body and query", () => {
    const source = `name: x
triggers:
  - webhook:
      id: gh
      verify: { scheme: none }
      filter: "headers.event = "
      dedupe: "{{ body.id }}"
  - webhook:
      id: gh2
      verify: { scheme: none }
      filter: "params.x = 1"
tasks: [{ id: a, uses: core/x@^1 }]
`;
    const errors = yamlErrors(source);
    expect(errorAt(errors, "triggers[0].webhook.filter")).toMatchObject({
      message: expect.stringMatching(/^invalid expression "headers.event = ": .*\(at character \d+\)/),
      ...positionOf(source, '"headers.event = "'),
    });
    expect(errorAt(errors, "triggers[0].webhook.dedupe").message).toMatch(/without \{\{ \}\}/);
    expect(errorAt(errors, "triggers[1].webhook.filter").message).toBe(
      'unknown name "params": filter can read headers, body and query',
    );
  });

  it("refuses duplicate trigger ids and unknown trigger kinds", () => {
    const source = `name: x
triggers:
  - webhook: { id: gh, verify: { scheme: none } }
  - webhook: { id: gh, verify: { scheme: none } }
  - webhok: { id: other }
  - {}
tasks: [{ id: a, uses: core/x@^1 }]
`;
    const errors = yamlErrors(source);
    expect(errorAt(errors, "triggers[1].webhook.id")).toMatchObject({
      message: 'duplicate trigger id "gh" (also triggers[0])',
      line: 4,
      column: 20,
    });
    expect(errorAt(errors, "triggers[2].webhok")).toMatchObject({
      message: expect.stringMatching(/^unknown trigger kind "webhok"/),
      ...positionOf(source, "webhok"),
    });
    expect(errors.filter((e) => e.path.startsWith("triggers[2]"))).toHaveLength(1);
    expect(errorAt(errors, "triggers[3]").message).toMatch(/exactly one key, one of: webhook/);
  });
});
