import { Validator } from "@cfworker/json-schema";
import { describe, expect, it } from "vitest";
import { parsePipelineSpec, pipelineJsonSchema } from "../../../worker/engine/index";
import { DESIGN_EXAMPLE } from "./helpers";

describe("pipelineJsonSchema", () => {
  it("is a 2020-12 schema that rejects unknown fields", () => {
    const schema = pipelineJsonSchema() as Record<string, unknown>;
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(schema).toMatchObject({
      type: "object",
      additionalProperties: false,
      required: ["name", "tasks"],
    });
  });

  it("describes what users write: fields with defaults are optional", () => {
    const parsed = parsePipelineSpec(DESIGN_EXAMPLE, "yaml");
    if (!parsed.ok) throw new Error("the example must parse");
    const validator = new Validator(pipelineJsonSchema(), "2020-12", false);
    // The example as written omits needs, with and respond, which have defaults.
    const written = { ...parsed.spec, tasks: [{ id: "commits", uses: "core/transform@^1" }] };
    expect(validator.validate(written).valid).toBe(true);
    expect(validator.validate({ ...written, extra: 1 }).valid).toBe(false);
  });

  it("hands out a copy callers may change", () => {
    const first = pipelineJsonSchema() as Record<string, unknown>;
    first.title = "changed";
    expect((pipelineJsonSchema() as Record<string, unknown>).title).toBe("Updraft pipeline");
  });
});
