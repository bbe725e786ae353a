/**
 * Expressions inside the spec: each `{{ … }}` in a task's `with`, `when` and `for_each`, and the bare
 * JSONata of webhook `filter`/`dedupe`, must compile and may only read names that exist at run time.
 */
import { analyzeExpression, type ExpressionAnalysis, type RootReference } from "../expression";
import { parseTemplate, type Template, templateExpressions } from "../template";
import type { TaskGraph, TaskView } from "./graph";
import { type Issue, isRecord, type PathSegment } from "./issue";
import { MAX_DEPTH } from "./shape";

/** The keys of the object task expressions are evaluated against (DESIGN.md §3). */
const TASK_ROOTS = ["params", "trigger", "tasks", "run", "item", "secrets"];
const HOOK_ROOTS = ["headers", "body", "query"];
/** Compiling costs ~50 µs; this bounds a hostile spec to about half a second of CPU. */
const MAX_DISTINCT_EXPRESSIONS = 10_000;

type Analyze = (expr: string) => ExpressionAnalysis | undefined;

type TaskScope = {
  task: TaskView;
  graph: TaskGraph;
  /** Declared param names, or undefined when `params` is malformed and cannot be checked against. */
  params: ReadonlySet<string> | undefined;
  item: "available" | "no for_each" | "inside for_each";
  /** Only `with` is rendered with the tenant's secrets; `when` and `for_each` never see them. */
  secrets: boolean;
};

export function checkExpressions(
  spec: Record<string, unknown>,
  tasks: { views: readonly TaskView[]; graph: TaskGraph } | undefined,
): Issue[] {
  // Specs repeat the same expression often; each distinct one is compiled once.
  const cache = new Map<string, ExpressionAnalysis>();
  let overflow = false;
  const analyze: Analyze = (expr) => {
    const known = cache.get(expr);
    if (known || cache.size < MAX_DISTINCT_EXPRESSIONS)
      return known ?? cache.set(expr, analyzeExpression(expr)).get(expr);
    overflow = true;
    return undefined;
  };
  const issues = [...triggerIssues(spec.triggers, analyze)];
  if (tasks) issues.push(...taskIssues(tasks.views, tasks.graph, spec.params, analyze));
  if (overflow)
    issues.push({ path: [], message: `more than ${MAX_DISTINCT_EXPRESSIONS} distinct expressions` });
  return issues;
}

function taskIssues(
  tasks: readonly TaskView[],
  graph: TaskGraph,
  params: unknown,
  analyze: Analyze,
): Issue[] {
  const declared =
    params === undefined ? new Set<string>() : isRecord(params) ? new Set(Object.keys(params)) : undefined;
  const issues: Issue[] = [];
  for (const task of tasks) {
    const at = (...rest: PathSegment[]): PathSegment[] => ["tasks", task.index, ...rest];
    const { with: inputs, when, for_each: forEach } = task.raw;
    const scope: TaskScope = {
      task,
      graph,
      params: declared,
      item: forEach === undefined ? "no for_each" : "available",
      secrets: true,
    };
    const gate: TaskScope = { ...scope, secrets: false };
    const inForEach: TaskScope = { ...gate, item: "inside for_each" };
    const check = (s: string, path: PathSegment[], inScope: TaskScope) =>
      issues.push(...checkTemplate(parseTemplate(s), path, inScope, analyze));
    walkStrings(inputs, at("with"), (s, path) => check(s, path, scope), 0);
    if (typeof when === "string") issues.push(...checkSingle(when, at("when"), "when", gate, analyze));
    if (typeof forEach === "string")
      issues.push(...checkSingle(forEach, at("for_each"), "for_each", inForEach, analyze));
    if (Array.isArray(forEach))
      walkStrings(forEach, at("for_each"), (s, path) => check(s, path, inForEach), 0);
  }
  return issues;
}

function triggerIssues(triggers: unknown, analyze: Analyze): Issue[] {
  if (!Array.isArray(triggers)) return [];
  const issues: Issue[] = [];
  for (const [i, item] of triggers.entries()) {
    const hook = isRecord(item) && isRecord(item.webhook) ? item.webhook : undefined;
    for (const field of ["filter", "dedupe"] as const) {
      const expr = hook?.[field];
      if (typeof expr !== "string" || expr.length === 0) continue;
      const path = ["triggers", i, "webhook", field];
      if (expr.includes("{{")) {
        issues.push({
          path,
          message: `${field} is bare JSONata over headers, body and query: write it without {{ }}`,
        });
        continue;
      }
      const problemOf = (root: RootReference) =>
        HOOK_ROOTS.includes(root.name)
          ? null
          : `unknown name "${root.name}": ${field} can read headers, body and query`;
      issues.push(...checkExpression(expr, path, problemOf, analyze));
    }
  }
  return issues;
}

/** `when` and a string `for_each` must be exactly one expression: their result is used as a value. */
function checkSingle(
  value: string,
  path: PathSegment[],
  field: string,
  scope: TaskScope,
  analyze: Analyze,
): Issue[] {
  const template = parseTemplate(value);
  if (template.kind === "literal" || template.kind === "interpolated") {
    return [{ path, message: `${field} must be a single "{{ expression }}", e.g. "{{ params.enabled }}"` }];
  }
  return checkTemplate(template, path, scope, analyze);
}

function checkTemplate(template: Template, path: PathSegment[], scope: TaskScope, analyze: Analyze): Issue[] {
  if (template.kind === "invalid") return [{ path, message: template.message }];
  return templateExpressions(template).flatMap((expr) =>
    checkExpression(expr, path, (root) => rootProblem(root, scope), analyze),
  );
}

function checkExpression(
  expr: string,
  path: PathSegment[],
  problemOf: (root: RootReference) => string | null,
  analyze: Analyze,
): Issue[] {
  const analysis = analyze(expr);
  if (!analysis) return [];
  if (!analysis.ok) return [{ path, message: `invalid expression "${clip(expr)}": ${analysis.message}` }];
  return analysis.roots.flatMap((root) => {
    const message = problemOf(root);
    return message === null ? [] : [{ path, message }];
  });
}

function rootProblem(root: RootReference, scope: TaskScope): string | null {
  const { name, member } = root;
  const taskId = scope.task.id ?? `tasks[${scope.task.index}]`;
  if (!TASK_ROOTS.includes(name)) {
    return `unknown name "${name}": expressions can read params, trigger, tasks, run, secrets and, with for_each, item`;
  }
  if (name === "item" && scope.item === "no for_each") return "item is only defined in a task with for_each";
  if (name === "secrets" && !scope.secrets) {
    return "secrets can only be read in with: when and for_each decide what runs and are shown in the run, so they never see secrets";
  }
  if (name === "item" && scope.item === "inside for_each")
    return "for_each cannot use item: item is what for_each produces";
  if (name === "tasks") {
    if (typeof member !== "string") return "read an upstream task's output as tasks.<id>.output";
    if (scope.graph.indexOf(member) === undefined) return `tasks.${member}: there is no task "${member}"`;
    if (member === scope.task.id)
      return `tasks.${member} is this task itself: a task cannot read its own output`;
    if (!scope.graph.isUpstream(scope.task.index, member))
      return `tasks.${member} is not upstream of ${taskId} — add it to needs`;
  }
  if (name === "params" && typeof member === "string" && scope.params && !scope.params.has(member)) {
    return `params.${member} is not declared in params`;
  }
  return null;
}

/** Calls `visit` for every string in a JSON value (depth-limited; the shape check reports deeper values). */
function walkStrings(
  value: unknown,
  path: PathSegment[],
  visit: (s: string, path: PathSegment[]) => void,
  depth: number,
): void {
  if (depth > MAX_DEPTH) return;
  if (typeof value === "string") visit(value, path);
  else if (Array.isArray(value))
    for (const [i, item] of value.entries()) walkStrings(item, [...path, i], visit, depth + 1);
  else if (isRecord(value))
    for (const [key, item] of Object.entries(value)) walkStrings(item, [...path, key], visit, depth + 1);
}

function clip(expr: string): string {
  return expr.length > 60 ? `${expr.slice(0, 57)}…` : expr;
}
