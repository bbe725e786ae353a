import { Validator } from "@cfworker/json-schema";
import { DURATION_PATTERN } from "@updraft/plugin-sdk/protocol";
import { describe, expect, it } from "vitest";
import { literalInputIssues } from "../../../worker/plugins/inputs";

function check(schema: Record<string, unknown>, input: Record<string, unknown>) {
  return literalInputIssues(input, { schema, validator: new Validator(schema, "2020-12", false) });
}

const object = (properties: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  type: "object",
  properties,
  additionalProperties: false,
  ...extra,
});

describe("literal input checks", () => {
  it("reports every literal problem once, at the value, in the spec's words", () => {
    const schema = object(
      {
        n: { type: "integer", minimum: 1 },
        tags: { type: "array", items: { type: "string" }, maxItems: 1 },
        mode: { enum: ["a", "b"] },
      },
      { required: ["n", "mode"] },
    );
    expect(check(schema, { n: 0, tags: ["x", 2], extra: true })).toEqual([
      { path: ["mode"], message: "mode is required" },
      { path: ["n"], message: "must be at least 1" },
      { path: ["tags"], message: "must have at most 1 item" },
      { path: ["tags", 1], message: "expected a string, got a number" },
      { path: ["extra"], message: 'unknown field "extra" (expected one of: n, tags, mode)', atKey: true },
    ]);
  });

  it("ignores templated values but not a missing field or an unknown key beside them", () => {
    const schema = object(
      { url: { type: "string", format: "uri" }, method: { enum: ["GET"] } },
      { required: ["url", "method"] },
    );
    expect(check(schema, { url: "https://x/{{ item }}", method: "{{ params.m }}" })).toEqual([]);
    expect(check(schema, { url: "{{ params.url }}" })).toEqual([
      { path: ["method"], message: "method is required" },
    ]);
    expect(check(schema, { url: "{{ a }}", method: "GET", typo: "{{ b }}" })).toEqual([
      { path: ["typo"], message: 'unknown field "typo" (expected one of: url, method)', atKey: true },
    ]);
  });

  it("does not judge enum, const or alternatives over a structure that holds a template", () => {
    const schema = object({
      pair: { enum: [[1, 2]] },
      fixed: { const: { a: 1 } },
      either: {
        anyOf: [
          { type: "string", format: "email" },
          { type: "array", items: { type: "number" } },
        ],
      },
      one: { oneOf: [{ type: "number" }, { type: "object", required: ["x"] }] },
      never: { not: { type: "array", items: { type: "string" } } },
    });
    const templated = {
      pair: [1, "{{ 2 }}"],
      fixed: { a: "{{ 1 }}" },
      either: "{{ x }}",
      one: { y: "{{ z }}" },
    };
    expect(check(schema, { ...templated, never: ["{{ a }}"] })).toEqual([]);
    expect(
      check(schema, { pair: [1, 3], fixed: { a: 2 }, either: true, one: { y: 1 }, never: ["a"] }),
    ).toEqual([
      { path: ["pair"], message: "must be one of: [1,2]" },
      { path: ["fixed"], message: 'must be {"a":1}' },
      { path: ["either"], message: "expected a string or a list" },
      { path: ["one"], message: "matches none of the allowed forms" },
      { path: ["never"], message: "matches a form that is not allowed here" },
    ]);
  });

  it("follows $ref and checks nested literal values under a mapping that has templated siblings", () => {
    const schema = object(
      {
        body: { $ref: "#/$defs/json" },
        headers: { type: "object", additionalProperties: { type: "string" } },
      },
      {
        $defs: {
          json: {
            anyOf: [{ type: "string" }, { type: "object", additionalProperties: { $ref: "#/$defs/json" } }],
          },
        },
      },
    );
    expect(check(schema, { headers: { a: "{{ x }}", b: 2 }, body: { a: { b: "{{ y }}" } } })).toEqual([
      { path: ["headers", "b"], message: "expected a string, got a number" },
    ]);
  });

  it("trusts if/then/else only when the condition's input is literal", () => {
    const schema = {
      type: "object",
      if: { properties: { kind: { const: "a" } } },
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else, never awaited
      then: { required: ["a"] },
      else: { required: ["b"] },
    };
    expect(check(schema, { kind: "a" })).toEqual([{ path: ["a"], message: "a is required" }]);
    expect(check(schema, { kind: "{{ params.kind }}" })).toEqual([]);
  });

  it("reports bad field names whatever their values", () => {
    const schema = { type: "object", propertyNames: { pattern: "^[a-z]+$" } };
    expect(check(schema, { Bad: "{{ x }}", good: 1 })).toEqual([
      { path: ["Bad"], message: 'field name "Bad" is not allowed', atKey: true },
    ]);
  });

  it("keeps keys with pointer characters apart", () => {
    const schema = object({
      "a/b": { type: "string" },
      "c~d": { type: "string" },
      "e%f": { type: "string" },
    });
    expect(check(schema, { "a/b": 1, "c~d": "{{ x }}", "e%f": 2 })).toEqual([
      { path: ["a/b"], message: "expected a string, got a number" },
      { path: ["e%f"], message: "expected a string, got a number" },
    ]);
  });

  it("names SDK durations and formats instead of quoting a pattern", () => {
    const schema = object({
      wait: { type: "string", pattern: DURATION_PATTERN.source },
      id: { type: "string", pattern: "^[A-Z]{3}$" },
      at: { type: "string", format: "date-time" },
    });
    expect(check(schema, { wait: "5 minutes", id: "ab", at: "tomorrow" })).toEqual([
      { path: ["wait"], message: 'expected a duration such as "500ms", "30s", "5m" or "1h"' },
      { path: ["id"], message: "must match the pattern ^[A-Z]{3}$" },
      { path: ["at"], message: "expected a date and time such as 2026-01-31T09:00:00Z" },
    ]);
  });
});
