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
  /** Items `$sort`, `$distinct` and order-by (`^( )`) take: jsonata's own are quadratic in them. */
  sortItems: 5_000,
  /** Characters a regular expression is run over. */
  regexSubject: 10_000,
  /** Characters or items of every value built, charged to the step budget: one step per this many. */
  sizePerStep: 8,
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
  private busy = false;

  private constructor(
    readonly source: string,
    private readonly compiled: jsonata.Expression,
    /** AST nodes whose value is sorted or de-duplicated next (see quadraticInputs). */
    private readonly sorted: ReadonlySet<object>,
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
    return new BoundedExpression(source, compiled, quadraticInputs(compiled.ast()));
  }

  /**
   * The value over `data` (`undefined` when it selects nothing). One evaluation at a time per instance:
   * the budgets are hooks on the compiled expression.
   */
  async evaluate(data: unknown, options: EvaluateOptions = {}): Promise<unknown> {
    if (this.busy) throw new Error("a BoundedExpression evaluates one input at a time");
    this.busy = true;
    const { signal, budget } = options;
    const hooks: Hooks = this.compiled;
    const startedAt = Date.now();
    let steps = 0;
    const charge = (n: number) => {
      steps += n;
      if (steps > LIMITS.steps) throw new LimitExceeded(`evaluation took more than ${LIMITS.steps} steps`);
      if (budget) {
        budget.remaining -= n;
        if (budget.remaining < 0) throw new LimitExceeded("the expressions of this task ran out of steps");
      }
    };
    hooks.assign(ENTRY, () => {
      charge(1);
      if (signal?.aborted) throw new LimitExceeded("the deadline passed during evaluation");
      if ((steps & 1023) === 0 && Date.now() - startedAt > LIMITS.timeMs) {
        throw new LimitExceeded(`evaluation took longer than ${LIMITS.timeMs} ms`);
      }
    });
    hooks.assign(EXIT, (node: unknown, _input: unknown, _env: unknown, result: unknown) => {
      // Building values costs what they hold, so steps bound allocation too, not only work.
      const size = checkSize(result);
      if (size >= LIMITS.sizePerStep) charge(Math.floor(size / LIMITS.sizePerStep));
      if (size > LIMITS.sortItems && typeof node === "object" && node !== null && this.sorted.has(node)) {
        throw new LimitExceeded(`sorting or de-duplicating more than ${LIMITS.sortItems} items`);
      }
    });
    try {
      return await this.compiled.evaluate(data, {});
    } catch (thrown) {
      if (thrown instanceof LimitExceeded || thrown instanceof RangeError) {
        throw new ExpressionError(`expression stopped: ${thrown.message}`, "limit");
      }
      throw new ExpressionError(`evaluation error${describe(thrown)}`, "evaluation");
    } finally {
      this.busy = false;
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

/** The value's length (characters or items) after checking it against the size limits. */
function checkSize(value: unknown): number {
  if (typeof value === "string") {
    if (value.length > LIMITS.stringLength) {
      throw new LimitExceeded(`a string grew past ${LIMITS.stringLength} characters`);
    }
    return value.length;
  }
  if (Array.isArray(value)) {
    if (value.length > LIMITS.sequence)
      throw new LimitExceeded(`an array grew past ${LIMITS.sequence} items`);
    return value.length;
  }
  return 0;
}

type AstNode = Record<string, unknown>;
const isNode = (value: unknown): value is AstNode => typeof value === "object" && value !== null;

/**
 * The nodes whose value jsonata sorts or de-duplicates next: the first argument of `$sort` and
 * `$distinct`, and the step before an order-by. jsonata's merge sort copies the rest of the array at
 * every element (quadratic memory and time inside one step), so these values are capped at
 * LIMITS.sortItems when they are built. An order-by over a sequence gathered from many steps is
 * bounded by the steps its comparisons take.
 */
function quadraticInputs(ast: unknown): Set<object> {
  const marked = new Set<object>();
  const walk = (node: unknown, depth: number): void => {
    if (depth > LIMITS.depth || !isNode(node)) return;
    if (Array.isArray(node)) {
      for (const item of node) walk(item, depth + 1);
      return;
    }
    const procedure = node.procedure;
    if (
      node.type === "function" &&
      isNode(procedure) &&
      ["sort", "distinct"].includes(String(procedure.value))
    ) {
      const [first] = Array.isArray(node.arguments) ? node.arguments : [];
      if (isNode(first)) marked.add(first);
    }
    if (node.type === "path" && Array.isArray(node.steps)) {
      const steps: unknown[] = node.steps;
      for (let i = 1; i < steps.length; i++) {
        const [previous, step] = [steps[i - 1], steps[i]];
        if (isNode(step) && step.type === "sort" && isNode(previous)) marked.add(previous);
      }
    }
    for (const child of Object.values(node)) if (isNode(child)) walk(child, depth + 1);
  };
  walk(ast, 0);
  return marked;
}

/**
 * Why a pattern could backtrack catastrophically, or null. Refused: a quantified group that contains an
 * unbounded quantifier or an alternation (`(a+)+`, `(\w*x)*`, `(a|a)*`: exponential), more than
 * MAX_UNBOUNDED unbounded quantifiers (`.*.*.*x`: polynomial), and backreferences. A linear scan, so
 * the check itself is safe on hostile patterns; subjects are capped too (LIMITS.regexSubject).
 */
export function regexHazard(source: string): string | null {
  if (/\\[1-9]|\\k</.test(source)) return "uses backreferences";
  const groups: Array<{ risky: boolean }> = [];
  let inClass = false;
  let unbounded = 0;
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
    const top = groups[groups.length - 1];
    if (ch === "[") inClass = true;
    else if (ch === "(") groups.push({ risky: false });
    else if (ch === "|" && top) top.risky = true;
    else if (ch === "*" || ch === "+" || (ch === "{" && opensRange(source, i))) {
      unbounded++;
      if (top) top.risky = true;
    } else if (ch === "{" && top) top.risky = true;
    else if (ch === ")") {
      const risky = groups.pop()?.risky === true;
      const next = source[i + 1];
      if (risky && (next === "*" || next === "+" || next === "{")) {
        return "quantifies a group that holds a quantifier or an alternation";
      }
      // The enclosing group contains whatever this one did.
      const outer = groups[groups.length - 1];
      if (risky && outer) outer.risky = true;
    }
  }
  return unbounded > MAX_UNBOUNDED ? `has more than ${MAX_UNBOUNDED} unbounded quantifiers` : null;
}

const MAX_UNBOUNDED = 2;
const OPEN_RANGE = /\{\d*,\}/y;

/** Whether an unbounded `{n,}` starts at `at`. */
function opensRange(source: string, at: number): boolean {
  OPEN_RANGE.lastIndex = at;
  return OPEN_RANGE.test(source);
}

/** A RegExp that refuses to run over subjects longer than LIMITS.regexSubject. */
class CappedRegExp extends RegExp {
  override exec(subject: string): RegExpExecArray | null {
    if (subject.length > LIMITS.regexSubject) {
      throw new LimitExceeded(
        `a regular expression was run over more than ${LIMITS.regexSubject} characters`,
      );
    }
    return super.exec(subject);
  }
}

/**
 * The RegExp engine handed to jsonata: refuses patterns that can backtrack catastrophically and runs the
 * rest over capped subjects. A Proxy keeps it a genuine `RegExpConstructor`, which jsonata's options ask for.
 */
const GuardedRegExp = new Proxy(RegExp, {
  construct(_target, args: [string | RegExp, string | undefined]) {
    const [pattern, flags] = args;
    const source = typeof pattern === "string" ? pattern : pattern.source;
    const hazard = regexHazard(source);
    if (hazard) throw new LimitExceeded(`regular expression /${source}/ ${hazard}`);
    return new CappedRegExp(pattern, flags);
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
  const whole = fill.join("").repeat(Math.floor(missing / fill.length));
  const padding = whole + fill.slice(0, missing % fill.length).join("");
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
