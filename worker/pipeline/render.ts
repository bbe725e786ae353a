/**
 * Renders a task's `with` and evaluates `when`/`for_each`: `{{ }}` JSONata over the run's scope
 * (DESIGN.md §3). A value that is exactly one expression keeps its JSON type; mixed text is a string.
 * Expressions come from tenants, so evaluation is bounded by a step budget.
 */
import jsonata from "jsonata";
import { parseTemplate } from "../engine";
import { readSimplePath } from "./paths";

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

const MAX_STEPS = 100_000;
const ENTRY = Symbol.for("jsonata.__evaluate_entry");

/** Thrown for any expression that does not evaluate; its message is safe to show (no values). */
export class ExpressionError extends Error {}

interface Hooks {
  assign(name: string | symbol, value: unknown): void;
}

type Compiled = ReturnType<typeof jsonata>;

/**
 * Compiled expressions kept for reuse, per expression text: a hop would otherwise recompile the same
 * templates. An instance is lent to one evaluation at a time (its step hook is per evaluation).
 */
const idle = new Map<string, Compiled[]>();
const MAX_CACHED_EXPRESSIONS = 1000;

function borrow(expr: string): Compiled {
  const kept = idle.get(expr)?.pop();
  if (kept) return kept;
  try {
    return jsonata(expr);
  } catch (error) {
    throw new ExpressionError(`"${expr}" does not compile: ${messageOf(error)}`);
  }
}

function giveBack(expr: string, compiled: Compiled): void {
  let list = idle.get(expr);
  if (!list) {
    if (idle.size >= MAX_CACHED_EXPRESSIONS) idle.clear();
    list = [];
    idle.set(expr, list);
  }
  if (list.length < 8) list.push(compiled);
}

export async function evaluate(expr: string, scope: Scope): Promise<unknown> {
  const read = readSimplePath(expr, scope);
  // A copy, as JSONata's result is one (plain()): the scope holds cached outputs nobody may change.
  if (read) return typeof read.value === "object" ? plain(read.value) : read.value;
  const compiled = borrow(expr);
  try {
    return await evaluateWith(compiled, expr, scope);
  } finally {
    giveBack(expr, compiled);
  }
}

async function evaluateWith(compiled: Compiled, expr: string, scope: Scope): Promise<unknown> {
  let steps = 0;
  (compiled as unknown as Hooks).assign(ENTRY, () => {
    if (++steps > MAX_STEPS) throw new ExpressionError(`"${expr}" took more than ${MAX_STEPS} steps`);
  });
  try {
    // Fresh bindings give each evaluation its own frame: `$x := …` never outlives it on a reused instance.
    return plain(await compiled.evaluate(scope, {}));
  } catch (error) {
    if (error instanceof ExpressionError) throw error;
    throw new ExpressionError(`"${expr}" failed: ${messageOf(error)}`);
  }
}

/** A string template's value: literal as is, one expression keeps its type, mixed text is a string. */
export async function renderString(value: string, scope: Scope): Promise<unknown> {
  const template = parseTemplate(value);
  switch (template.kind) {
    case "literal":
      return template.value;
    case "expression":
      return (await evaluate(template.expr, scope)) ?? null;
    case "interpolated": {
      let out = "";
      for (const part of template.parts) {
        if (part.kind === "text") out += part.value;
        else out += stringify(await evaluate(part.expr, scope));
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

/** Renders every string inside a JSON value (object keys stay as written). */
export async function render(value: unknown, scope: Scope): Promise<unknown> {
  if (typeof value === "string") return renderString(value, scope);
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const item of value) out.push(await render(item, scope));
    return out;
  }
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = await render(item, scope);
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

function messageOf(error: unknown): string {
  if (typeof error === "object" && error !== null && "message" in error) return String(error.message);
  return String(error);
}
