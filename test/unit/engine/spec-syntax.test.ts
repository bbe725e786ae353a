import { describe, expect, it } from "vitest";
import { parsePipelineSpec, validatePipelineSpec } from "../../../worker/engine/index";
import { DESIGN_EXAMPLE, errorAt, invalidErrors } from "./helpers";

function syntaxErrors(source: string, format: "yaml" | "json" = "yaml") {
  const result = parsePipelineSpec(source, format);
  if (result.ok || result.kind !== "syntax")
    throw new Error(`expected a syntax error, got ${JSON.stringify(result)}`);
  return result.errors;
}

describe("malformed documents are syntax errors", () => {
  it("reports malformed YAML with its line and column", () => {
    expect(syntaxErrors("name: x\ntasks:\n  - id: a\n bad: indent\n")[0]).toMatchObject({
      path: "",
      line: 4,
    });
    expect(syntaxErrors('name: "unterminated\n')[0]).toMatchObject({ path: "", line: 2, column: 1 });
  });

  it("refuses duplicate keys in YAML and in JSON", () => {
    expect(syntaxErrors("name: a\nname: b\ntasks: []\n")).toEqual([
      { path: "", message: "Map keys must be unique", line: 2, column: 1 },
    ]);
    expect(syntaxErrors('{"name": "a",\n "name": "b"}', "json")).toEqual([
      { path: "", message: "Map keys must be unique", line: 2, column: 2 },
    ]);
  });

  it("refuses several YAML documents in one spec", () => {
    const [error] = syntaxErrors(`${DESIGN_EXAMPLE}---\nname: second\n`);
    expect(error).toMatchObject({
      path: "",
      message: expect.stringMatching(/single YAML document/),
      line: 22,
    });
  });

  it("refuses a billion-laughs alias bomb without expanding it", () => {
    const bomb = [
      "a: &a [x, x, x, x, x, x, x, x, x]",
      ...["b", "c", "d", "e", "f", "g", "h"].map((name, i) => {
        const previous = String.fromCharCode("a".charCodeAt(0) + i);
        return `${name}: &${name} [${Array(9).fill(`*${previous}`).join(", ")}]`;
      }),
      "name: x",
    ].join("\n");
    const [error] = syntaxErrors(bomb);
    expect(error?.message).toMatch(/alias/);
  });

  it("refuses a self-referencing alias instead of walking it forever", () => {
    const result = parsePipelineSpec("name: x\ndescription: &loop [*loop]\ntasks: []\n", "yaml");
    expect(result).toMatchObject({
      ok: false,
      kind: "invalid",
      errors: [{ message: "nested deeper than 64 levels" }],
    });
  });

  it("refuses YAML tags that do not map to JSON", () => {
    const [error] = syntaxErrors("name: !!binary aGk=\ntasks: []\n");
    expect(error).toMatchObject({
      path: "",
      line: 1,
      message: expect.stringMatching(/only plain YAML values/),
    });
  });

  it("refuses deeply nested documents without overflowing the stack", () => {
    const deep = `${"[".repeat(50_000)}${"]".repeat(50_000)}`;
    expect(syntaxErrors(deep)).toEqual([
      expect.objectContaining({ path: "", message: "document is nested too deeply" }),
    ]);
    const deepJson = parsePipelineSpec(`{"name": "x", "tasks": ${deep}}`, "json");
    expect(deepJson).toMatchObject({
      ok: false,
      kind: "invalid",
      errors: [{ message: "nested deeper than 64 levels" }],
    });
  });

  it("reports malformed JSON with a position", () => {
    const [error] = syntaxErrors('{\n  "name": "x",\n  "tasks": [,]\n}', "json");
    expect(error).toMatchObject({ path: "", line: 3, column: 13 });
    expect(syntaxErrors("", "json")[0]?.path).toBe("");
  });
});

describe("well-formed documents that are not a spec are invalid", () => {
  it.each([
    ["an empty document", ""],
    ["a comment only", "# nothing here\n"],
    ["a scalar", "hello"],
    ["a list", "- name: x\n"],
  ])("refuses %s with 'spec must be a mapping'", (_, source) => {
    expect(invalidErrors(parsePipelineSpec(source, "yaml"))).toEqual([
      expect.objectContaining({ path: "", message: "spec must be a mapping" }),
    ]);
  });

  it.each([null, 42, "spec", [], true, undefined])("refuses the JSON value %j", (value) => {
    expect(invalidErrors(validatePipelineSpec(value))).toEqual([
      { path: "", message: "spec must be a mapping" },
    ]);
  });

  it("refuses .inf and .nan, which are not JSON", () => {
    const errors = invalidErrors(
      parsePipelineSpec(
        "name: x\ntasks:\n  - { id: a, uses: core/x@^1, with: { n: .inf }, retries: .nan }\n",
        "yaml",
      ),
    );
    expect(errorAt(errors, "tasks[0].with.n").message).toMatch(/finite/);
    expect(errorAt(errors, "tasks[0].retries").message).toMatch(/finite/);
  });

  it("refuses values JSON cannot carry when validating a JS value", () => {
    const errors = invalidErrors(
      validatePipelineSpec({ name: "x", tasks: [{ id: "a", uses: "core/x@^1", with: { at: new Date(0) } }] }),
    );
    expect(errorAt(errors, "tasks[0].with.at").message).toBe("not a JSON value");
  });

  it("treats a __proto__ key as an unknown field, not as a prototype", () => {
    const errors = invalidErrors(parsePipelineSpec('{"name": "x", "__proto__": {"tasks": []}}', "json"));
    expect(errors.map((e) => e.path)).toEqual(expect.arrayContaining(["__proto__", "tasks"]));
  });
});
