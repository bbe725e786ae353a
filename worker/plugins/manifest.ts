/**
 * A plugin's manifest (`GET {base}/manifest`, plugins/sdk/PROTOCOL.md §1) as the platform reads it:
 * the protocol module's `Manifest` (identity and operators; catalog metadata is left to the
 * marketplace), with the version checked by the same semver rules that resolve `@range` later.
 */
import { Manifest as ManifestShape } from "@updraft/plugin-sdk/protocol";
import validVersion from "semver/functions/valid.js";
import type { z } from "zod";

export const Manifest = ManifestShape.extend({
  version: ManifestShape.shape.version.refine(
    (v) => validVersion(v) !== null,
    "version must be semver, e.g. 1.2.0",
  ),
});
export type Manifest = z.output<typeof Manifest>;
