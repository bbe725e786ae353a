/**
 * What the installed plugins offer, read from their manifests: does `plugin/operator@range` exist, and
 * what input does it take? Manifests are cached per isolate for a minute, so saving or live-validating
 * a spec does not cost a round trip to every plugin each time.
 */
import { Validator } from "@cfworker/json-schema";
import { MAX_MANIFEST_BYTES } from "@updraft/plugin-sdk/protocol";
import satisfies from "semver/functions/satisfies.js";
import { jsonSchemaProblems } from "../engine/json-schema";
import { type PluginTransport, serviceTransport } from "../runner/transport";
import type { InputSchema } from "./inputs";
import { Manifest } from "./manifest";

/** An operator as the save-time checks need it; `input` is null when its schema cannot be evaluated. */
export type CatalogOperator = { name: string; input: InputSchema | null };
export type CatalogPlugin = {
  name: string;
  version: string;
  operators: ReadonlyMap<string, CatalogOperator>;
};

export type Resolution =
  | { kind: "found"; plugin: CatalogPlugin; operator: CatalogOperator }
  | { kind: "not_installed" }
  /** Installed, but its manifest could not be read: nothing can be said about the task. */
  | { kind: "unavailable"; reason: string }
  | { kind: "mismatch"; plugin: CatalogPlugin; unknownOperator: boolean; unsatisfiedRange: boolean };

type Loaded = { ok: true; plugin: CatalogPlugin } | { ok: false; reason: string };
type Cached = { loaded: Loaded; until: number };

/** Fresh manifests are kept this long; a plugin that could not be read is asked again sooner. */
export const MANIFEST_TTL_MS = 60_000;
const FAILURE_TTL_MS = 5_000;
/** A save waits at most this long for a manifest before it goes ahead without the plugin checks. */
const MANIFEST_TIMEOUT_MS = 3_000;

/**
 * The plugins a tenant can use, by name. Today every tenant has exactly the first-party `core`
 * plugin, reached through its service binding; the marketplace's installations will join it here.
 */
export function installedPlugins(env: Env): ReadonlyMap<string, PluginTransport> {
  return new Map([["core", serviceTransport("core", env.PLUGIN_CORE)]]);
}

/**
 * Settled manifests per plugin name, shared by the requests an isolate serves. Only settled values are
 * kept, never a pending fetch: a promise started by one request must not be awaited by another.
 */
export class ManifestCache {
  private readonly entries = new Map<string, Cached>();

  constructor(private readonly now: () => number = Date.now) {}

  get(name: string): Loaded | undefined {
    const entry = this.entries.get(name);
    if (entry && entry.until > this.now()) return entry.loaded;
    this.entries.delete(name);
    return undefined;
  }

  set(name: string, loaded: Loaded): void {
    this.entries.set(name, { loaded, until: this.now() + (loaded.ok ? MANIFEST_TTL_MS : FAILURE_TTL_MS) });
  }
}

const shared = new ManifestCache();

export class PluginCatalog {
  private readonly loaded = new Map<string, Loaded>();

  constructor(
    private readonly plugins: ReadonlyMap<string, PluginTransport>,
    private readonly cache: ManifestCache = shared,
  ) {}

  /** Reads the manifests of these plugins (cached, in parallel) so `resolve` can answer without I/O. */
  async load(names: Iterable<string>): Promise<void> {
    const wanted = [...new Set(names)].filter((name) => this.plugins.has(name) && !this.loaded.has(name));
    await Promise.all(
      wanted.map(async (name) => {
        const transport = this.plugins.get(name);
        let loaded = this.cache.get(name);
        if (!loaded && transport) {
          loaded = await fetchManifest(name, transport);
          this.cache.set(name, loaded);
        }
        if (loaded) this.loaded.set(name, loaded);
      }),
    );
  }

  /** Plugins whose manifest could not be read, with the reason, once `load` has run. */
  unavailable(): Array<{ plugin: string; reason: string }> {
    return [...this.loaded].flatMap(([plugin, l]) => (l.ok ? [] : [{ plugin, reason: l.reason }]));
  }

  /** Whether `plugin/operator@range` can run here; call `load` with the plugin first. */
  resolve(plugin: string, operator: string, range: string): Resolution {
    if (!this.plugins.has(plugin)) return { kind: "not_installed" };
    const loaded = this.loaded.get(plugin);
    if (!loaded) return { kind: "unavailable", reason: "its manifest was not loaded" };
    if (!loaded.ok) return { kind: "unavailable", reason: loaded.reason };
    const found = loaded.plugin.operators.get(operator);
    const unsatisfiedRange = !satisfies(loaded.plugin.version, range);
    if (found && !unsatisfiedRange) return { kind: "found", plugin: loaded.plugin, operator: found };
    return { kind: "mismatch", plugin: loaded.plugin, unknownOperator: !found, unsatisfiedRange };
  }
}

async function fetchManifest(name: string, transport: PluginTransport): Promise<Loaded> {
  let text: string;
  try {
    const response = await transport.fetch("/manifest", {
      method: "GET",
      headers: { accept: "application/json" },
      signal: AbortSignal.timeout(MANIFEST_TIMEOUT_MS),
    });
    if (!response.ok) {
      await response.body?.cancel();
      return { ok: false, reason: `${transport.label} answered ${response.status} for its manifest` };
    }
    const declared = Number(response.headers.get("content-length") ?? "0");
    if (declared > MAX_MANIFEST_BYTES) {
      await response.body?.cancel();
      return { ok: false, reason: `${transport.label}'s manifest is too large` };
    }
    text = await response.text();
  } catch (error) {
    return { ok: false, reason: `${transport.label} could not be reached: ${messageOf(error)}` };
  }
  if (text.length > MAX_MANIFEST_BYTES)
    return { ok: false, reason: `${transport.label}'s manifest is too large` };
  let parsed: ReturnType<typeof Manifest.safeParse>;
  try {
    parsed = Manifest.safeParse(JSON.parse(text));
  } catch {
    return { ok: false, reason: `${transport.label}'s manifest is not JSON` };
  }
  if (!parsed.success) {
    const [issue] = parsed.error.issues;
    const where = issue?.path.length ? ` at ${issue.path.join(".")}` : "";
    return { ok: false, reason: `${transport.label}'s manifest is not valid${where}: ${issue?.message}` };
  }
  const manifest = parsed.data;
  if (manifest.name !== name) {
    return {
      ok: false,
      reason: `${transport.label} serves the manifest of "${manifest.name}", not "${name}"`,
    };
  }
  const operators = new Map(
    manifest.operators.map((o) => [o.name, { name: o.name, input: compile(o.input) }]),
  );
  return { ok: true, plugin: { name, version: manifest.version, operators } };
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

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
