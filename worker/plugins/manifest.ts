/**
 * A plugin's manifest (`GET {base}/manifest`, plugins/sdk/PROTOCOL.md §1) as the platform reads it.
 * It crosses a trust boundary, so it is parsed with zod. The plugin's identity and its operators are
 * checked; catalog metadata (title, icon, categories…) is left to the marketplace. Fields the platform
 * does not know are dropped rather than refused (plain `z.object`, not strict): the protocol grows by
 * extensions, and a plugin built with a newer SDK must not look broken to an older platform.
 */
import validVersion from "semver/functions/valid.js";
import { z } from "zod";

const Name = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/);
const JsonSchema = z.record(z.string(), z.unknown());

export const OperatorManifest = z.object({
  name: Name,
  kind: z.enum(["action", "sensor"]),
  // Structure is checked when the catalog compiles it: one broken schema must not hide the operators.
  input: JsonSchema,
  output: JsonSchema,
  timeout: z.string().max(64),
  context: z.literal(true).optional(),
});
export type OperatorManifest = z.infer<typeof OperatorManifest>;

export const Manifest = z.object({
  protocol: z.literal(1),
  name: Name,
  version: z.string().refine((v) => validVersion(v) !== null, "version must be semver, e.g. 1.2.0"),
  operators: z
    .array(OperatorManifest)
    .max(500)
    .superRefine((operators, ctx) => {
      const names = operators.map((o) => o.name);
      const repeated = names.find((name, i) => names.indexOf(name) !== i);
      if (repeated) ctx.addIssue({ code: "custom", message: `operator "${repeated}" is listed twice` });
    }),
});
export type Manifest = z.infer<typeof Manifest>;

/** Manifests larger than this are not read; no honest catalog comes near it. */
export const MAX_MANIFEST_BYTES = 1024 * 1024;
