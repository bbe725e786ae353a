/**
 * A cheap first pass over the raw value: it must be plain JSON, not too deep and not too big.
 * It runs before anything recursive (zod refinements, JSON Schema checks, template walks), so hostile
 * input — deep nesting, YAML alias expansions that multiply a small document, Infinity from `.inf` —
 * is rejected in bounded time instead of overflowing the stack or burning the CPU budget.
 */
import { type Issue, isRecord, type PathSegment } from "./issue";

export const MAX_DEPTH = 64;
/** Far above a legitimate 500-task spec; bounds work on alias-expanded YAML. */
export const MAX_NODES = 250_000;

type Frame = { value: unknown; depth: number; key: PathSegment | undefined; parent: Frame | undefined };

export function checkJsonShape(value: unknown): { issues: Issue[]; fatal: boolean } {
  const issues: Issue[] = [];
  const stack: Frame[] = [{ value, depth: 0, key: undefined, parent: undefined }];
  let nodes = 0;
  for (let frame = stack.pop(); frame; frame = stack.pop()) {
    if (++nodes > MAX_NODES) {
      return {
        issues: [{ path: [], message: `spec is too large (more than ${MAX_NODES} values)` }],
        fatal: true,
      };
    }
    const v = frame.value;
    if (v === null || typeof v === "string" || typeof v === "boolean") continue;
    if (typeof v === "number") {
      if (!Number.isFinite(v))
        issues.push({ path: pathOf(frame), message: "numbers must be finite (.inf and .nan are not JSON)" });
      continue;
    }
    const children = Array.isArray(v) ? v.entries() : isRecord(v) ? Object.entries(v) : undefined;
    if (!children) {
      issues.push({ path: pathOf(frame), message: "not a JSON value" });
      continue;
    }
    if (frame.depth >= MAX_DEPTH) {
      return {
        issues: [{ path: pathOf(frame), message: `nested deeper than ${MAX_DEPTH} levels` }],
        fatal: true,
      };
    }
    for (const [key, child] of children)
      stack.push({ value: child, depth: frame.depth + 1, key, parent: frame });
  }
  return { issues, fatal: false };
}

function pathOf(frame: Frame): PathSegment[] {
  const path: PathSegment[] = [];
  for (let f: Frame | undefined = frame; f?.key !== undefined; f = f.parent) path.unshift(f.key);
  return path;
}
