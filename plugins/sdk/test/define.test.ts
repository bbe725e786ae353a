import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineOperator, definePlugin, duration, parseDuration } from "../src/index.ts";
import { hello } from "./fixtures.ts";

const noop = defineOperator({
  name: "noop",
  kind: "action",
  description: "Nothing.",
  input: z.strictObject({}),
  output: z.strictObject({}),
  run: () => ({}),
});

const base = { name: "p", version: "1.0.0", title: "P", description: "", categories: [], operators: [noop] };

describe("definePlugin", () => {
  it("builds the manifest with protocol 1, nulls for absent icon and homepage, and default timeouts", () => {
    expect(definePlugin(base).manifest).toMatchObject({
      protocol: 1,
      name: "p",
      icon: null,
      homepage: null,
      operators: [{ name: "noop", kind: "action", timeout: "30s", input: { type: "object" } }],
    });
  });

  it("marks secret connection fields writeOnly in the JSON Schema", () => {
    expect(hello.manifest.connection).toMatchObject({
      $schema: "https://json-schema.org/draft/2020-12/schema",
      properties: { workspace: { type: "string" }, token: { type: "string", writeOnly: true } },
      required: ["workspace", "token"],
    });
    expect(hello.manifest.connection).not.toHaveProperty("properties.workspace.writeOnly");
  });

  it("lists context only for operators that ask for it", () => {
    const flags = hello.manifest.operators.map((op) => [op.name, op.context ?? false]);
    expect(flags).toEqual([
      ["greet", false],
      ["outcome", false],
      ["ready", false],
      ["report", false],
      ["whoami", true],
    ]);
  });

  it.each([
    ["a bad version", { ...base, version: "1.0" }, /not semver/],
    ["an upper-case name", { ...base, name: "Hello" }, /must match/],
    ["a repeated operator", { ...base, operators: [noop, noop] }, /declared twice/],
  ])("refuses %s at load time", (_label, definition, message) => {
    expect(() => definePlugin(definition)).toThrow(message);
  });

  it("refuses schemas that have no JSON Schema form", () => {
    const dated = defineOperator({
      name: "dated",
      kind: "action",
      description: "Has a Date input.",
      input: z.strictObject({ at: z.date() }),
      output: z.strictObject({}),
      run: () => ({}),
    });
    expect(() => definePlugin({ ...base, operators: [dated] })).toThrow();
  });
});

describe("defineOperator", () => {
  it("refuses a bad name or timeout", () => {
    expect(() => defineOperator({ ...noop, name: "Bad Name" })).toThrow(/must match/);
    expect(() => defineOperator({ ...noop, timeout: "soon" })).toThrow(/bad timeout/);
  });
});

describe("durations", () => {
  it.each([
    ["500ms", 500],
    ["30s", 30_000],
    ["1h30m", 5_400_000],
    ["2d", 172_800_000],
    ["30", null],
    ["-1s", null],
    ["1.5s", null],
    [`${"9".repeat(80)}s`, null],
  ])("parseDuration(%s) = %s", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it("publishes the duration pattern in JSON Schema", () => {
    expect(z.toJSONSchema(duration())).toMatchObject({ type: "string", pattern: expect.any(String) });
  });
});
