/**
 * Evaluates untrusted JSONata with the SDK's bounded evaluator (the same one the platform uses for
 * templates). Every failure is a NonRetriableError: an expression that fails once fails the same way
 * on every retry.
 */

import { NonRetriableError } from "@updraft/plugin-sdk";
import { ExpressionError, evaluateBounded as evaluate } from "@updraft/plugin-sdk/expression";

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
  try {
    return await evaluate(expression, data, { signal });
  } catch (thrown) {
    if (thrown instanceof ExpressionError) throw new NonRetriableError(thrown.message);
    throw thrown;
  }
}
