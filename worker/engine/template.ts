/**
 * Templates: strings with `{{ expr }}` JSONata expressions (DESIGN.md §3).
 *
 * Run-time meaning, which the engine must keep:
 * - "literal": no `{{` at all; the string is used as is.
 * - "expression": the string is exactly one `{{ expr }}` (surrounding whitespace ignored, because YAML
 *   block scalars add a trailing newline). The value keeps the expression's JSON type: an array stays an
 *   array, a number a number.
 * - "interpolated": text and expressions mixed; each result is stringified (strings as they are, other
 *   values as JSON, undefined as "") and concatenated into one string.
 *
 * There is no escape syntax: a literal "{{" is written as an expression, `{{ '{{' }}`. The scanner skips
 * JSONata strings, backtick names, comments and nested braces, so `{{ {'a': {'b': 1}} }}` is one expression.
 */

export type TemplatePart = { kind: "text"; value: string } | { kind: "expression"; expr: string };

export type Template =
  | { kind: "literal"; value: string }
  | { kind: "expression"; expr: string }
  | { kind: "interpolated"; parts: TemplatePart[] }
  // Only for malformed input (unterminated or empty `{{ }}`); validated specs never contain it.
  | { kind: "invalid"; message: string };

export const TEMPLATE_OPEN = "{{";

/**
 * Splits a string into text and `{{ expression }}` parts. Never throws.
 * @example parseTemplate("Hi {{ item.name }}") // { kind: "interpolated", parts: [{ kind: "text", value: "Hi " }, …] }
 */
export function parseTemplate(s: string): Template {
  if (!s.includes(TEMPLATE_OPEN)) return { kind: "literal", value: s };
  const parts: TemplatePart[] = [];
  let cursor = 0;
  while (cursor < s.length) {
    const open = s.indexOf(TEMPLATE_OPEN, cursor);
    if (open < 0) break;
    const close = findClose(s, open + TEMPLATE_OPEN.length);
    if (close < 0) return { kind: "invalid", message: "unterminated {{ — close the expression with }}" };
    const expr = s.slice(open + TEMPLATE_OPEN.length, close).trim();
    if (expr === "") return { kind: "invalid", message: "empty {{ }} — put a JSONata expression inside" };
    if (open > cursor) parts.push({ kind: "text", value: s.slice(cursor, open) });
    parts.push({ kind: "expression", expr });
    cursor = close + 2;
  }
  if (cursor < s.length) parts.push({ kind: "text", value: s.slice(cursor) });
  const expressions = parts.filter((p) => p.kind === "expression");
  const onlyBlankText = parts.every((p) => p.kind === "expression" || p.value.trim() === "");
  const [single] = expressions;
  if (expressions.length === 1 && onlyBlankText && single) return { kind: "expression", expr: single.expr };
  return { kind: "interpolated", parts };
}

/** The JSONata expressions of a template, in order. */
export function templateExpressions(template: Template): string[] {
  switch (template.kind) {
    case "expression":
      return [template.expr];
    case "interpolated":
      return template.parts.flatMap((p) => (p.kind === "expression" ? [p.expr] : []));
    case "literal":
    case "invalid":
      return [];
  }
}

/** Index of the `}}` that closes an expression starting at `from`, or -1. */
function findClose(s: string, from: number): number {
  let depth = 0;
  let i = from;
  while (i < s.length) {
    const c = s[i];
    if (c === "'" || c === '"') {
      i = skipString(s, i, c);
    } else if (c === "`") {
      i = s.indexOf("`", i + 1);
    } else if (c === "/" && s[i + 1] === "*") {
      const end = s.indexOf("*/", i + 2);
      i = end < 0 ? -1 : end + 1;
    } else if (c === "{") {
      depth++;
    } else if (c === "}") {
      if (depth > 0) depth--;
      else if (s[i + 1] === "}") return i;
    }
    if (i < 0) return -1;
    i++;
  }
  return -1;
}

/** Index of the quote closing a JSONata string literal that opens at `start`, or -1. */
function skipString(s: string, start: number, quote: string): number {
  for (let i = start + 1; i < s.length; i++) {
    if (s[i] === "\\") i++;
    else if (s[i] === quote) return i;
  }
  return -1;
}
