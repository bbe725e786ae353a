/**
 * Bounded JSONata: the one evaluator for expressions a tenant writes, used by the platform (templates,
 * `when`, `for_each`, webhook `filter`/`dedupe`) and by plugins (`core/transform`). Untrusted JSONata can
 * loop, recurse, allocate or backtrack without end, and a Worker cannot interrupt a busy isolate that many
 * tenants share: each budget below turns one such path into an `ExpressionError` instead.
 *
 * Imports nothing of the SDK or the platform (only jsonata), so both sides import this one file.
 *
 * @example
 * const expr = BoundedExpression.compile("$sum(items.price)");
 * await expr.evaluate({ items: [{ price: 2 }, { price: 3 }] }); // 5
 */
import jsonata from "jsonata";

export const LIMITS = {
  /** Characters in the expression itself. */
  expressionLength: 10_000,
  /** Evaluated AST nodes in one evaluation (loops, recursion, mapping over big arrays). */
  steps: 200_000,
  /** Nesting of evaluation (deep or infinite non-tail recursion). */
  depth: 250,
  /** Items in one sequence or range (`[1..1e9]`). */
  sequence: 100_000,
  /** Characters in one string value (doubling concatenations, `$pad`, `$join`). */
  stringLength: 1_000_000,
  /** Wall time of one evaluation, where the clock moves during CPU work (locally; Workers freeze it). */
  timeMs: 1_000,
} as const;

/** Why an expression did not give a value. Never retryable: the same input fails the same way again. */
export type ExpressionFailure = "syntax" | "limit" | "evaluation";

/** An expression that does not compile, ran out of a budget, or failed while evaluating. */
export class ExpressionError extends Error {
  override readonly name = "ExpressionError";
  constructor(
    message: string,
    readonly reason: ExpressionFailure,
  ) {
    super(message);
  }
}

/** Steps shared by several evaluations (all templates of one task, say); each takes from it. */
export type StepBudget = { remaining: number };

export type EvaluateOptions = {
  /** Stops the evaluation once aborted (a plugin's invocation deadline). */
  signal?: AbortSignal;
  /** A budget shared with other evaluations, on top of this evaluation's own `LIMITS.steps`. */
  budget?: StepBudget;
};

// jsonata's public types only allow string names, but its evaluator looks these hooks up by symbol.
interface Hooks {
  assign(name: string | symbol, value: unknown): void;
}
const ENTRY = Symbol.for("jsonata.__evaluate_entry");
const EXIT = Symbol.for("jsonata.__evaluate_exit");

class LimitExceeded extends Error {}

export class BoundedExpression {
  private constructor(
    readonly source: string,
    private readonly compiled: jsonata.Expression,
  ) {}

  /** Compiles `source` with the depth, sequence and regex guards in place; throws `ExpressionError`. */
  static compile(source: string): BoundedExpression {
    if (source.length > LIMITS.expressionLength) {
      throw new ExpressionError(
        `the expression is longer than ${LIMITS.expressionLength} characters`,
        "limit",
      );
    }
    let compiled: jsonata.Expression;
    try {
      compiled = jsonata(source, {
        stack: LIMITS.depth,
        sequence: LIMITS.sequence,
        RegexEngine: GuardedRegExp,
      });
    } catch (thrown) {
      if (thrown instanceof RangeError)
        throw new ExpressionError("the expression is nested too deeply", "limit");
      if (thrown instanceof LimitExceeded) throw new ExpressionError(thrown.message, "limit");
      throw new ExpressionError(`syntax error${describe(thrown)}`, "syntax");
    }
    compiled.registerFunction("pad", boundedPad, "<s-ns?:s>");
    compiled.registerFunction("join", boundedJoin, "<a<s>s?:s>");
    return new BoundedExpression(source, compiled);
  }

  /**
   * The value over `data` (`undefined` when it selects nothing). One evaluation at a time per instance:
   * the budgets are hooks on the compiled expression.
   */
  async evaluate(data: unknown, options: EvaluateOptions = {}): Promise<unknown> {
    const { signal, budget } = options;
    const hooks: Hooks = this.compiled;
    const startedAt = Date.now();
    let steps = 0;
    hooks.assign(ENTRY, () => {
      steps++;
      if (steps > LIMITS.steps) throw new LimitExceeded(`evaluation took more than ${LIMITS.steps} steps`);
      if (budget && --budget.remaining < 0)
        throw new LimitExceeded("the expressions of this task ran out of steps");
      if (signal?.aborted) throw new LimitExceeded("the deadline passed during evaluation");
      if ((steps & 1023) === 0 && Date.now() - startedAt > LIMITS.timeMs) {
        throw new LimitExceeded(`evaluation took longer than ${LIMITS.timeMs} ms`);
      }
    });
    hooks.assign(EXIT, (_node: unknown, _input: unknown, _env: unknown, result: unknown) =>
      checkSize(result),
    );
    try {
      // Fresh bindings give each evaluation its own frame: `$x := …` never outlives it on a reused instance.
      return await this.compiled.evaluate(data, {});
    } catch (thrown) {
      if (thrown instanceof LimitExceeded || thrown instanceof RangeError) {
        throw new ExpressionError(`expression stopped: ${thrown.message}`, "limit");
      }
      throw new ExpressionError(`evaluation error${describe(thrown)}`, "evaluation");
    }
  }
}

/** Compiles and evaluates once; see `BoundedExpression`. */
export function evaluateBounded(source: string, data: unknown, options?: EvaluateOptions): Promise<unknown> {
  return BoundedExpression.compile(source).evaluate(data, options);
}

function describe(thrown: unknown): string {
  if (typeof thrown !== "object" || thrown === null) return `: ${String(thrown)}`;
  const { message, position, code } = thrown as { message?: unknown; position?: unknown; code?: unknown };
  const at = typeof position === "number" ? ` at position ${position}` : "";
  const text = typeof message === "string" ? message : "invalid expression";
  return `${at}: ${text}${typeof code === "string" ? ` (${code})` : ""}`;
}

function checkSize(value: unknown): void {
  if (typeof value === "string" && value.length > LIMITS.stringLength) {
    throw new LimitExceeded(`a string grew past ${LIMITS.stringLength} characters`);
  }
  if (Array.isArray(value) && value.length > LIMITS.sequence) {
    throw new LimitExceeded(`an array grew past ${LIMITS.sequence} items`);
  }
}

/**
 * Whether a pattern quantifies a group that itself contains an unbounded quantifier, as in `(a+)+`
 * or `(\w*x)*`: those backtrack exponentially and would pin the CPU inside one regex call, where no
 * step counter can stop them. A linear scan, so the check itself is safe on hostile patterns.
 */
export function nestsQuantifiers(source: string): boolean {
  const groups: boolean[] = [];
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    if (ch === "\\") {
      i++;
      continue;
    }
    if (inClass) {
      inClass = ch !== "]";
      continue;
    }
    if (ch === "[") inClass = true;
    else if (ch === "(") groups.push(false);
    else if ((ch === "*" || ch === "+" || ch === "{") && groups.length > 0) groups[groups.length - 1] = true;
    else if (ch === ")") {
      const quantifiedInside = groups.pop() === true;
      const next = source[i + 1];
      if (quantifiedInside && (next === "*" || next === "+" || next === "{")) return true;
      // The enclosing group contains whatever this one did.
      if (quantifiedInside && groups.length > 0) groups[groups.length - 1] = true;
    }
  }
  return false;
}

/**
 * The RegExp engine handed to jsonata: refuses patterns that can backtrack catastrophically. A Proxy
 * keeps it a genuine `RegExpConstructor`, which is what jsonata's options ask for.
 */
const GuardedRegExp = new Proxy(RegExp, {
  construct(target, args: [string | RegExp, string | undefined]) {
    const [pattern, flags] = args;
    const source = typeof pattern === "string" ? pattern : pattern.source;
    if (nestsQuantifiers(source) || /\\[1-9]|\\k</.test(source)) {
      throw new LimitExceeded(`regular expression /${source}/ nests quantifiers or uses backreferences`);
    }
    return new target(pattern, flags);
  },
});

/** `$pad` with its width checked before the padding is allocated (jsonata's own allocates first). */
function boundedPad(text: string | undefined, width: number, char?: string): string | undefined {
  if (text === undefined) return undefined;
  const target = Math.abs(Math.trunc(width));
  if (target > LIMITS.stringLength)
    throw new LimitExceeded(`$pad width ${target} is over ${LIMITS.stringLength}`);
  const fill = Array.from(char === undefined || char === "" ? " " : char);
  const missing = target - Array.from(text).length;
  if (missing <= 0) return text;
  const padding = Array.from({ length: missing }, (_, i) => fill[i % fill.length]).join("");
  return width > 0 ? text + padding : padding + text;
}

/** `$join` with the result's length computed before it is built. */
function boundedJoin(items: unknown, separator = ""): string | undefined {
  if (items === undefined) return undefined;
  const list = (Array.isArray(items) ? items : [items]).map((item) => {
    if (typeof item !== "string") throw new LimitExceeded("$join expects an array of strings");
    return item;
  });
  const total =
    list.reduce((sum, item) => sum + item.length, 0) + separator.length * Math.max(0, list.length - 1);
  if (total > LIMITS.stringLength) throw new LimitExceeded(`$join would build ${total} characters`);
  return list.join(separator);
}
