/** The internal form of a validation problem, before it is rendered as a SpecError. */

export type PathSegment = string | number;

export type Issue = {
  path: PathSegment[];
  message: string;
  /** Point at the key rather than its value (unknown fields: the key is what is wrong). */
  atKey?: boolean;
};

export type SpecError = { path: string; message: string; line?: number; column?: number };

// Keys that read unambiguously after a dot; anything else (dots, spaces, digits-only) goes in brackets.
const PLAIN_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/**
 * `["tasks", 1, "needs", 0]` → `tasks[1].needs[0]`; the root is "".
 * @example formatPath(["with", "content.type"]) // 'with["content.type"]'
 */
export function formatPath(path: readonly PathSegment[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) out += out === "" ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
