/**
 * Evaluates untrusted JSONata within the budgets in `limits.ts`. Every failure is a
 * NonRetriableError: an expression that fails once fails the same way on every retry.
 */
import jsonata from "jsonata";
import { NonRetriableError } from "../../../sdk/src/index.ts";
import { boundedJoin, boundedPad, GuardedRegExp, LIMITS, LimitExceeded } from "./limits.ts";

// jsonata's public types only allow string names, but its evaluator looks these hooks up by symbol.
interface Hooks {
  assign(name: string | symbol, value: unknown): void;
}

const ENTRY = Symbol.for("jsonata.__evaluate_entry");
const EXIT = Symbol.for("jsonata.__evaluate_exit");

function jsonataError(thrown: unknown): { message: string; position?: number; code?: string } {
  if (typeof thrown !== "object" || thrown === null) return { message: String(thrown) };
  const { message, position, code } = thrown as { message?: unknown; position?: unknown; code?: unknown };
  return {
    message: typeof message === "string" ? message : "invalid expression",
    position: typeof position === "number" ? position : undefined,
    code: typeof code === "string" ? code : undefined,
  };
}

const at = (position: number | undefined) => (position === undefined ? "" : ` at position ${position}`);

function compile(expression: string) {
  if (expression.length > LIMITS.expressionLength) {
    throw new NonRetriableError(`the expression is longer than ${LIMITS.expressionLength} characters`);
  }
  try {
    return jsonata(expression, {
      stack: LIMITS.depth,
      sequence: LIMITS.sequence,
      RegexEngine: GuardedRegExp,
    });
  } catch (thrown) {
    if (thrown instanceof RangeError) throw new NonRetriableError("the expression is nested too deeply");
    if (thrown instanceof LimitExceeded) throw new NonRetriableError(thrown.message);
    const { message, position, code } = jsonataError(thrown);
    throw new NonRetriableError(`syntax error${at(position)}: ${message}${code ? ` (${code})` : ""}`);
  }
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
 * The value of `expression` over `data`; `undefined` when it selects nothing.
 *
 * @example
 * await evaluateBounded("$sum(items.price)", { items: [{ price: 2 }, { price: 3 }] }, signal); // 5
 */
export async function evaluateBounded(
  expression: string,
  data: unknown,
  signal: AbortSignal,
): Promise<unknown> {
  const compiled = compile(expression);
  const hooks: Hooks = compiled;
  let steps = 0;
  hooks.assign(ENTRY, () => {
    steps++;
    if (steps > LIMITS.steps) throw new LimitExceeded(`evaluation took more than ${LIMITS.steps} steps`);
    if (signal.aborted) throw new LimitExceeded("the invocation deadline passed during evaluation");
  });
  hooks.assign(EXIT, (_node: unknown, _input: unknown, _env: unknown, result: unknown) => checkSize(result));
  compiled.registerFunction("pad", boundedPad, "<s-ns?:s>");
  compiled.registerFunction("join", boundedJoin, "<a<s>s?:s>");
  try {
    return await compiled.evaluate(data);
  } catch (thrown) {
    if (thrown instanceof LimitExceeded) throw new NonRetriableError(`expression stopped: ${thrown.message}`);
    if (thrown instanceof RangeError) throw new NonRetriableError(`expression stopped: ${thrown.message}`);
    const { message, position, code } = jsonataError(thrown);
    throw new NonRetriableError(`evaluation error${at(position)}: ${message}${code ? ` (${code})` : ""}`);
  }
}
