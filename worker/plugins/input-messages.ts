/**
 * Validator errors rephrased for someone editing a spec, in the words the spec's own errors use
 * ("expected a string, got a number", "must be one of: …"). @cfworker/json-schema's messages
 * ("String does not match pattern.") leave out what was expected; the schema says it.
 */
import type { OutputUnit } from "@cfworker/json-schema";
import { DURATION_PATTERN } from "@updraft/plugin-sdk/protocol";
import type { Issue, PathSegment } from "../engine";

const FORMATS: Record<string, string> = {
  uri: "expected an absolute URL such as https://example.com/path",
  "uri-reference": "expected a URL or a relative reference",
  email: "expected an email address",
  "date-time": "expected a date and time such as 2026-01-31T09:00:00Z",
  date: "expected a date such as 2026-01-31",
  time: "expected a time such as 09:00:00Z",
  uuid: "expected a UUID",
  hostname: "expected a host name",
  ipv4: "expected an IPv4 address",
  ipv6: "expected an IPv6 address",
  regex: "expected a regular expression",
};

const TYPE_NAMES: Record<string, string> = {
  string: "a string",
  number: "a number",
  integer: "a whole number",
  boolean: "a boolean",
  object: "a mapping",
  array: "a list",
  null: "null",
};

/** The Issue for one leaf error at `path` (relative to `with`); `value` is what is written there. */
export function messageFor(error: OutputUnit, path: PathSegment[], value: unknown, root: object): Issue {
  const expected = schemaAt(root, error.keywordLocation);
  switch (error.keyword) {
    case "required": {
      const key = /required property "(.*)"\.$/s.exec(error.error)?.[1];
      return key === undefined
        ? { path, message: error.error }
        : { path: [...path, key], message: `${key} is required` };
    }
    case "dependentRequired":
    case "dependencies": {
      const [, present, missing] =
        /^Instance has "(.*)" but does not have "(.*)"\.$/s.exec(error.error) ?? [];
      if (present === undefined || missing === undefined) return { path, message: error.error };
      return { path: [...path, missing], message: `${missing} is required when ${present} is set` };
    }
    default:
      return { path, message: leafMessage(error, expected, value) };
  }
}

function leafMessage(error: OutputUnit, expected: unknown, value: unknown): string {
  const n = typeof expected === "number" ? expected : undefined;
  switch (error.keyword) {
    case "type":
      return `expected ${[expected]
        .flat()
        .map((t) => typeName(String(t)))
        .join(" or ")}, got ${describe(value)}`;
    case "enum":
      return Array.isArray(expected) ? `must be one of: ${expected.map(show).join(", ")}` : error.error;
    case "const":
      return `must be ${show(expected)}`;
    case "format":
      return (typeof expected === "string" && FORMATS[expected]) || `expected a valid ${String(expected)}`;
    case "pattern":
      return expected === DURATION_PATTERN.source
        ? 'expected a duration such as "500ms", "30s", "5m" or "1h"'
        : `must match the pattern ${String(expected)}`;
    case "minLength":
      return n === undefined ? error.error : `must be at least ${plural(n, "character")} long`;
    case "maxLength":
      return n === undefined ? error.error : `must be at most ${plural(n, "character")} long`;
    case "minItems":
      return n === undefined ? error.error : `must have at least ${plural(n, "item")}`;
    case "maxItems":
      return n === undefined ? error.error : `must have at most ${plural(n, "item")}`;
    case "minProperties":
      return n === undefined ? error.error : `must have at least ${plural(n, "field")}`;
    case "maxProperties":
      return n === undefined ? error.error : `must have at most ${plural(n, "field")}`;
    case "minimum":
      return n === undefined ? error.error : `must be at least ${n}`;
    case "maximum":
      return n === undefined ? error.error : `must be at most ${n}`;
    case "exclusiveMinimum":
      return n === undefined ? error.error : `must be greater than ${n}`;
    case "exclusiveMaximum":
      return n === undefined ? error.error : `must be less than ${n}`;
    case "multipleOf":
      return n === undefined ? error.error : `must be a multiple of ${n}`;
    case "uniqueItems":
      return "items must be unique";
    default:
      return error.error;
  }
}

export function typeName(type: string): string {
  return TYPE_NAMES[type] ?? type;
}

/**
 * The schema value at a validator's keyword location, following local `$ref`s on the way
 * (`#/properties/body/$ref/anyOf/0` goes through `#/$defs/…`); undefined when it cannot be found.
 */
export function schemaAt(root: object, keywordLocation: string, depth = 0): unknown {
  // A $ref chain this long is a cycle (`{"$ref": "#/$defs/a/$ref"}`), not a schema.
  if (!keywordLocation.startsWith("#") || depth > 16) return undefined;
  let node: unknown = root;
  for (const raw of keywordLocation.slice(1).split("/").slice(1)) {
    if (typeof node !== "object" || node === null) return undefined;
    const record = node as Record<string, unknown>;
    if (raw === "$ref" && typeof record.$ref === "string") {
      node = record.$ref === "#" ? root : schemaAt(root, record.$ref, depth + 1);
      continue;
    }
    const token = pointerToken(raw);
    if (token === undefined || !Object.hasOwn(record, token)) return undefined;
    node = record[token];
  }
  return node;
}

function pointerToken(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment).replaceAll("~1", "/").replaceAll("~0", "~");
  } catch {
    return undefined;
  }
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

function show(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return typeName(typeof value);
}
