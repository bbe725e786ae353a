/**
 * The one entry point for turning spec text or a parsed value into a PipelineSpec or a complete list of
 * errors. Every check runs, even after the first failure, so a user fixes a spec in one round trip.
 * Nothing here throws: hostile input ends as a syntax or validation error, never as a 500.
 */
import { checkGraph, taskViews } from "./graph";
import { formatPath, type Issue, isRecord, type SpecError } from "./issue";
import type { Locator } from "./locate";
import { type PipelineSpec, PipelineSpecSchema } from "./pipeline";
import { checkExpressions } from "./references";
import { checkJsonShape } from "./shape";
import { parseJsonSource, parseYamlSource } from "./source";
import { MAX_TASKS } from "./task";
import { fromZodIssues } from "./zod-issues";

export type SpecFormat = "yaml" | "json";

export type ParsedSpec =
  | { ok: true; spec: PipelineSpec }
  | { ok: false; kind: "syntax"; errors: SpecError[] }
  | { ok: false; kind: "invalid"; errors: SpecError[] };

/**
 * Parses and validates spec text. Malformed text is `kind: "syntax"` (400), a well-formed but invalid
 * spec `kind: "invalid"` (422); errors carry the source line and column.
 * @example parsePipelineSpec("name: x\ntasks: []\n", "yaml") // { ok: false, kind: "invalid", … }
 */
export function parsePipelineSpec(source: string, format: SpecFormat): ParsedSpec {
  try {
    if (typeof source !== "string") return syntaxError("the spec must be text");
    if (format !== "yaml" && format !== "json") return syntaxError(`unsupported format "${String(format)}"`);
    const parsed = format === "json" ? parseJsonSource(source) : parseYamlSource(source);
    if (!parsed.ok) return { ok: false, kind: "syntax", errors: parsed.errors };
    return validate(parsed.value, parsed.locate);
  } catch (error) {
    // The parsers guard their own recursion; this is the backstop for anything they did not foresee.
    return syntaxError(`the ${String(format)} document could not be read (${describe(error)})`);
  }
}

/** Validates an already-parsed value (e.g. a JSON request body); errors have paths but no positions. */
export function validatePipelineSpec(value: unknown): ParsedSpec {
  return validate(value, undefined);
}

function validate(value: unknown, locate: Locator | undefined): ParsedSpec {
  let issues: Issue[];
  let spec: PipelineSpec | undefined;
  try {
    ({ issues, spec } = check(value));
  } catch (error) {
    issues = [{ path: [], message: `the spec could not be validated (${describe(error)})` }];
  }
  if (issues.length === 0 && spec) return { ok: true, spec };
  return { ok: false, kind: "invalid", errors: render(issues, locate) };
}

function check(value: unknown): { issues: Issue[]; spec?: PipelineSpec } {
  if (!isRecord(value)) return { issues: [{ path: [], message: "spec must be a mapping" }] };
  const shape = checkJsonShape(value);
  if (shape.fatal) return { issues: shape.issues };
  const result = PipelineSpecSchema.safeParse(value, { reportInput: true });
  const shapePaths = new Set(shape.issues.map((i) => formatPath(i.path)));
  // A shape problem (say, .inf) also fails the field's type; one message per place is enough.
  const schemaIssues = result.success
    ? []
    : fromZodIssues(result.error.issues).filter((i) => !shapePaths.has(formatPath(i.path)));
  const issues = [...shape.issues, ...schemaIssues, ...semanticIssues(value)];
  return result.success ? { issues, spec: result.data } : { issues };
}

/** Cross-field checks, run on the raw value so they are reported together with schema errors. */
function semanticIssues(value: Record<string, unknown>): Issue[] {
  const issues = duplicateTriggerIds(value.triggers);
  // Over the limit the schema already objects; the graph and expression work would only cost time.
  const withinLimit = Array.isArray(value.tasks) && value.tasks.length <= MAX_TASKS;
  const views = withinLimit ? taskViews(value.tasks) : [];
  const { issues: graphIssues, graph } = checkGraph(views);
  issues.push(...graphIssues, ...checkExpressions(value, withinLimit ? { views, graph } : undefined));
  return issues;
}

function duplicateTriggerIds(triggers: unknown): Issue[] {
  if (!Array.isArray(triggers)) return [];
  const seen = new Map<string, number>();
  const issues: Issue[] = [];
  for (const [i, item] of triggers.entries()) {
    const id = isRecord(item) && isRecord(item.webhook) ? item.webhook.id : undefined;
    if (typeof id !== "string") continue;
    const first = seen.get(id);
    if (first === undefined) seen.set(id, i);
    else {
      const message = `duplicate trigger id "${id}" (also triggers[${first}])`;
      issues.push({ path: ["triggers", i, "webhook", "id"], message });
    }
  }
  return issues;
}

/**
 * Errors found about a valid spec after the fact (the plugin checks of worker/plugins, which need I/O),
 * rendered like validation errors: with the line and column of each path in `source`.
 * @example sourceErrors(source, "yaml", [{ path: ["tasks", 0, "uses"], message: "…" }]) // [{ path: "tasks[0].uses", line: 4, … }]
 */
export function sourceErrors(source: string, format: SpecFormat, issues: readonly Issue[]): SpecError[] {
  let locate: Locator | undefined;
  try {
    // Parsed again rather than kept from the first pass: this runs only when there is something to report.
    const parsed = format === "json" ? parseJsonSource(source) : parseYamlSource(source);
    locate = parsed.ok ? parsed.locate : undefined;
  } catch {
    locate = undefined;
  }
  return render(issues, locate);
}

function render(issues: readonly Issue[], locate: Locator | undefined): SpecError[] {
  const seen = new Set<string>();
  const errors: SpecError[] = [];
  for (const issue of issues) {
    const path = formatPath(issue.path);
    const key = `${path}\u0000${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const position = locate?.(issue.path, issue.atKey);
    errors.push(position ? { path, message: issue.message, ...position } : { path, message: issue.message });
  }
  // Top to bottom, as the user reads the file; without positions, in the order the checks ran.
  return locate
    ? errors.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0))
    : errors;
}

function syntaxError(message: string): ParsedSpec {
  return { ok: false, kind: "syntax", errors: [{ path: "", message }] };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
