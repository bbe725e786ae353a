/** What a conforming manifest looks like, and how to build an input its operator must refuse. */
import { z } from "zod";
import { SEMVER_PATTERN } from "./define.ts";
import { PublishedManifest, PublishedOperator } from "./protocol/index.ts";
import { DURATION_PATTERN } from "./schema.ts";

const DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema";

const JsonSchemaObject = z
  .record(z.string(), z.unknown())
  .refine((schema) => schema.$schema === undefined || schema.$schema === DRAFT_2020_12, {
    message: `$schema must be ${DRAFT_2020_12} when present`,
  });

const ObjectSchema = JsonSchemaObject.refine((schema) => schema.type === "object", {
  message: 'must describe an object ("type": "object")',
});

// The protocol's shapes, held to what a conforming SDK publishes: strict, non-empty, well-formed.
const OperatorShape = z.strictObject({
  ...PublishedOperator.shape,
  description: z.string().min(1),
  input: ObjectSchema,
  output: z.union([z.boolean(), JsonSchemaObject]),
  timeout: z.string().regex(DURATION_PATTERN),
  context: z.boolean().optional(),
});

/** Field names as in API.md "Plugin protocol v1"; strict, as the platform is when it publishes one. */
export const ManifestShape = z.strictObject({
  ...PublishedManifest.shape,
  version: z.string().regex(SEMVER_PATTERN, "must be a semantic version"),
  title: z.string().min(1),
  connection: ObjectSchema,
  operators: z
    .array(OperatorShape)
    .min(1)
    .refine((ops) => new Set(ops.map((op) => op.name)).size === ops.length, {
      message: "operator names repeat",
    }),
});
export type ManifestShape = z.output<typeof ManifestShape>;

const WRONG_TYPE: Record<string, unknown> = {
  string: 12345,
  number: "not a number",
  integer: "not an integer",
  boolean: "not a boolean",
  object: "not an object",
  array: "not an array",
};

/**
 * An input the schema must reject, or null when the schema accepts everything we could send:
 * a missing required field, else an unknown field where none are allowed, else a wrongly typed one.
 */
export function violatingInput(schema: Record<string, unknown>): Record<string, unknown> | null {
  if (Array.isArray(schema.required) && schema.required.length > 0) return {};
  if (schema.additionalProperties === false) return { updraft_conformance_unexpected_field: true };
  const properties = schema.properties;
  if (typeof properties !== "object" || properties === null) return null;
  for (const [name, property] of Object.entries(properties)) {
    const type =
      typeof property === "object" && property !== null && "type" in property ? property.type : undefined;
    const wrong = typeof type === "string" ? WRONG_TYPE[type] : undefined;
    if (wrong !== undefined) return { [name]: wrong };
  }
  return null;
}
