/**
 * Budgets for one transform evaluation. Untrusted JSONata can loop, recurse or allocate without end,
 * and a Worker has no way to interrupt a busy isolate: each budget turns one such path into an error.
 */
export const LIMITS = {
  /** Characters in the expression itself. */
  expressionLength: 10_000,
  /** Evaluated AST nodes (loops, recursion, mapping over big arrays). */
  steps: 200_000,
  /** Nesting of evaluation (deep or infinite non-tail recursion). */
  depth: 250,
  /** Items in one sequence or range (`[1..1e9]`). */
  sequence: 100_000,
  /** Characters in one string value (doubling concatenations, `$pad`, `$join`). */
  stringLength: 1_000_000,
} as const;

/** A budget ran out. Always non-retryable: the same expression over the same data runs out again. */
export class LimitExceeded extends Error {
  override readonly name = "LimitExceeded";
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
export const GuardedRegExp = new Proxy(RegExp, {
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
export function boundedPad(text: string | undefined, width: number, char?: string): string | undefined {
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
export function boundedJoin(items: unknown, separator = ""): string | undefined {
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
