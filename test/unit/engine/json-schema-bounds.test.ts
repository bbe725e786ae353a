import { Validator } from "@cfworker/json-schema";
import { describe, expect, it } from "vitest";
import { jsonSchemaProblems } from "../../../worker/engine/json-schema";
import { literalInputIssues } from "../../../worker/plugins/inputs";

const UNSAFE = "^(a+)+$";

/** d0 … d{depth}: each `allOf` uses the next definition twice, so evaluating d0 meets 2^depth schemas. */
function doublingRefs(depth: number) {
  const $defs: Record<string, unknown> = { [`d${depth}`]: { type: "string" } };
  for (let i = 0; i < depth; i++)
    $defs[`d${i}`] = { allOf: [{ $ref: `#/$defs/d${i + 1}` }, { $ref: `#/$defs/d${i + 1}` }] };
  return { $ref: "#/$defs/d0", $defs };
}

const tree = {
  $ref: "#/$defs/node",
  $defs: {
    node: {
      type: "object",
      properties: {
        value: { type: "string" },
        children: { type: "array", items: { $ref: "#/$defs/node" } },
      },
      required: ["value"],
      additionalProperties: false,
    },
  },
};

describe("bounds on what a JSON Schema costs to evaluate", () => {
  it("refuses refs that double at each level, at the outermost such $ref, and quickly", () => {
    const schema = doublingRefs(20);
    expect(JSON.stringify(schema).length).toBeLessThan(2_000);
    const started = performance.now();
    const problems = jsonSchemaProblems(schema, { safeRegex: true });
    // A probe, not an assertion: the validator needs seconds per value on this schema; the check does not.
    console.log(`doubling refs (depth 20) checked in ${(performance.now() - started).toFixed(1)} ms`);
    expect(problems).toEqual([
      {
        path: ["$ref"],
        message: expect.stringMatching(
          /^\$ref "#\/\$defs\/d0" expands to about 4,200,000 subschemas \(at most 10,000\)/,
        ),
      },
    ]);
  });

  it("names the $ref where a tenant's params schema stops being small", () => {
    const { $defs } = doublingRefs(16);
    const schema = { type: "object", properties: { deep: { $ref: "#/$defs/d0" } }, $defs };
    const [problem] = jsonSchemaProblems(schema);
    expect(problem?.path).toEqual(["properties", "deep", "$ref"]);
    expect(problem?.message).toContain("at most 10,000");
  });

  it("accepts refs that stay small, however often they are used", () => {
    expect(jsonSchemaProblems(doublingRefs(8), { safeRegex: true })).toEqual([]);
  });

  it("refuses a $ref cycle that never descends into the value", () => {
    const schema = {
      $ref: "#/$defs/a",
      $defs: {
        a: { anyOf: [{ type: "string" }, { $ref: "#/$defs/b" }] },
        b: { allOf: [{ $ref: "#/$defs/a" }] },
      },
    };
    expect(jsonSchemaProblems(schema)).toEqual([
      {
        path: ["$defs", "b", "allOf", 0, "$ref"],
        message:
          '$ref "#/$defs/a" leads back to itself without descending into the value, so it would never finish',
      },
    ]);
    expect(jsonSchemaProblems({ not: { $ref: "#" } })[0]?.path).toEqual(["not", "$ref"]);
  });

  it("accepts recursion that descends into the value: trees, lists, any JSON", () => {
    const binary = {
      type: "object",
      properties: { left: { $ref: "#" }, right: { $ref: "#" }, value: { type: "number" } },
    };
    const json = {
      $defs: {
        json: {
          anyOf: [
            { type: ["string", "number", "boolean", "null"] },
            { type: "array", items: { $ref: "#/$defs/json" } },
            { type: "object", additionalProperties: { $ref: "#/$defs/json" } },
          ],
        },
      },
      $ref: "#/$defs/json",
    };
    for (const schema of [tree, binary, json])
      expect(jsonSchemaProblems(schema, { safeRegex: true })).toEqual([]);
    const value = { value: "root", children: [{ value: "a", children: [{ value: "b" }] }] };
    expect(new Validator(tree, "2020-12", false).validate(value).valid).toBe(true);
  });

  it("refuses recursion that multiplies with each level of the value", () => {
    const twice = { type: "object", properties: { a: { allOf: [{ $ref: "#" }, { $ref: "#" }] } } };
    const itemsAndContains = { type: "array", items: { $ref: "#" }, contains: { $ref: "#" } };
    const overlapping = {
      type: "object",
      properties: { a: { $ref: "#" } },
      patternProperties: { "^a": { $ref: "#" } },
    };
    for (const schema of [twice, itemsAndContains, overlapping]) {
      const [problem, ...rest] = jsonSchemaProblems(schema);
      expect(rest).toEqual([]);
      expect(problem?.message).toMatch(
        /^recursion through \$ref "#" multiplies with each level of the value/,
      );
    }
    // A pattern that cannot match the named property adds nothing.
    const apart = { ...overlapping, patternProperties: { "^x-": { $ref: "#" } } };
    expect(jsonSchemaProblems(apart)).toEqual([]);
  });

  it.each([
    ["dependencies", { dependencies: { a: { properties: { b: { pattern: UNSAFE } } } } }],
    ["dependentSchemas", { dependentSchemas: { a: { properties: { b: { pattern: UNSAFE } } } } }],
    ["if", { if: { pattern: UNSAFE } }],
    // biome-ignore lint/suspicious/noThenProperty: a JSON Schema keyword, never awaited.
    ["then", { if: { type: "string" }, then: { pattern: UNSAFE } }],
    ["else", { if: { type: "string" }, else: { pattern: UNSAFE } }],
    ["propertyNames", { propertyNames: { pattern: UNSAFE } }],
    ["unevaluatedProperties", { unevaluatedProperties: { pattern: UNSAFE } }],
    ["unevaluatedItems", { unevaluatedItems: { pattern: UNSAFE } }],
    ["contains", { contains: { pattern: UNSAFE } }],
    ["not", { not: { pattern: UNSAFE } }],
    ["items (array form)", { items: [{ type: "string" }, { pattern: UNSAFE }] }],
    ["additionalItems", { items: [{ type: "string" }], additionalItems: { pattern: UNSAFE } }],
  ])("refuses an unsafe pattern under %s", (_, schema) => {
    const problems = jsonSchemaProblems(schema, { safeRegex: true });
    expect(problems).toHaveLength(1);
    expect(problems[0]?.path.at(-1)).toBe("pattern");
    expect(problems[0]?.message).toContain("could stall the validator");
  });

  it("checks dependencies' property lists and refuses refs into what is not a subschema", () => {
    expect(jsonSchemaProblems({ dependencies: { a: ["b", 1] } })).toEqual([
      { path: ["dependencies", "a"], message: "must be a list of property names" },
    ]);
    const hidden = { $ref: "#/x-extra/a", "x-extra": { a: { pattern: UNSAFE } } };
    expect(jsonSchemaProblems(hidden, { safeRegex: true })).toEqual([
      { path: ["$ref"], message: '$ref "#/x-extra/a" must point to a subschema (e.g. under $defs)' },
    ]);
  });

  it("refuses $recursiveRef and $dynamicRef, which do not resolve like $ref", () => {
    expect(jsonSchemaProblems({ $recursiveAnchor: true, properties: { a: { $recursiveRef: "#" } } })).toEqual(
      [{ path: ["properties", "a", "$recursiveRef"], message: "$recursiveRef is not supported: use $ref" }],
    );
    expect(jsonSchemaProblems({ $dynamicRef: "#node" })[0]?.path).toEqual(["$dynamicRef"]);
  });

  it("refuses a schema of more than 5,000 subschemas, at the root", () => {
    const properties = Object.fromEntries(
      Array.from({ length: 6_000 }, (_, i) => [`p${i}`, { type: "string" }]),
    );
    expect(jsonSchemaProblems({ type: "object", properties })).toEqual([
      { path: [], message: "JSON Schema has more than 5,000 subschemas: split it or simplify it" },
    ]);
    const fewer = Object.fromEntries(Object.entries(properties).slice(0, 4_000));
    expect(jsonSchemaProblems({ type: "object", properties: fewer })).toEqual([]);
  });
});

describe("literal input checks when the validator throws", () => {
  it("reports the value as not checked rather than valid", () => {
    // Built without jsonSchemaProblems, as a plugin's stored schema might have been: the $ref is dangling.
    const schema: Record<string, unknown> = {
      type: "object",
      properties: { a: { $ref: "#/$defs/missing" } },
    };
    const validator = new Validator(schema, "2020-12", false);
    expect(literalInputIssues({ a: 1 }, { schema, validator })).toEqual([
      { path: [], message: "the operator's input schema could not be evaluated on this value" },
    ]);
    expect(literalInputIssues({}, { schema, validator })).toEqual([]);
  });
});
