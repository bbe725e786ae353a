/** The manifest served at `GET {base}/manifest`: catalog metadata plus JSON Schemas for every operator. */
import { z } from "zod";
import type { OperatorKind, PluginDefinition } from "./define.ts";

export type JsonSchema = Record<string, unknown>;

export interface OperatorManifest {
  name: string;
  kind: OperatorKind;
  description: string;
  input: JsonSchema;
  output: JsonSchema;
  timeout: string;
  context?: true;
}

export interface Manifest {
  protocol: 1;
  name: string;
  version: string;
  title: string;
  description: string;
  categories: string[];
  icon: string | null;
  homepage: string | null;
  connection: JsonSchema;
  operators: OperatorManifest[];
}

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

export function buildManifest(plugin: PluginDefinition): Manifest {
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
      const entry: OperatorManifest = {
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
