/**
 * What a conforming manifest looks like, and how to build inputs from an operator's schema: one it
 * must refuse (violatingInput) and one it should accept (sampleInput).
 */
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

/** How deep sampleInput follows nested objects, arrays and `$ref`s before it stops (`null`). */
const MAX_SAMPLE_DEPTH = 8;

// Strings tried, in order, against a `pattern`; the first that matches is the sample.
const PATTERN_CANDIDATES = ["sample", "1s", "https://example.invalid/", "2026-01-01T00:00:00Z", "a", "1"];

// Reserved names (RFC 2606, RFC 6761): a sample URL or address never reaches anyone.
const FORMAT_SAMPLES: Record<string, string> = {
  uri: "https://example.invalid/",
  url: "https://example.invalid/",
  "uri-reference": "https://example.invalid/",
  iri: "https://example.invalid/",
  email: "conformance@example.invalid",
  hostname: "example.invalid",
  "date-time": "2026-01-01T00:00:00Z",
  date: "2026-01-01",
  time: "00:00:00Z",
  duration: "PT1S",
  uuid: "00000000-0000-4000-8000-000000000000",
  ipv4: "192.0.2.1",
  ipv6: "2001:db8::1",
};

type Schema = Record<string, unknown>;

const isSchema = (value: unknown): value is Schema =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** A local `$ref` (`#/$defs/name`, `#/definitions/name`) resolved against the root schema. */
function resolveRef(root: Schema, ref: string): unknown {
  if (!ref.startsWith("#")) return undefined;
  const parts = ref
    .slice(1)
    .split("/")
    .filter((part) => part !== "");
  let node: unknown = root;
  for (const part of parts) {
    const key = decodeURIComponent(part).replaceAll("~1", "/").replaceAll("~0", "~");
    node = isSchema(node) ? node[key] : undefined;
  }
  return node;
}

function sampleString(schema: Schema): string {
  const format = typeof schema.format === "string" ? FORMAT_SAMPLES[schema.format] : undefined;
  const minLength = typeof schema.minLength === "number" ? schema.minLength : 0;
  const maxLength = typeof schema.maxLength === "number" ? schema.maxLength : Number.POSITIVE_INFINITY;
  const fits = (text: string) => text.length >= minLength && text.length <= maxLength;
  if (typeof schema.pattern === "string") {
    let pattern: RegExp | null = null;
    try {
      pattern = new RegExp(schema.pattern, "u");
    } catch {
      // A pattern JavaScript cannot compile: the plain sample is as good as any.
    }
    const matching = PATTERN_CANDIDATES.find((text) => pattern?.test(text) && fits(text));
    if (matching) return matching;
  }
  if (format && fits(format)) return format;
  const length = Math.min(Math.max(minLength, "sample".length), maxLength, 1_000);
  return "sample".padEnd(length, "x").slice(0, length);
}

function sampleNumber(schema: Schema, integer: boolean): number {
  const minimum = typeof schema.minimum === "number" ? schema.minimum : undefined;
  const exclusive = typeof schema.exclusiveMinimum === "number" ? schema.exclusiveMinimum : undefined;
  const maximum = typeof schema.maximum === "number" ? schema.maximum : undefined;
  let value = minimum ?? (exclusive === undefined ? 1 : exclusive + 1);
  if (maximum !== undefined && value > maximum) value = maximum;
  return integer ? Math.ceil(value) : value;
}

function sampleObject(schema: Schema, root: Schema, depth: number): Schema {
  const properties = isSchema(schema.properties) ? schema.properties : {};
  const required = Array.isArray(schema.required) ? schema.required : [];
  const out: Schema = {};
  for (const name of required) {
    if (typeof name === "string") out[name] = sampleValue(properties[name] ?? {}, root, depth + 1);
  }
  return out;
}

function sampleValue(schema: unknown, root: Schema, depth: number): unknown {
  if (!isSchema(schema) || depth > MAX_SAMPLE_DEPTH) return null;
  if ("const" in schema) return schema.const;
  if ("default" in schema) return schema.default;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return schema.examples[0];
  if (typeof schema.$ref === "string") return sampleValue(resolveRef(root, schema.$ref), root, depth + 1);
  if (Array.isArray(schema.allOf) && schema.allOf.length > 0) {
    // Every branch must hold: merge what each needs (objects), else the first branch decides.
    const parts = schema.allOf.map((part) => sampleValue(part, root, depth + 1));
    return parts.every(isSchema) ? Object.assign({}, ...parts) : parts[0];
  }
  for (const key of ["anyOf", "oneOf"] as const) {
    const branches = schema[key];
    if (Array.isArray(branches) && branches.length > 0) return sampleValue(branches[0], root, depth + 1);
  }
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  const type = types.find((t) => t !== "null") ?? types[0];
  switch (type) {
    case "object":
      return sampleObject(schema, root, depth);
    case "array": {
      const count = Math.min(typeof schema.minItems === "number" ? schema.minItems : 0, 10);
      return Array.from({ length: count }, () => sampleValue(schema.items ?? {}, root, depth + 1));
    }
    case "string":
      return sampleString(schema);
    case "integer":
    case "number":
      return sampleNumber(schema, type === "integer");
    case "boolean":
      return false;
    case "null":
      return null;
    default:
      return isSchema(schema.properties) || Array.isArray(schema.required)
        ? sampleObject(schema, root, depth)
        : null;
  }
}

/**
 * An input an operator should accept, built from its input schema: the schema's first `examples`
 * entry if it has one, else an object with every required property (from `const`, `default`,
 * `enum[0]`, `examples[0]`, or a value of its `type`, nested objects likewise up to a bounded depth).
 * URLs, hosts and e-mail addresses use reserved `.invalid` names, so a sample call reaches nobody.
 *
 * @example
 * sampleInput({ type: "object", properties: { url: { type: "string", format: "uri" } }, required: ["url"] });
 * // → { url: "https://example.invalid/" }
 */
export function sampleInput(schema: Record<string, unknown>): Record<string, unknown> {
  const example = Array.isArray(schema.examples) ? schema.examples[0] : undefined;
  if (isSchema(example)) return example;
  const value = sampleValue(schema, schema, 0);
  return isSchema(value) ? value : {};
}
