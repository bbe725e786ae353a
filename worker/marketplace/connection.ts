/**
 * An installation's connection settings against its plugin version's connection schema. Top-level
 * properties the schema marks `writeOnly` are secrets (PROTOCOL.md §1): encrypted at rest, masked in
 * every answer, never prefilled; a change that leaves one out keeps its stored value, `null` clears
 * it. The rest is plain JSON shown as stored.
 */
import { Validator } from "@cfworker/json-schema";
import { literalInputIssues } from "../plugins/inputs";
import { type FieldError, formatPath } from "../problem";

/** What answers show for a secret field that is set. */
export const MASK = "********";
/** A connection's settings may take this much JSON, secrets included. */
export const MAX_CONFIG_BYTES = 64 * 1024;

type Settings = Record<string, unknown>;

/** Names of the top-level properties the connection schema marks `writeOnly`. */
export function secretFieldsOf(schema: unknown): Set<string> {
  const properties = (schema as { properties?: unknown } | null)?.properties;
  if (typeof properties !== "object" || properties === null) return new Set();
  return new Set(
    Object.entries(properties)
      .filter(([, p]) => (p as { writeOnly?: unknown } | null)?.writeOnly === true)
      .map(([name]) => name),
  );
}

/** Plain and secret settings apart. */
export function splitSettings(
  settings: Settings,
  secretNames: ReadonlySet<string>,
): { plain: Settings; secret: Settings } {
  const plain: Settings = {};
  const secret: Settings = {};
  for (const [name, value] of Object.entries(settings))
    (secretNames.has(name) ? secret : plain)[name] = value;
  return { plain, secret };
}

/** The settings as answers show them: plain fields as stored, each set secret as MASK. */
export function masked(plain: Settings, setSecrets: readonly string[]): Settings {
  return { ...plain, ...Object.fromEntries(setSecrets.map((name) => [name, MASK])) };
}

/**
 * A change's settings over the stored ones: plain fields are replaced as a whole by `next`; a secret
 * `next` leaves out (or sends as MASK, as a form that showed it would) keeps its stored value, and
 * `null` clears it.
 */
export function mergeSettings(stored: Settings, next: Settings, secretNames: ReadonlySet<string>): Settings {
  const merged: Settings = {};
  for (const [name, value] of Object.entries(next)) {
    if (secretNames.has(name) && (value === MASK || value === null)) continue;
    merged[name] = value;
  }
  for (const name of secretNames) {
    if (!Object.hasOwn(next, name) || next[name] === MASK) {
      if (stored[name] !== undefined) merged[name] = stored[name];
    }
  }
  return merged;
}

/** Problems of `settings` against the schema, as paths under `config`; at most 50. */
export function settingsProblems(schema: unknown, settings: Settings): FieldError[] {
  if (new TextEncoder().encode(JSON.stringify(settings)).length > MAX_CONFIG_BYTES)
    return [{ path: "config", message: `must be at most ${MAX_CONFIG_BYTES} bytes of JSON` }];
  // Settings are stored as written: a template would never be evaluated, yet would pass for any type.
  const templated = templatedPath(settings, ["config"]);
  if (templated)
    return [{ path: formatPath(templated), message: "settings are values, not {{ }} templates" }];
  let validator: Validator;
  try {
    validator = new Validator(schema as object, "2020-12", false);
  } catch {
    return [{ path: "config", message: "the plugin's connection schema cannot be evaluated" }];
  }
  const issues = literalInputIssues(settings, { schema: schema as Record<string, unknown>, validator });
  return issues
    .slice(0, 50)
    .map((issue) => ({ path: formatPath(["config", ...issue.path]), message: issue.message }));
}

function templatedPath(value: unknown, path: Array<string | number>): Array<string | number> | null {
  if (typeof value === "string") return value.includes("{{") ? path : null;
  if (typeof value !== "object" || value === null) return null;
  for (const [key, child] of Object.entries(value)) {
    const found = templatedPath(child, [...path, Array.isArray(value) ? Number(key) : key]);
    if (found) return found;
  }
  return null;
}
