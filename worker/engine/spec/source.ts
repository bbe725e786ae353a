/**
 * Spec text → value. Anything that stops us from reading a single well-formed document is a syntax
 * error (the API answers 400): bad YAML/JSON, duplicate keys, several documents, unknown tags, alias
 * bombs. Everything after that is validation (422).
 */
import { LineCounter, parseDocument, type YAMLError } from "yaml";
import type { SpecError } from "./issue";
import { createLocator, type Locator } from "./locate";

export type SourceResult =
  | { ok: true; value: unknown; locate: Locator | undefined }
  | { ok: false; errors: SpecError[] };

/**
 * yaml counts alias resolutions weighted by the aliases they contain. Reusing one anchor in every task of
 * a large spec is legitimate; exponential expansion is caught here and, for what remains, by the node
 * budget of the shape check.
 */
const MAX_ALIAS_COUNT = 5_000;

const YAML_OPTIONS = {
  prettyErrors: false,
  uniqueKeys: true,
  merge: true,
  // Keep YAML 1.1 extras (!!binary, !!timestamp, …) unresolved so that they are refused below instead
  // of turning into non-JSON values.
  resolveKnownTags: false,
  version: "1.2",
} as const;

export function parseYamlSource(source: string): SourceResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { ...YAML_OPTIONS, lineCounter });
  const problems = [...doc.errors, ...doc.warnings.filter((w) => w.code === "TAG_RESOLVE_FAILED")];
  if (problems.length > 0) return { ok: false, errors: yamlErrors(problems, lineCounter) };
  try {
    return {
      ok: true,
      value: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }),
      locate: createLocator(doc, lineCounter),
    };
  } catch (error) {
    const message =
      error instanceof RangeError
        ? "document is nested too deeply"
        : `too many alias expansions (${error instanceof Error ? error.message : String(error)})`;
    return { ok: false, errors: [{ path: "", message }] };
  }
}

export function parseJsonSource(source: string): SourceResult {
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (error) {
    return { ok: false, errors: [jsonSyntaxError(source, error)] };
  }
  // JSON is YAML 1.2, so the YAML parser gives positions for free, and it notices the duplicate keys
  // that JSON.parse silently collapses (last one wins), which would make JSON and YAML disagree.
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { ...YAML_OPTIONS, lineCounter });
  const duplicates = doc.errors.filter((e) => e.code === "DUPLICATE_KEY");
  if (duplicates.length > 0) return { ok: false, errors: yamlErrors(duplicates, lineCounter) };
  const locate = doc.errors.length === 0 ? createLocator(doc, lineCounter) : undefined;
  return { ok: true, value, locate };
}

function yamlErrors(errors: readonly YAMLError[], lineCounter: LineCounter): SpecError[] {
  // A stack overflow inside the parser repeats once per nesting level; one report is enough.
  const exhausted = errors.find((e) => e.code === "RESOURCE_EXHAUSTION");
  const list = exhausted ? [exhausted] : errors;
  return list.map((e) => {
    const { line, col } = lineCounter.linePos(e.pos[0]);
    const message =
      e.code === "RESOURCE_EXHAUSTION"
        ? "document is nested too deeply"
        : e.code === "MULTIPLE_DOCS"
          ? "a spec is a single YAML document: remove the --- separators"
          : e.code === "TAG_RESOLVE_FAILED"
            ? `${e.message}: only plain YAML values are allowed`
            : e.message;
    return { path: "", message, line, column: col };
  });
}

function jsonSyntaxError(source: string, error: unknown): SpecError {
  const message = error instanceof Error ? error.message : "malformed JSON";
  const lineColumn = /\(line (\d+) column (\d+)\)/.exec(message);
  if (lineColumn) return { path: "", message, line: Number(lineColumn[1]), column: Number(lineColumn[2]) };
  // V8 leaves the position out of some messages ("Unexpected token ','"); the YAML parser usually
  // stumbles at the same place, so borrow its position when it has one.
  const lineCounter = new LineCounter();
  const [first] = parseDocument(source, { ...YAML_OPTIONS, lineCounter }).errors;
  if (!first) return { path: "", message };
  const { line, col } = lineCounter.linePos(first.pos[0]);
  return { path: "", message, line, column: col };
}
