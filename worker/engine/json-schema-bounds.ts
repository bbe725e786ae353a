/**
 * What evaluating a JSON Schema may cost, bounded at save time. @cfworker/json-schema follows every
 * `$ref` afresh at each use and has no budget of its own, so a schema of a kilobyte can stand for
 * millions of subschemas, and it runs on tenants' data in an isolate other tenants share.
 *
 * The schema is seen as a graph: each subschema has edges to the subschemas the validator evaluates
 * with it, either on the same value ("in place": `$ref`, `allOf`, `not`, `if`…) or on a part of it
 * (a property, an item, a key). Three things are refused:
 * - a cycle of in-place edges: the validator would recurse until the stack runs out;
 * - more than MAX_EXPANDED_SCHEMAS subschemas once every `$ref` is inlined (recursion counted once);
 * - recursion that multiplies with each level of the value (`{ allOf: [{ $ref: "#" }, { $ref: "#" }] }`
 *   under a property): found by following the schemas that one value can meet, level by level, until
 *   they repeat (a recursive tree schema, at once) or grow past the bound.
 */
import { dereference } from "@cfworker/json-schema";
import { regexHazard } from "@updraft/plugin-sdk/expression";
import type { SchemaPath, SchemaProblem } from "./json-schema";

/** Subschemas one schema may hold; the largest first-party schemas have a few hundred. */
export const MAX_SCHEMA_NODES = 5_000;
/** Subschemas once `$ref`s are inlined, and subschemas one value may be checked against. */
export const MAX_EXPANDED_SCHEMAS = 10_000;
/** Edges the level-by-level walk may visit before giving up on the schema as too intricate. */
const MAX_WORK = 1_000_000;

type SchemaNode = Record<string, unknown>;
/** Which part of the value an edge descends into; null for edges that stay on the value. */
type Step =
  | { kind: "key"; name: string }
  | { kind: "pattern"; pattern: string }
  | { kind: "otherKey"; except: ReadonlySet<string> }
  | { kind: "keyName" }
  | { kind: "index"; from: number; to: number };
type Edge = { to: unknown; step: Step | null; path: SchemaPath; ref?: string };
/** One kind of part of a value: a named key, any other key, a key as a string, an item index. */
type Part = { kind: "key"; name?: string } | { kind: "keyName" } | { kind: "index"; at: number };

/** Problems with what `schema` costs to evaluate; `paths` are its subschemas, as the checker walked them. */
export function schemaCostProblems(schema: object, paths: Map<object, SchemaPath>): SchemaProblem[] {
  const lookup = dereference(schema) as Record<string, unknown>;
  const graph = new Map<SchemaNode, Edge[]>();
  const problems: SchemaProblem[] = [];
  const edgesOf = (node: SchemaNode): Edge[] => {
    let edges = graph.get(node);
    if (!edges) {
      edges = schemaEdges(node, paths.get(node) ?? [], lookup);
      graph.set(node, edges);
      for (const { to, path, ref } of edges) {
        if (ref === undefined) continue;
        if (to === undefined) problems.push({ path, message: `cannot resolve $ref "${ref}"` });
        else if (isNode(to) && !paths.has(to))
          problems.push({ path, message: `$ref "${ref}" must point to a subschema (e.g. under $defs)` });
      }
    }
    return edges;
  };
  try {
    const reachable = reachableFrom(schema as SchemaNode, edgesOf);
    if (problems.length > 0) return problems;
    const loop = inPlaceCycle(reachable, edgesOf);
    if (loop) {
      const message = `$ref "${loop.ref}" leads back to itself without descending into the value, so it would never finish`;
      return [{ path: loop.path, message }];
    }
    const expanded = expandedSize(schema as SchemaNode, edgesOf);
    if (expanded.size > MAX_EXPANDED_SCHEMAS) {
      const what = expanded.offender ? `$ref "${expanded.offender.ref}"` : "this schema";
      const message = `${what} expands to ${approximately(expanded.size)} subschemas (at most ${MAX_EXPANDED_SCHEMAS.toLocaleString("en")}): every use of a $ref is evaluated afresh, so refs to refs multiply`;
      return [{ path: expanded.offender?.path ?? [], message }];
    }
    const growth = multiplyingRecursion(schema as SchemaNode, edgesOf);
    return growth ? [growth] : [];
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    return [{ path: [], message: "JSON Schema is too intricate to check (its $refs nest too deeply)" }];
  }
}

function schemaEdges(s: SchemaNode, path: SchemaPath, lookup: Record<string, unknown>): Edge[] {
  const edges: Edge[] = [];
  const add = (to: unknown, step: Step | null, ...at: Array<string | number>) =>
    edges.push({ to, step, path: [...path, ...at] });
  if (typeof s.$ref === "string") {
    // Resolved as the validator resolves it: against the base URI the `$id`s around it set.
    const absolute: unknown = Reflect.get(s, "__absolute_ref__");
    const to = lookup[typeof absolute === "string" ? absolute : s.$ref];
    edges.push({ to, step: null, path: [...path, "$ref"], ref: s.$ref });
  }
  for (const key of ["not", "if", "then", "else"]) if (s[key] !== undefined) add(s[key], null, key);
  for (const key of ["allOf", "anyOf", "oneOf"]) for (const [i, sub] of list(s[key])) add(sub, null, key, i);
  for (const [name, sub] of entries(s.dependentSchemas)) add(sub, null, "dependentSchemas", name);
  for (const [name, sub] of entries(s.dependencies))
    if (!Array.isArray(sub)) add(sub, null, "dependencies", name);
  const named = new Set<string>();
  for (const [name, sub] of entries(s.properties)) {
    named.add(name);
    add(sub, { kind: "key", name }, "properties", name);
  }
  for (const [pattern, sub] of entries(s.patternProperties))
    add(sub, { kind: "pattern", pattern }, "patternProperties", pattern);
  // The validator only looks at unevaluatedProperties when there is no additionalProperties.
  if (s.additionalProperties !== undefined)
    add(s.additionalProperties, { kind: "otherKey", except: named }, "additionalProperties");
  else if (s.unevaluatedProperties !== undefined)
    add(s.unevaluatedProperties, { kind: "otherKey", except: new Set() }, "unevaluatedProperties");
  if (s.propertyNames !== undefined) add(s.propertyNames, { kind: "keyName" }, "propertyNames");
  const prefix = list(s.prefixItems);
  for (const [i, sub] of prefix) add(sub, { kind: "index", from: i, to: i }, "prefixItems", i);
  const items = list(s.items);
  for (const [i, sub] of items) add(sub, { kind: "index", from: i, to: i }, "items", i);
  if (s.items !== undefined && !Array.isArray(s.items))
    add(s.items, { kind: "index", from: prefix.length, to: Infinity }, "items");
  if (Array.isArray(s.items) && s.additionalItems !== undefined) {
    const from = Math.max(prefix.length, items.length);
    add(s.additionalItems, { kind: "index", from, to: Infinity }, "additionalItems");
  }
  for (const key of ["contains", "unevaluatedItems"])
    if (s[key] !== undefined) add(s[key], { kind: "index", from: 0, to: Infinity }, key);
  return edges;
}

function reachableFrom(root: SchemaNode, edgesOf: (node: SchemaNode) => Edge[]): SchemaNode[] {
  const seen = new Set<SchemaNode>([root]);
  const pending = [root];
  for (let node = pending.pop(); node; node = pending.pop()) {
    for (const { to } of edgesOf(node)) {
      if (isNode(to) && !seen.has(to)) {
        seen.add(to);
        pending.push(to);
      }
    }
  }
  return [...seen];
}

/** An in-place edge that closes a cycle of in-place edges (always a `$ref`), or null. */
function inPlaceCycle(nodes: SchemaNode[], edgesOf: (node: SchemaNode) => Edge[]): Edge | null {
  const state = new Map<SchemaNode, "open" | "done">();
  const visit = (node: SchemaNode): Edge | null => {
    state.set(node, "open");
    for (const edge of edgesOf(node)) {
      if (edge.step !== null || !isNode(edge.to)) continue;
      const seen = state.get(edge.to);
      const found = seen === "open" ? edge : seen === undefined ? visit(edge.to) : null;
      if (found) return found;
    }
    state.set(node, "done");
    return null;
  };
  for (const node of nodes) {
    const found = state.has(node) ? null : visit(node);
    if (found) return found;
  }
  return null;
}

/**
 * Subschemas with every `$ref` inlined, each target counted once however often it is used (a ref back
 * into its own expansion counts one). `offender` is the outermost `$ref` whose target alone is too big.
 */
function expandedSize(root: SchemaNode, edgesOf: (node: SchemaNode) => Edge[]) {
  const sizes = new Map<SchemaNode, number>();
  const open = new Set<SchemaNode>();
  let offender: Edge | undefined;
  const size = (node: SchemaNode): number => {
    const known = sizes.get(node);
    if (known !== undefined) return known;
    open.add(node);
    let total = 1;
    for (const edge of edgesOf(node)) {
      const n = isNode(edge.to) && !open.has(edge.to) ? size(edge.to) : 1;
      // Post-order: an outer ref is met after the refs inside its target, and replaces them.
      if (edge.ref !== undefined && n > MAX_EXPANDED_SCHEMAS) offender = edge;
      total += n;
    }
    open.delete(node);
    sizes.set(node, total);
    return total;
  };
  return { size: size(root), offender };
}

/**
 * Follows, level by level of a value, how often each subschema is evaluated on one part of it, for every
 * kind of part (each named key, any other key, each index…). Recursion that does not multiply soon
 * repeats a level already seen; recursion that does grows past the bound.
 */
function multiplyingRecursion(root: SchemaNode, edgesOf: (node: SchemaNode) => Edge[]): SchemaProblem | null {
  let work = 0;
  const closure = (seeds: Map<SchemaNode, number>): Map<SchemaNode, number> => {
    // Counts flow along in-place edges, which form a DAG here (cycles were refused): Kahn's order.
    const incoming = new Map<SchemaNode, number>();
    const pending = [...seeds.keys()];
    for (const node of pending) incoming.set(node, 0);
    for (let i = 0; i < pending.length; i++) {
      for (const { to, step } of edgesOf(pending[i] as SchemaNode)) {
        if (step !== null || !isNode(to)) continue;
        work++;
        if (!incoming.has(to)) pending.push(to);
        incoming.set(to, (incoming.get(to) ?? 0) + 1);
      }
    }
    const counts = new Map(seeds);
    const ready = pending.filter((node) => incoming.get(node) === 0);
    for (let node = ready.pop(); node; node = ready.pop()) {
      const count = counts.get(node) ?? 0;
      for (const { to, step } of edgesOf(node)) {
        if (step !== null || !isNode(to)) continue;
        add(counts, to, count);
        const left = (incoming.get(to) ?? 0) - 1;
        incoming.set(to, left);
        if (left === 0) ready.push(to);
      }
    }
    return counts;
  };
  const ids = new Map<SchemaNode, number>();
  const idOf = (node: SchemaNode) => {
    const id = ids.get(node) ?? ids.size;
    ids.set(node, id);
    return id;
  };
  const keyOf = (level: Map<SchemaNode, number>) =>
    [...level]
      .map(([node, count]) => `${idOf(node)}:${count}`)
      .sort()
      .join(",");
  // A key checked by propertyNames is a string: nothing descends from it, but what it meets counts.
  const levels = [{ level: closure(new Map([[root, 1]])), leaf: false }];
  const seen = new Set<string>();
  for (let next = levels.pop(); next; next = levels.pop()) {
    const { level, leaf } = next;
    const total = [...level.values()].reduce((a, b) => a + b, 0);
    if (total > MAX_EXPANDED_SCHEMAS) return tooManyPerValue(level, edgesOf);
    if (work > MAX_WORK)
      return { path: [], message: "JSON Schema is too intricate to check: simplify its $refs" };
    const key = keyOf(level);
    if (leaf || seen.has(key)) continue;
    seen.add(key);
    for (const { part, below } of partsBelow(level, edgesOf, () => work++)) {
      if (below.size > 0) levels.push({ level: closure(below), leaf: part.kind === "keyName" });
    }
  }
  return null;
}

function tooManyPerValue(level: Map<SchemaNode, number>, edgesOf: (node: SchemaNode) => Edge[]) {
  let worst: { edge: Edge; count: number } | undefined;
  for (const [node, count] of level) {
    const edge = edgesOf(node).find((e) => e.ref !== undefined);
    if (edge && count > (worst?.count ?? 0)) worst = { edge, count };
  }
  const through = worst ? `$ref "${worst.edge.ref}"` : "its $refs";
  const message = `recursion through ${through} multiplies with each level of the value: one value could be checked against more than ${MAX_EXPANDED_SCHEMAS.toLocaleString("en")} subschemas`;
  return { path: worst?.edge.path ?? [], message };
}

/**
 * For each kind of part the edges out of `level` tell apart (each named key and index, any other key,
 * any other index, a key as a string), the subschemas that part meets and how often. Edges to one named
 * part are bucketed, so thousands of properties cost one pass; the rest are tried against every part.
 */
function partsBelow(level: Map<SchemaNode, number>, edgesOf: (node: SchemaNode) => Edge[], tick: () => void) {
  const exact = new Map<string, { part: Part; below: Map<SchemaNode, number> }>();
  const loose: Array<{ step: Step; to: SchemaNode; count: number }> = [];
  let beyond = 0;
  for (const [node, count] of level) {
    for (const { to, step } of edgesOf(node)) {
      tick();
      if (!step || !isNode(to)) continue;
      if (step.kind === "index") beyond = Math.max(beyond, step.from + 1);
      const named = namedPart(step);
      if (!named) {
        loose.push({ step, to, count });
        continue;
      }
      const [id, part] = named;
      const entry = exact.get(id) ?? { part, below: new Map<SchemaNode, number>() };
      exact.set(id, entry);
      add(entry.below, to, count);
    }
  }
  const parts: Array<{ part: Part; below: Map<SchemaNode, number> }> = [
    ...exact.values(),
    { part: { kind: "key" }, below: new Map() },
    { part: { kind: "keyName" }, below: new Map() },
    { part: { kind: "index", at: beyond }, below: new Map() },
  ];
  for (const { step, to, count } of loose) {
    for (const { part, below } of parts) {
      tick();
      if (reaches(step, part)) add(below, to, count);
    }
  }
  return parts;
}

function namedPart(step: Step): [string, Part] | null {
  if (step.kind === "key") return [`key:${step.name}`, { kind: "key", name: step.name }];
  if (step.kind === "index" && step.from === step.to)
    return [`index:${step.from}`, { kind: "index", at: step.from }];
  return null;
}

function add(counts: Map<SchemaNode, number>, node: SchemaNode, count: number): void {
  counts.set(node, (counts.get(node) ?? 0) + count);
}

function reaches(step: Step, part: Part): boolean {
  switch (step.kind) {
    case "key":
      return part.kind === "key" && part.name === step.name;
    case "pattern":
      // A hazardous pattern is not run here; it is assumed to match.
      return part.kind === "key" && (part.name === undefined || matches(step.pattern, part.name));
    case "otherKey":
      return part.kind === "key" && (part.name === undefined || !step.except.has(part.name));
    case "keyName":
      return part.kind === "keyName";
    case "index":
      return part.kind === "index" && step.from <= part.at && part.at <= step.to;
  }
}

function matches(pattern: string, name: string): boolean {
  if (regexHazard(pattern)) return true;
  try {
    return new RegExp(pattern, "u").test(name);
  } catch {
    return true;
  }
}

function approximately(n: number): string {
  if (!Number.isFinite(n) || n >= 1e9) return "over a billion";
  return `about ${Number(n.toPrecision(2)).toLocaleString("en")}`;
}

function isNode(value: unknown): value is SchemaNode {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function list(value: unknown): Array<[number, unknown]> {
  return Array.isArray(value) ? [...value.entries()] : [];
}

function entries(value: unknown): Array<[string, unknown]> {
  return isNode(value) ? Object.entries(value) : [];
}
