/**
 * JSON we wrote ourselves (D1 rows, a PipelineDO's SQLite) is read back through the schema it was
 * written from, never cast: a corrupt or outdated row fails where it is read, naming what it was,
 * instead of travelling on as a value of the wrong shape.
 */
import type { z } from "zod";

/** zod issue codes that a value of the right shape can still raise: rules, not structure. */
const POLICY: ReadonlySet<string> = new Set(["custom", "invalid_format", "too_big", "too_small"]);

/** How many of a value's problems the message lists; the first few say what went wrong. */
const LISTED_PROBLEMS = 3;

/** Stored JSON that does not parse, or does not fit its schema: a fault of ours (a 500), not the caller's. */
export class StoredValueError extends Error {
  override readonly name = "StoredValueError";

  constructor(
    /** What was read, in the product's words: "pipeline spec", "timer ref". */
    readonly what: string,
    readonly problem: string,
  ) {
    super(`stored ${what} is corrupt: ${problem}`);
  }
}

/**
 * Parses stored JSON text with its schema; throws a StoredValueError otherwise.
 * @example parseStored(PipelineIdentity, row.value, "pipeline identity")
 */
export function parseStored<T>(
  schema: z.ZodType<T>,
  text: string,
  what: string,
  options: { policyChecks?: "enforce" | "tolerate" } = {},
): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new StoredValueError(what, `not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  // When only rules failed (refinements, string formats and regexes, size limits), the value has its
  // shape and broke a rule made stricter since it was written. Such a value is still read, as written
  // (it was written parsed; a default added to the schema since then is not filled in).
  if (options.policyChecks === "tolerate" && result.error.issues.every((issue) => POLICY.has(issue.code))) {
    console.warn(`stored ${what} breaks a rule made since it was saved`, describeIssues(result.error.issues));
    return value as T;
  }
  throw new StoredValueError(what, describeIssues(result.error.issues));
}

/** Paths and messages only: zod leaves the input out of its issues, and a stored value may hold secrets. */
function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  const listed = issues
    .slice(0, LISTED_PROBLEMS)
    .map((issue) => `${issue.path.map(String).join(".") || "(the value)"}: ${issue.message}`);
  const more = issues.length - listed.length;
  return more > 0 ? `${listed.join("; ")} (and ${more} more)` : listed.join("; ");
}
