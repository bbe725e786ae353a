/**
 * Checks of user-supplied JSON Schemas (pipeline params, webhook payload schemas).
 * @cfworker/json-schema does not validate schemas themselves: a typo such as `type: strng` or
 * `properties: 5` would silently accept everything, and a bad `pattern` or `$ref` only fails when a
 * payload happens to reach it. So the schema's structure is checked here, at save time.
 * Schemas come from tenants and plugin publishers and run on tenants' data in a shared isolate, so
 * what evaluating one may cost is bounded too (json-schema-bounds.ts).
 */

import { Validator } from "@cfworker/json-schema";
import { regexHazard } from "@updraft/plugin-sdk/expression";
import { MAX_SCHEMA_NODES, schemaCostProblems } from "./json-schema-bounds";

export type SchemaPath = Array<string | number>;
export type SchemaProblem = { path: SchemaPath; message: string };

const TYPES = new Set(["string", "number", "integer", "boolean", "object", "array", "null"]);
// Keyword lists as words: the schema vocabulary, not code worth a line per entry.
const SUBSCHEMA_KEYS = words(
  "additionalProperties additionalItems contains propertyNames not if then else",
).concat(words("unevaluatedItems unevaluatedProperties"));
const SUBSCHEMA_MAP_KEYS = words("properties patternProperties $defs definitions dependentSchemas");
const SUBSCHEMA_LIST_KEYS = words("allOf anyOf oneOf prefixItems");
const NUMBER_KEYS = words("minimum maximum exclusiveMinimum exclusiveMaximum multipleOf");
const COUNT_KEYS = words(
  "minLength maxLength minItems maxItems minProperties maxProperties minContains maxContains",
);
const MAX_DEPTH = 64;

type Collected = {
  refs: Array<{ path: SchemaPath; ref: string }>;
  anchors: Set<string>;
  ids: Set<string>;
  /** Every subschema walked, with where it is: what the cost bounds count and report. */
  paths: Map<object, SchemaPath>;
  nodes: number;
  /** Refuse patterns that could backtrack catastrophically (a tenant's schema, run over what it sends). */
  safeRegex: boolean;
};

export type SchemaCheckOptions = { safeRegex?: boolean };

/** Structural problems of a JSON Schema (2020-12, with draft-07 `items` arrays and `definitions`). */
export function jsonSchemaProblems(schema: unknown, options: SchemaCheckOptions = {}): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  const collected: Collected = {
    refs: [],
    anchors: new Set(),
    ids: new Set(),
    paths: new Map(),
    nodes: 0,
    safeRegex: options.safeRegex ?? false,
  };
  checkSchema(schema, [], problems, collected, 0);
  if (collected.nodes > MAX_SCHEMA_NODES) {
    const message = `JSON Schema has more than ${MAX_SCHEMA_NODES.toLocaleString("en")} subschemas: split it or simplify it`;
    return [{ path: [], message }];
  }
  for (const { path, ref } of collected.refs) {
    if (!resolves(schema, ref, collected)) {
      problems.push({
        path,
        message: `cannot resolve $ref "${ref}": only references within this schema (e.g. "#/$defs/name") are supported`,
      });
    }
  }
  if (problems.length === 0 && typeof schema === "object" && schema !== null) {
    try {
      // Resolves $refs as the validator will (it throws where the validator's constructor would).
      problems.push(...schemaCostProblems(schema, collected.paths));
    } catch (error) {
      problems.push({ path: [], message: `invalid JSON Schema: ${messageOf(error)}` });
    }
  }
  return problems;
}

/**
 * Why `value` does not satisfy `schema` (its first error), or null. `broken` means the schema itself
 * failed to evaluate, which is the schema's fault rather than the value's.
 */
export function schemaMismatch(schema: object, value: unknown): { broken: boolean; message: string } | null {
  try {
    const result = new Validator(schema, "2020-12", false).validate(value);
    const [first] = result.errors;
    if (result.valid || !first) return null;
    const where = first.instanceLocation === "#" ? "" : ` at ${first.instanceLocation}`;
    return { broken: false, message: `${first.error}${where}` };
  } catch (error) {
    return { broken: true, message: `invalid JSON Schema: ${messageOf(error)}` };
  }
}

function checkSchema(
  schema: unknown,
  path: SchemaPath,
  problems: SchemaProblem[],
  c: Collected,
  depth: number,
): void {
  if (typeof schema === "boolean") return;
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) {
    problems.push({ path, message: "a JSON Schema must be an object (or true/false)" });
    return;
  }
  if (depth > MAX_DEPTH) {
    problems.push({ path, message: `JSON Schema is nested deeper than ${MAX_DEPTH} levels` });
    return;
  }
  // Past the bound, walking on would only make the check itself costly; the problem is reported once.
  if (++c.nodes > MAX_SCHEMA_NODES) return;
  c.paths.set(schema, path);
  const s = schema as Record<string, unknown>;
  const problem = (key: string, message: string) => problems.push({ path: [...path, key], message });
  const sub = (value: unknown, ...rest: Array<string | number>) =>
    checkSchema(value, [...path, ...rest], problems, c, depth + 1);

  if (s.type !== undefined && !isTypeKeyword(s.type)) {
    problem("type", `type must be one of ${[...TYPES].join(", ")} (or a list of them)`);
  }
  if (s.required !== undefined && !isStringArray(s.required))
    problem("required", "required must be a list of property names");
  if (s.enum !== undefined && !Array.isArray(s.enum)) problem("enum", "enum must be a list of values");
  if (s.pattern !== undefined) {
    const error = regexError(s.pattern, c.safeRegex);
    if (error) problem("pattern", error);
  }
  for (const key of NUMBER_KEYS) {
    const v = s[key];
    if (v !== undefined && !(typeof v === "number" && Number.isFinite(v)))
      problem(key, `${key} must be a number`);
  }
  if (typeof s.multipleOf === "number" && !(s.multipleOf > 0))
    problem("multipleOf", "multipleOf must be greater than 0");
  for (const key of COUNT_KEYS) {
    const v = s[key];
    if (v !== undefined && !(Number.isInteger(v) && (v as number) >= 0))
      problem(key, `${key} must be a whole number ≥ 0`);
  }
  if (s.$ref !== undefined) {
    if (typeof s.$ref === "string") c.refs.push({ path: [...path, "$ref"], ref: s.$ref });
    else problem("$ref", "$ref must be a string");
  }
  for (const key of ["$recursiveRef", "$dynamicRef"]) {
    // The validator resolves these against the dynamic scope (or not at all): only $ref is supported.
    if (s[key] !== undefined) problem(key, `${key} is not supported: use $ref`);
  }
  if (typeof s.$anchor === "string") c.anchors.add(s.$anchor);
  if (typeof s.$id === "string") c.ids.add(s.$id);

  for (const key of SUBSCHEMA_KEYS) if (s[key] !== undefined) sub(s[key], key);
  if (Array.isArray(s.items)) for (const [i, item] of s.items.entries()) sub(item, "items", i);
  else if (s.items !== undefined) sub(s.items, "items");
  for (const key of SUBSCHEMA_LIST_KEYS) {
    const list = s[key];
    if (list === undefined) continue;
    if (Array.isArray(list) && list.length > 0) for (const [i, item] of list.entries()) sub(item, key, i);
    else problem(key, `${key} must be a non-empty list of schemas`);
  }
  if (s.dependencies !== undefined) {
    // Draft-07: each entry is a list of property names or a schema the whole object must match.
    if (typeof s.dependencies !== "object" || s.dependencies === null || Array.isArray(s.dependencies))
      problem("dependencies", "dependencies must be an object of property lists or schemas");
    else
      for (const [name, value] of Object.entries(s.dependencies)) {
        if (!Array.isArray(value)) sub(value, "dependencies", name);
        else if (!isStringArray(value))
          problems.push({
            path: [...path, "dependencies", name],
            message: "must be a list of property names",
          });
      }
  }
  for (const key of SUBSCHEMA_MAP_KEYS) {
    const map = s[key];
    if (map === undefined) continue;
    if (typeof map !== "object" || map === null || Array.isArray(map)) {
      problem(key, `${key} must be an object of schemas`);
      continue;
    }
    for (const [name, value] of Object.entries(map)) {
      const error = key === "patternProperties" ? regexError(name, c.safeRegex) : null;
      if (error) problems.push({ path: [...path, key, name], message: error });
      sub(value, key, name);
    }
  }
}

function isTypeKeyword(value: unknown): boolean {
  if (typeof value === "string") return TYPES.has(value);
  return (
    Array.isArray(value) && value.length > 0 && value.every((t) => typeof t === "string" && TYPES.has(t))
  );
}

function isStringArray(value: unknown): boolean {
  return Array.isArray(value) && value.every((v) => typeof v === "string");
}

function regexError(pattern: unknown, safe: boolean): string | null {
  if (typeof pattern !== "string") return "a pattern must be a string";
  try {
    // The validator compiles patterns with the u flag; check them the same way.
    new RegExp(pattern, "u");
  } catch (error) {
    return `invalid regular expression: ${messageOf(error)}`;
  }
  // A tenant's params are validated with these patterns in the API's isolate, over what it sends.
  const hazard = safe ? regexHazard(pattern) : null;
  return hazard ? `regular expression ${hazard}: it could stall the validator` : null;
}

function resolves(root: unknown, ref: string, c: Collected): boolean {
  if (c.ids.has(ref)) return true;
  if (!ref.startsWith("#")) return false;
  if (ref === "#") return true;
  if (!ref.startsWith("#/")) return c.anchors.has(ref.slice(1));
  let node: unknown = root;
  for (const raw of ref.slice(2).split("/")) {
    let token: string;
    try {
      token = decodeURIComponent(raw).replaceAll("~1", "/").replaceAll("~0", "~");
    } catch {
      return false;
    }
    if (typeof node !== "object" || node === null || !Object.hasOwn(node, token)) return false;
    node = (node as Record<string, unknown>)[token];
  }
  return true;
}

function words(list: string): string[] {
  return list.split(" ");
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
