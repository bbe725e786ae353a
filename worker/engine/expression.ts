/**
 * Static analysis of JSONata expressions: does it compile, and which top-level names does it read?
 * The engine evaluates expressions against a fixed context object, so a name that is not one of the
 * context's keys is almost certainly a typo that would silently evaluate to undefined at run time.
 */
import { LIMITS } from "@updraft/plugin-sdk/expression";
import jsonata from "jsonata";

/** A name read from the expression's input object, e.g. `tasks` in `tasks.fetch.output`. */
export type RootReference = {
  name: string;
  /** The next step when it is a plain name (`fetch` above); "dynamic" for `tasks[…]`, `tasks.*`, …. */
  member: string | { dynamic: true } | undefined;
  /** 0-based offset in the expression, as jsonata reports it. */
  position: number;
};

export type ExpressionAnalysis = { ok: true; roots: RootReference[] } | { ok: false; message: string };

// Guards against hostile input: compiling is linear, but the parser and our walk recurse.
const MAX_EXPRESSION_LENGTH = LIMITS.expressionLength;
const MAX_AST_DEPTH = 200;

// AST keys whose expressions are evaluated against the current step's items, not the input root:
// predicates/filters, grouping, sort terms and the parts of a transform.
const RELATIVE_KEYS = new Set(["stages", "predicate", "group", "terms", "pattern", "update", "delete"]);

export function analyzeExpression(expr: string): ExpressionAnalysis {
  if (expr.length > MAX_EXPRESSION_LENGTH) {
    return { ok: false, message: `expression is longer than ${MAX_EXPRESSION_LENGTH} characters` };
  }
  let ast: unknown;
  try {
    ast = jsonata(expr).ast();
  } catch (error) {
    return { ok: false, message: compileMessage(error) };
  }
  const roots: RootReference[] = [];
  walk(ast, true, roots, 0);
  return { ok: true, roots };
}

function compileMessage(error: unknown): string {
  if (error instanceof RangeError) return "expression is nested too deeply";
  const { message, position } = (typeof error === "object" && error !== null ? error : {}) as {
    message?: unknown;
    position?: unknown;
  };
  const text = typeof message === "string" ? message : "invalid expression";
  return typeof position === "number" ? `${text} (at character ${position})` : text;
}

type Node = Record<string, unknown>;

function isNode(value: unknown): value is Node {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function walk(node: unknown, atRoot: boolean, out: RootReference[], depth: number): void {
  if (depth > MAX_AST_DEPTH) return;
  if (Array.isArray(node)) {
    for (const item of node) walk(item, atRoot, out, depth + 1);
    return;
  }
  if (!isNode(node)) return;
  const steps = node.type === "path" && Array.isArray(node.steps) ? node.steps : undefined;
  if (steps) {
    collectRoot(steps, atRoot, out);
    // After the first step the context is whatever that step produced, so names there are relative.
    for (const [i, step] of steps.entries()) walk(step, atRoot && i === 0, out, depth + 1);
  }
  for (const [key, child] of Object.entries(node)) {
    if (key === "steps" || typeof child !== "object" || child === null) continue;
    walk(child, atRoot && !RELATIVE_KEYS.has(key), out, depth + 1);
  }
}

function collectRoot(steps: readonly unknown[], atRoot: boolean, out: RootReference[]): void {
  const [first, second, third] = steps;
  if (!isNode(first)) return;
  if (first.type === "name" && atRoot && typeof first.value === "string") {
    out.push(reference(first, first.value, second));
    return;
  }
  // `$$` (AST value "$") is always the input root; `$` (value "") is the root only at the top level.
  const isRootVariable = first.type === "variable" && (first.value === "$" || (first.value === "" && atRoot));
  if (isRootVariable && isNode(second) && second.type === "name" && typeof second.value === "string") {
    out.push(reference(second, second.value, third));
  }
}

function reference(node: Node, name: string, next: unknown): RootReference {
  const position = typeof node.position === "number" ? node.position : 0;
  return { name, member: memberOf(node, next), position };
}

function memberOf(node: Node, next: unknown): RootReference["member"] {
  // `tasks[0].x` or `tasks.*` select members by value, which only the run-time data can resolve.
  if (hasFilters(node)) return { dynamic: true };
  if (next === undefined) return undefined;
  if (isNode(next) && next.type === "name" && typeof next.value === "string") return next.value;
  return { dynamic: true };
}

function hasFilters(node: Node): boolean {
  return node.stages !== undefined || node.predicate !== undefined;
}
