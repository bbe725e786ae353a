/**
 * What a tenant's plugins offer, from the manifests the marketplace stored when each version was
 * published (worker/marketplace): does `name/operator@range` exist, and what input does it take? No
 * plugin is asked anything when a spec is saved. Compiled input schemas are kept per isolate by plugin
 * version, since a published version never changes.
 */
import { Validator } from "@cfworker/json-schema";
import type { PublishedManifest } from "@updraft/plugin-sdk/protocol";
import satisfies from "semver/functions/satisfies.js";
import { jsonSchemaProblems } from "../engine/json-schema";
import type { InputSchema } from "./inputs";

/** An operator as the save-time checks need it; `input` is null when its schema cannot be evaluated. */
export type CatalogOperator = { name: string; input: InputSchema | null };
export type CatalogPlugin = { name: string; plugin: string; version: string; operators: readonly string[] };

export type Resolution =
  | { kind: "found"; plugin: CatalogPlugin; operator: CatalogOperator }
  | { kind: "not_installed" }
  | { kind: "mismatch"; plugin: CatalogPlugin; unknownOperator: boolean; unsatisfiedRange: boolean };

/** A plugin as a tenant names it: an installation, or a first-party plugin (marketplace/resolve.ts). */
export type CatalogEntry = { plugin: string; version: string; manifest: PublishedManifest };

/** Compiled input schemas per `plugin@version/operator`, settled values only; bounded. */
const compiled = new Map<string, InputSchema | null>();
const MAX_COMPILED = 2_000;

export class PluginCatalog {
  constructor(private readonly plugins: ReadonlyMap<string, CatalogEntry>) {}

  /** Whether `name/operator@range` can run for this tenant. */
  resolve(name: string, operator: string, range: string): Resolution {
    const entry = this.plugins.get(name);
    if (!entry) return { kind: "not_installed" };
    const plugin = {
      name,
      plugin: entry.plugin,
      version: entry.version,
      operators: entry.manifest.operators.map((o) => o.name),
    };
    const found = entry.manifest.operators.find((o) => o.name === operator);
    const unsatisfiedRange = !satisfies(entry.version, range);
    if (found && !unsatisfiedRange) {
      const key = `${entry.plugin}@${entry.version}/${operator}`;
      let input = compiled.get(key);
      if (input === undefined) {
        input = compile(found.input);
        if (compiled.size >= MAX_COMPILED) compiled.clear();
        compiled.set(key, input);
      }
      return { kind: "found", plugin, operator: { name: operator, input } };
    }
    return { kind: "mismatch", plugin, unknownOperator: !found, unsatisfiedRange };
  }
}

/** A reusable validator for an operator's input schema, or null when the schema itself is broken. */
function compile(schema: Record<string, unknown>): InputSchema | null {
  if (jsonSchemaProblems(schema).length > 0) return null;
  try {
    // Without short-circuit: every failure is reported, so the ones under templates can be told apart.
    return { schema, validator: new Validator(schema, "2020-12", false) };
  } catch {
    return null;
  }
}
