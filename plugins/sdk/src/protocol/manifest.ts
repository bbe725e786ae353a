/**
 * The manifest of `GET {base}/manifest` (PROTOCOL.md §1). `Manifest` is what the platform needs to
 * run operators and is all the runner reads; `PublishedManifest` adds the catalog metadata an SDK
 * publishes and the marketplace lists. Both are plain `z.object`: fields a reader does not know are
 * dropped rather than refused, so a plugin built with a newer SDK does not look broken to an older
 * platform.
 */
import { z } from "zod";

/** Plugin and operator names, as written in `uses: plugin/operator@range`. */
export const NAME_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;

/** Manifests larger than this are not read; no honest catalog comes near it. */
export const MAX_MANIFEST_BYTES = 1024 * 1024;

const Name = z.string().regex(NAME_PATTERN);

/** A JSON Schema (2020-12) document; its structure is checked where it is compiled, not here. */
export const JsonSchema = z.record(z.string(), z.unknown());
export type JsonSchema = z.output<typeof JsonSchema>;

/** `action` does something once; `sensor` waits for a condition, answering `waiting` until it holds. */
export const OperatorKind = z.enum(["action", "sensor"]);
export type OperatorKind = z.output<typeof OperatorKind>;

/** An operator as the platform runs it. */
export const OperatorManifest = z.object({
  name: Name,
  kind: OperatorKind,
  // Structure is checked when the catalog compiles it: one broken schema must not hide the operators.
  input: JsonSchema,
  output: JsonSchema,
  /** The default timeout, a duration string (`30s`, `1h30m`). */
  timeout: z.string().max(64),
  /** Extension: the operator receives the invocation's `context`. Absent, never `false`. */
  context: z.literal(true).optional(),
});
export type OperatorManifest = z.output<typeof OperatorManifest>;

function operatorList<T extends z.ZodType<{ name: string }>>(operator: T) {
  return z
    .array(operator)
    .max(500)
    .superRefine((operators, ctx) => {
      const names = operators.map((o) => o.name);
      const repeated = names.find((name, i) => names.indexOf(name) !== i);
      if (repeated) ctx.addIssue({ code: "custom", message: `operator "${repeated}" is listed twice` });
    });
}

/** What the runner reads: the plugin's identity and its operators. Readers check `version` is semver. */
export const Manifest = z.object({
  protocol: z.literal(1),
  name: Name,
  version: z.string(),
  operators: operatorList(OperatorManifest),
});
export type Manifest = z.output<typeof Manifest>;

/** An operator entry with its catalog description. */
export const PublishedOperator = OperatorManifest.extend({ description: z.string() });
export type PublishedOperator = z.output<typeof PublishedOperator>;

/** The whole manifest an SDK publishes: the runner's fields plus catalog metadata. */
export const PublishedManifest = Manifest.extend({
  title: z.string(),
  description: z.string(),
  categories: z.array(z.string()),
  /** An https or data: URL. */
  icon: z.string().nullable(),
  homepage: z.string().nullable(),
  /** Installation settings; secret fields carry `"writeOnly": true`. */
  connection: JsonSchema,
  operators: operatorList(PublishedOperator),
});
export type PublishedManifest = z.output<typeof PublishedManifest>;
