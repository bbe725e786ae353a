/**
 * Renders a task's `with` and evaluates `when`/`for_each`: `{{ }}` JSONata over the run's scope
 * (DESIGN.md §3). A value that is exactly one expression keeps its JSON type; mixed text is a string.
 * Expressions come from tenants: they run under the SDK's bounded evaluator (steps, depth, sequence and
 * string sizes, regex safety), and all expressions of one task instance share one step budget.
 */
import {
  BoundedExpression,
  ExpressionError as BoundedExpressionError,
  type StepBudget,
} from "../../plugins/sdk/src/expression";
import { readSimplePath } from "./paths";
import { parseTemplate } from "./template";

export type Scope = {
  params: Record<string, unknown>;
  trigger: unknown;
  tasks: Record<string, { output: unknown }>;
  run: {
    id: string;
    logical_date: string | null;
    data_interval_start: string | null;
    data_interval_end: string | null;
  };
  item?: unknown;
  secrets?: Record<string, string>;
};

/** Steps all expressions of one task instance (its `with`, or one `when`/`for_each`) may take together. */
export const TASK_STEP_BUDGET = 400_000;

/** Thrown for any expression that does not evaluate; its message is safe to show (no values). */
export class ExpressionError extends Error {}

/**
 * Compiled expressions kept for reuse, per expression text: a hop would otherwise recompile the same
 * templates. An instance is lent to one evaluation at a time (its budget hooks are per evaluation).
 */
const idle = new Map<string, BoundedExpression[]>();
const MAX_CACHED_EXPRESSIONS = 1000;

function borrow(expr: string): BoundedExpression {
  const kept = idle.get(expr)?.pop();
  if (kept) return kept;
  try {
    return BoundedExpression.compile(expr);
  } catch (error) {
    throw new ExpressionError(`"${clip(expr)}" does not compile: ${messageOf(error)}`);
  }
}

function giveBack(expr: string, compiled: BoundedExpression): void {
  let list = idle.get(expr);
  if (!list) {
    if (idle.size >= MAX_CACHED_EXPRESSIONS) idle.clear();
    list = [];
    idle.set(expr, list);
  }
  if (list.length < 8) list.push(compiled);
}

/** A new budget for the expressions of one task instance. */
export function stepBudget(): StepBudget {
  return { remaining: TASK_STEP_BUDGET };
}

export async function evaluate(
  expr: string,
  scope: object,
  budget: StepBudget = stepBudget(),
): Promise<unknown> {
  const read = readSimplePath(expr, scope);
  // A copy, as JSONata's result is one (plain()): the scope holds cached outputs nobody may change.
  if (read) return typeof read.value === "object" ? plain(read.value) : read.value;
  const compiled = borrow(expr);
  try {
    return plain(await compiled.evaluate(scope, { budget }));
  } catch (error) {
    if (error instanceof BoundedExpressionError)
      throw new ExpressionError(`"${clip(expr)}" ${error.message}`);
    throw error;
  } finally {
    giveBack(expr, compiled);
  }
}

/** A string template's value: literal as is, one expression keeps its type, mixed text is a string. */
export async function renderString(
  value: string,
  scope: Scope,
  budget: StepBudget = stepBudget(),
): Promise<unknown> {
  const template = parseTemplate(value);
  switch (template.kind) {
    case "literal":
      return template.value;
    case "expression":
      return (await evaluate(template.expr, scope, budget)) ?? null;
    case "interpolated": {
      let out = "";
      for (const part of template.parts) {
        if (part.kind === "text") out += part.value;
        else out += stringify(await evaluate(part.expr, scope, budget));
      }
      return out;
    }
    case "invalid":
      throw new ExpressionError(template.message);
    default: {
      const never: never = template;
      throw new ExpressionError(`unknown template ${JSON.stringify(never)}`);
    }
  }
}

/** Renders every string inside a JSON value (object keys stay as written), all within one budget. */
export async function render(
  value: unknown,
  scope: Scope,
  budget: StepBudget = stepBudget(),
): Promise<unknown> {
  if (typeof value === "string") return renderString(value, scope, budget);
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const item of value) out.push(await render(item, scope, budget));
    return out;
  }
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = await render(item, scope, budget);
    return out;
  }
  return value;
}

function stringify(value: unknown): string {
  if (value === undefined || value === null) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** JSONata sequences and functions to plain JSON. */
function plain(value: unknown): unknown {
  if (value === undefined) return undefined;
  const text = JSON.stringify(value, (_key, item: unknown) =>
    typeof item === "function" ? undefined : item,
  );
  return text === undefined ? undefined : JSON.parse(text);
}

/** An expression as quoted in an error: long ones are cut, so a message stays a line. */
function clip(expr: string): string {
  return expr.length > 120 ? `${expr.slice(0, 117)}...` : expr;
}

function messageOf(error: unknown): string {
  if (typeof error === "object" && error !== null && "message" in error) return String(error.message);
  return String(error);
}

/** JSONata's $boolean: empty strings, zero, empty arrays and objects, null and nothing are false. */
export function truthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(truthy);
  if (typeof value === "object" && value !== null) return Object.keys(value).length > 0;
  return Boolean(value);
}
