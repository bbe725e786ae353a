/**
 * A fast path for the commonest template expressions — `item`, `run.id`, `params.region`,
 * `tasks.fetch.output.body`: a dotted path of plain field names over plain objects is read directly
 * instead of through JSONata, whose evaluator costs far more than the lookup. JSONata's sequence rules
 * (mapping a path over arrays, flattening singletons) only differ from a plain lookup when an array is
 * on the way or at the end, so those — and any name that is not an own field, or a keyword — go to
 * JSONata as before. A property test holds this to JSONata's own answers.
 */
const SIMPLE_PATH = /^\s*[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\s*$/;
const KEYWORDS = new Set(["and", "or", "in", "true", "false", "null", "function"]);

/** The value at `expr` when the fast path applies (undefined when a field is missing), else null. */
export function readSimplePath(expr: string, scope: object): { value: unknown } | null {
  if (!SIMPLE_PATH.test(expr)) return null;
  const names = expr.trim().split(".");
  if (names.some((name) => KEYWORDS.has(name))) return null;
  let value: unknown = scope;
  for (const name of names) {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
    if (!Object.hasOwn(value, name)) return { value: undefined };
    value = (value as Record<string, unknown>)[name];
  }
  if (Array.isArray(value)) return null;
  return { value };
}
