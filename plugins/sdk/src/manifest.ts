/** Builds the manifest served at `GET {base}/manifest` (its shape: `PublishedManifest` in ./protocol). */
import { z } from "zod";
import type { PluginDefinition } from "./define.ts";
import type { JsonSchema, PublishedManifest, PublishedOperator } from "./protocol/index.ts";

const NO_CONNECTION: JsonSchema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object",
  properties: {},
  additionalProperties: false,
};

// Inputs are described as callers may write them (defaults optional); outputs as operators produce them.
function jsonSchema(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  return z.toJSONSchema(schema, { target: "draft-2020-12", io, unrepresentable: "throw" });
}

export function buildManifest(plugin: PluginDefinition): PublishedManifest {
  return {
    protocol: 1,
    name: plugin.name,
    version: plugin.version,
    title: plugin.title,
    description: plugin.description,
    categories: [...plugin.categories],
    icon: plugin.icon ?? null,
    homepage: plugin.homepage ?? null,
    connection: plugin.connection ? jsonSchema(plugin.connection, "input") : NO_CONNECTION,
    operators: plugin.operators.map((operator) => {
      const entry: PublishedOperator = {
        name: operator.name,
        kind: operator.kind,
        description: operator.description,
        input: jsonSchema(operator.input, "input"),
        output: jsonSchema(operator.output, "output"),
        timeout: operator.timeout,
      };
      if (operator.context) entry.context = true;
      return entry;
    }),
  };
}
