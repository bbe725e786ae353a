/**
 * A task's `with` checked against its operator's input JSON Schema at save time, as far as it is known
 * then. A string containing `{{ … }}` only gets its value at run time, so nothing that depends on such
 * a value is reported: not the value's own type, format or pattern, and no `enum`, `anyOf`, `not`… over
 * a structure that contains one. What does not depend on it still is: a missing required field (a
 * templated field is present), an unknown field, a literal sibling of the wrong type.
 *
 * The validator runs without short-circuit, so it reports every failure along with the aggregate
 * errors that lead to it ("property x does not match"); only the leaves become messages.
 */
import { encodePointer, type OutputUnit, type Validator } from "@cfworker/json-schema";
import { type Issue, type PathSegment, parseTemplate } from "../engine";
import { messageFor, schemaAt, typeName } from "./input-messages";

export type InputSchema = { schema: Record<string, unknown>; validator: Validator };

type Node = { path: PathSegment[]; value: unknown; templated: boolean; holdsTemplate: boolean };

/** Keywords whose failure is fully explained by the errors of the values they apply to. */
const AGGREGATES = new Set(
  "properties patternProperties additionalProperties unevaluatedProperties items prefixItems additionalItems unevaluatedItems allOf $ref $recursiveRef $dynamicRef dependentSchemas".split(
    " ",
  ),
);
/** Keywords that hold or fail depending on which alternative the value matches. */
const ALTERNATIVES = new Set(["anyOf", "oneOf", "not", "contains"]);
/** Keywords about the value's own shape (type, keys, length), not about what is inside it. */
const SHAPE = new Set(
  "type required minProperties maxProperties minItems maxItems dependentRequired dependencies".split(" "),
);

/** What can already be said about `input` against the operator's schema; paths are relative to `with`. */
export function literalInputIssues(input: Record<string, unknown>, schema: InputSchema): Issue[] {
  let errors: OutputUnit[];
  try {
    const result = schema.validator.validate(input);
    if (result.valid) return [];
    errors = result.errors;
  } catch {
    // The plugin's schema is at fault, not the spec, but a value that could not be checked is not valid.
    return [{ path: [], message: "the operator's input schema could not be evaluated on this value" }];
  }
  const nodes = indexNodes(input);
  const issues: Issue[] = [];
  const consumed = new Set<number>();
  // The validator lists what led to an aggregate error right after it, so the scan stops at the first
  // error that is not part of it: one pass over the errors, however many there are.
  const consume = (i: number, prefixes: string[], at: string): OutputUnit[] => {
    let end = i + 1;
    for (let e = errors[end]; e; e = errors[++end]) {
      if (!within(e.instanceLocation, at) || !prefixes.some((p) => e.keywordLocation.startsWith(p))) break;
      consumed.add(end);
    }
    return errors.slice(i + 1, end);
  };
  for (const [i, error] of errors.entries()) {
    if (consumed.has(i)) continue;
    const at = error.instanceLocation;
    const node = nodes.get(at);
    const { keyword, keywordLocation } = error;
    if (keyword === "additionalProperties" || keyword === "unevaluatedProperties") {
      const next = errors[i + 1];
      // `additionalProperties: false`: the key is what is wrong, whatever its value.
      if (next?.keyword === "false" && schemaAt(schema.schema, keywordLocation) === false) {
        consumed.add(i + 1);
        issues.push(unknownField(nodes, next.instanceLocation, schema.schema, keywordLocation));
      }
      continue;
    }
    if (AGGREGATES.has(keyword) || (keyword === "dependencies" && / does not match /.test(error.error))) {
      continue;
    }
    if (keyword === "propertyNames") {
      consume(i, [`${keywordLocation}/`], at);
      const key = /^Property name "(.*)" does not match schema\.$/s.exec(error.error)?.[1];
      if (node && key !== undefined) {
        issues.push({
          path: [...node.path, key],
          message: `field name "${key}" is not allowed`,
          atKey: true,
        });
      }
      continue;
    }
    if (keyword === "if") {
      // `if` decided between `then` and `else` on the values as written; with a template inside, on guesswork.
      const base = keywordLocation.slice(0, -"/if".length);
      if (node?.holdsTemplate ?? true) consume(i, [`${base}/then/`, `${base}/else/`], at);
      continue;
    }
    if (ALTERNATIVES.has(keyword)) {
      const tried = consume(i, [`${keywordLocation}/`], at);
      if (!node || node.holdsTemplate) continue;
      issues.push({ path: node.path, message: alternativesMessage(error, tried, schema.schema) });
      continue;
    }
    if (keyword === "false") {
      if (node) issues.push({ path: node.path, message: "no value is allowed here", atKey: true });
      continue;
    }
    if (!node) continue;
    if (SHAPE.has(keyword) ? node.templated : node.holdsTemplate) continue;
    issues.push(messageFor(error, node.path, node.value, schema.schema));
  }
  return issues;
}

function unknownField(
  nodes: Map<string, Node>,
  at: string,
  root: Record<string, unknown>,
  keywordLocation: string,
): Issue {
  const node = nodes.get(at);
  const key = node?.path.at(-1);
  const parent = schemaAt(root, keywordLocation.slice(0, keywordLocation.lastIndexOf("/")));
  const properties =
    typeof parent === "object" && parent !== null && "properties" in parent ? parent.properties : undefined;
  const known = typeof properties === "object" && properties !== null ? Object.keys(properties) : [];
  const hint = known.length > 0 ? ` (expected one of: ${known.join(", ")})` : "";
  return { path: node?.path ?? [], message: `unknown field "${String(key)}"${hint}`, atKey: true };
}

/** One message for a failed anyOf/oneOf/not/contains over literal values; `tried` are its branches' errors. */
function alternativesMessage(error: OutputUnit, tried: OutputUnit[], root: object): string {
  if (error.keyword === "not") return "matches a form that is not allowed here";
  if (error.keyword === "contains") return "must contain at least one item of the required form";
  if (error.keyword === "oneOf" && !/\(0 matches\)/.test(error.error))
    return "matches more than one of the allowed forms";
  // When every alternative failed on its type alone, say which types would do.
  const branches = schemaAt(root, error.keywordLocation);
  const types = new Map<string, string[]>();
  for (const e of tried) {
    if (e.instanceLocation !== error.instanceLocation || e.keyword !== "type") continue;
    const branch = /^\/(\d+)\//.exec(e.keywordLocation.slice(error.keywordLocation.length))?.[1];
    const type = schemaAt(root, e.keywordLocation);
    if (branch !== undefined) types.set(branch, [...(types.get(branch) ?? []), ...[type].flat().map(String)]);
  }
  if (Array.isArray(branches) && types.size === branches.length) {
    return `expected ${[...new Set([...types.values()].flat())].map(typeName).join(" or ")}`;
  }
  return "matches none of the allowed forms";
}

/** Every node of the input by its JSON Pointer (as the validator writes it), with where templates are. */
function indexNodes(input: unknown): Map<string, Node> {
  const nodes = new Map<string, Node>();
  const visit = (value: unknown, pointer: string, path: PathSegment[]): boolean => {
    const node: Node = { path, value, templated: false, holdsTemplate: false };
    nodes.set(pointer, node);
    if (typeof value === "string") {
      node.templated = parseTemplate(value).kind !== "literal";
    } else if (Array.isArray(value)) {
      for (const [i, item] of value.entries())
        node.holdsTemplate = visit(item, `${pointer}/${i}`, [...path, i]) || node.holdsTemplate;
    } else if (typeof value === "object" && value !== null) {
      for (const [key, item] of Object.entries(value))
        node.holdsTemplate =
          visit(item, `${pointer}/${encodePointer(key)}`, [...path, key]) || node.holdsTemplate;
    }
    node.holdsTemplate ||= node.templated;
    return node.holdsTemplate;
  };
  visit(input, "#", []);
  return nodes;
}

function within(pointer: string, ancestor: string): boolean {
  return pointer === ancestor || pointer.startsWith(`${ancestor}/`);
}
