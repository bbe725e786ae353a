/**
 * A JSON Schema as a readable field list: one row per property (nested objects indented), with a
 * short type, whether it is required, its description and default, and "secret" for writeOnly fields.
 * What cannot be said in one short type (`$ref`, `allOf`, deep nesting) is kept as pretty JSON.
 */

export type SchemaField = {
  /** Dotted from the root (`auth.token`); `depth` says how far to indent it. */
  path: string;
  name: string;
  depth: number;
  /** A short type such as `string (uri)`, `"GET" | "POST"`, `array of string`; null when too complex. */
  type: string | null;
  required: boolean;
  secret: boolean;
  description: string | null;
  defaultValue: string | null;
  /** The property's own schema, pretty-printed, for rows whose type is null. */
  json: string;
};

export type SchemaView =
  | { kind: "fields"; fields: SchemaField[]; extra: boolean }
  | { kind: "none" }
  | { kind: "type"; type: string }
  | { kind: "json"; json: string };

type Schema = Record<string, unknown>;

const MAX_DEPTH = 2;
const MAX_ENUM = 8;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function prettyJson(value: unknown): string {
  return JSON.stringify(value, null, 2) ?? "undefined";
}

function literal(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

function join(parts: Array<string | null>): string | null {
  if (parts.some((part) => part === null)) return null;
  return [...new Set(parts)].join(" | ");
}

/** Follows a local `$ref` (`#`, `#/$defs/x`) into `root`, keeping the referring schema's own keywords. */
function deref(schema: unknown, root: unknown, hops = 0): unknown {
  if (!isRecord(schema) || typeof schema.$ref !== "string") return schema;
  if (!schema.$ref.startsWith("#") || hops > 8) return undefined;
  let target: unknown = root;
  for (const token of schema.$ref.slice(1).split("/").slice(1)) {
    const key = decodeURIComponent(token).replaceAll("~1", "/").replaceAll("~0", "~");
    target = isRecord(target) ? target[key] : undefined;
  }
  const { $ref: _, ...own } = schema;
  return isRecord(target) ? deref({ ...target, ...own }, root, hops + 1) : undefined;
}

/** The one-line type of a schema, or null when it does not fit in one; `root` resolves its `$ref`s. */
export function describeType(input: unknown, root: unknown = input, depth = 0): string | null {
  const schema = deref(input, root);
  if (schema === true) return "any JSON";
  if (!isRecord(schema) || depth > 4) return null;
  if ("allOf" in schema || "not" in schema || "if" in schema) return null;
  if ("const" in schema) return literal(schema.const);
  if (Array.isArray(schema.enum)) {
    const values = schema.enum;
    return values.length <= MAX_ENUM ? values.map(literal).join(" | ") : `one of ${values.length} values`;
  }
  const union = Array.isArray(schema.anyOf)
    ? schema.anyOf
    : Array.isArray(schema.oneOf)
      ? schema.oneOf
      : null;
  if (union) {
    if (anyJson(union.map((member) => deref(member, root)))) return "any JSON";
    return join(union.map((member) => describeType(member, root, depth + 1)));
  }
  const types =
    typeof schema.type === "string" ? [schema.type] : Array.isArray(schema.type) ? schema.type : [];
  if (types.length === 0) return isRecord(schema.properties) ? "object" : "any JSON";
  return join(
    types.map((type) => (typeof type === "string" ? describeOne(type, schema, root, depth) : null)),
  );
}

const JSON_TYPES = ["string", "number", "boolean", "null", "array", "object"];

/** A union of every JSON type (zod's `z.json()`, recursive through `$ref`) says "any JSON value". */
function anyJson(union: unknown[]): boolean {
  const types = new Set(
    union.flatMap((member) => {
      if (!isRecord(member)) return [];
      const type = member.type === "integer" ? "number" : member.type;
      return typeof type === "string" ? [type] : [];
    }),
  );
  return JSON_TYPES.every((type) => types.has(type));
}

function describeOne(type: string, schema: Schema, root: unknown, depth: number): string | null {
  switch (type) {
    case "array": {
      if (schema.items === undefined) return "array";
      const item = describeType(schema.items, root, depth + 1);
      return item === null ? null : `array of ${item.includes(" | ") ? `(${item})` : item}`;
    }
    case "object": {
      if (isRecord(schema.properties)) return "object";
      if (isRecord(schema.additionalProperties)) {
        const value = describeType(schema.additionalProperties, root, depth + 1);
        return value === null ? null : `map of ${value}`;
      }
      return "object";
    }
    default:
      return typeof schema.format === "string" ? `${type} (${schema.format})` : type;
  }
}

function text(value: unknown): string | null {
  return typeof value === "string" && value.trim() !== "" ? value : null;
}

function fieldsOf(schema: Schema, root: Schema, depth: number, prefix: string, out: SchemaField[]): boolean {
  const properties = isRecord(schema.properties) ? schema.properties : {};
  const required = new Set(Array.isArray(schema.required) ? schema.required : []);
  for (const [name, own] of Object.entries(properties)) {
    const path = prefix ? `${prefix}.${name}` : name;
    const property = deref(own, root) ?? own;
    const nested = isRecord(property) && isRecord(property.properties);
    if (nested && depth >= MAX_DEPTH) return false;
    out.push({
      path,
      name,
      depth,
      type: describeType(property, root),
      required: required.has(name),
      secret: isRecord(property) && property.writeOnly === true,
      description: isRecord(property) ? (text(property.description) ?? text(property.title)) : null,
      defaultValue: isRecord(property) && "default" in property ? literal(property.default) : null,
      json: prettyJson(own),
    });
    if (nested && !fieldsOf(property, root, depth + 1, path, out)) return false;
  }
  return true;
}

/** How to show a schema: a field list for an object of properties, its one-line type, or its JSON. */
export function schemaView(schema: unknown): SchemaView {
  if (schema === true || (isRecord(schema) && Object.keys(schema).length === 0))
    return { kind: "type", type: "any JSON" };
  if (!isRecord(schema)) return { kind: "json", json: prettyJson(schema) };
  const isObject = schema.type === "object" || (schema.type === undefined && isRecord(schema.properties));
  if (!isObject) {
    const type = describeType(schema);
    return type === null ? { kind: "json", json: prettyJson(schema) } : { kind: "type", type };
  }
  const hasProperties = isRecord(schema.properties) && Object.keys(schema.properties).length > 0;
  if (!hasProperties) {
    if (schema.additionalProperties === false) return { kind: "none" };
    const type = describeType(schema);
    return { kind: "type", type: type === "object" || type === null ? "any object" : type };
  }
  const fields: SchemaField[] = [];
  if (!fieldsOf(schema, schema, 0, "", fields)) return { kind: "json", json: prettyJson(schema) };
  const extra = schema.additionalProperties !== undefined && schema.additionalProperties !== false;
  return { kind: "fields", fields, extra };
}
