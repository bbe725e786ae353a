/**
 * zod issues → Issues with messages written for someone editing a spec. Zod's defaults ("Invalid input:
 * expected string, received undefined") are rephrased; messages the schema set itself are kept.
 */
import type { z } from "zod";
import type { Issue, PathSegment } from "./issue";
import { TRIGGER_KINDS } from "./trigger";

type ZodIssue = z.core.$ZodIssue;

export function fromZodIssues(issues: readonly ZodIssue[], prefix: PathSegment[] = []): Issue[] {
  const mapped = issues.flatMap((issue) => fromZodIssue(issue, [...prefix, ...issue.path.map(toSegment)]));
  // `- webhok: {…}` is one mistake: say "unknown trigger kind", not also "webhook is required".
  const misnamed = new Set(mapped.filter(isTriggerKindIssue).map((i) => i.path[1]));
  return mapped.filter((i) => !(i.message === TRIGGER_SHAPE && misnamed.has(i.path[1])));
}

const TRIGGER_SHAPE = `a trigger must be an object with exactly one key, one of: ${TRIGGER_KINDS.join(", ")}`;

function isTriggerKindIssue(issue: Issue): boolean {
  return issue.atKey === true && issue.path.length === 3 && issue.path[0] === "triggers";
}

function isTriggerItem(path: readonly PathSegment[]): boolean {
  return path.length === 2 && path[0] === "triggers" && typeof path[1] === "number";
}

function fromZodIssue(issue: ZodIssue, path: PathSegment[]): Issue[] {
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys.map((key) => ({
        path: [...path, key],
        message: unknownFieldMessage(key, path),
        atKey: true,
      }));
    case "invalid_union": {
      // Report the branch the value was evidently written for (its shape fits), not "matches no option".
      const fitting = issue.errors.filter((branch) => !branch.some(isShapeMismatch));
      const [only] = fitting;
      if (fitting.length === 1 && only) return fromZodIssues(only, path);
      return [{ path, message: isDefault(issue.message) ? unionMessage(path) : issue.message }];
    }
    case "invalid_key":
      return issue.issues.map((inner) => ({ path, message: inner.message, atKey: true }));
    case "invalid_type": {
      if (!("input" in issue) || issue.input === undefined) {
        if (isTriggerItem(path.slice(0, -1))) return [{ path: path.slice(0, -1), message: TRIGGER_SHAPE }];
        const field = path.at(-1);
        return [
          { path, message: typeof field === "string" ? `${field} is required` : "a value is required" },
        ];
      }
      const expected = issue.expected === "int" ? "a whole number" : article(issue.expected);
      const message = isDefault(issue.message)
        ? `expected ${expected}, got ${describe(issue.input)}`
        : issue.message;
      return [{ path, message }];
    }
    case "invalid_value":
      return [
        {
          path,
          message: isDefault(issue.message) ? `must be one of: ${issue.values.join(", ")}` : issue.message,
        },
      ];
    case "too_small":
    case "too_big":
      return [{ path, message: isDefault(issue.message) ? sizeMessage(issue) : issue.message }];
    default:
      return [{ path, message: issue.message }];
  }
}

/** True when a union branch failed at the value itself (wrong type, foreign keys), not somewhere inside. */
function isShapeMismatch(issue: ZodIssue): boolean {
  if (issue.path.length === 0) {
    return (
      issue.code === "invalid_type" || issue.code === "unrecognized_keys" || issue.code === "invalid_union"
    );
  }
  return issue.path.length === 1 && issue.code === "invalid_type" && issue.input === undefined;
}

function unknownFieldMessage(key: string, path: PathSegment[]): string {
  if (isTriggerItem(path)) {
    return `unknown trigger kind "${key}": a trigger has exactly one key, one of ${TRIGGER_KINDS.join(", ")}`;
  }
  return `unknown field "${key}"`;
}

function unionMessage(path: PathSegment[]): string {
  return isTriggerItem(path) ? TRIGGER_SHAPE : "value matches none of the allowed forms";
}

function sizeMessage(issue: z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig): string {
  const small = issue.code === "too_small";
  const limit = Number(small ? issue.minimum : issue.maximum);
  const bound = small ? "at least" : "at most";
  switch (issue.origin) {
    case "string":
      return `must be ${bound} ${limit} character${limit === 1 ? "" : "s"} long`;
    case "array":
    case "set":
      return `must have ${bound} ${limit} item${limit === 1 ? "" : "s"}`;
    default:
      return `must be ${bound} ${limit}`;
  }
}

// Zod's own messages start like this; the schema's custom messages never do.
function isDefault(message: string): boolean {
  return /^(Invalid input|Invalid option|Too small|Too big)\b/.test(message);
}

function article(type: string): string {
  if (type === "record" || type === "object") return "a mapping";
  if (type === "array") return "a list";
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return article(typeof value);
}

function toSegment(key: PropertyKey): PathSegment {
  return typeof key === "symbol" ? String(key) : key;
}
