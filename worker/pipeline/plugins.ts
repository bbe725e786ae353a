/**
 * The plugins a pipeline's runs call, as the object holds them (DESIGN.md §5: no D1 on the task path).
 * The API resolves the latest version's `uses` against the tenant's installations and tells the object
 * with every sync: per name that `uses` names, the plugin version, where it is called (a first-party
 * service binding or a published base URL), its operators' timeouts and context flags, and the
 * installation's sealed connection settings. A run pins the bindings its spec names when it is
 * created, so upgrading an installation mid-run changes nothing for runs already started.
 */

import { privateNetworkAllowed, refusalFor } from "@updraft/plugin-sdk/network";
import { installationContext, TenantVault } from "../crypto/envelope";
import { type PipelineSpec, parseUses } from "../engine";
import {
  firstPartyBinding,
  httpsTransport,
  type PluginTransport,
  serviceTransport,
} from "../runner/transport";

export type PluginEndpoint = { base_url: string } | { binding: string };
export type PluginBinding = {
  /** What `uses` names: an installation's name, or a first-party plugin nobody installed. */
  name: string;
  plugin: string;
  version: string;
  endpoint: PluginEndpoint;
  operators: Record<string, { timeout_ms: number | null; context: boolean }>;
  /** The installation's settings (plain JSON, sealed secrets), or null for none. */
  connection: { installation_id: string; config: string; secrets: string | null } | null;
};

/**
 * For an object that has not been synced since plugins were resolved per tenant (pipelines saved
 * before): `core` through its service binding, as every tenant had it then, with the operators'
 * metadata its manifest declares (test/worker/core-manifest.test.ts keeps the two in step). The next
 * save, pause or installation change tells the object its real bindings.
 */
export const LEGACY_CORE: PluginBinding = {
  name: "core",
  plugin: "core",
  version: "1.1.0",
  endpoint: { binding: "PLUGIN_CORE" },
  operators: {
    http: { timeout_ms: 60_000, context: false },
    "http-sensor": { timeout_ms: 60_000, context: false },
    transform: { timeout_ms: 10_000, context: true },
    noop: { timeout_ms: 10_000, context: false },
    sleep: { timeout_ms: 10_000, context: false },
    fail: { timeout_ms: 10_000, context: false },
  },
  connection: null,
};

/** Where a run's pinned plugin bindings are kept (a blob of the run). */
export function pinsRef(run: string): string {
  return `plugins:${run}`;
}

/** The bindings the object was last told, stored in its `meta` table. */
export class PluginTable {
  private cached: { bindings: Map<string, PluginBinding>; dataKey: string } | null | undefined;

  constructor(private readonly sql: SqlStorage) {}

  set(bindings: readonly PluginBinding[], dataKey: string): void {
    const value = JSON.stringify({ bindings, data_key: dataKey });
    this.sql.exec(
      "INSERT INTO meta (key, value) VALUES ('plugins', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      value,
    );
    this.cached = undefined;
  }

  /** By name; null when the object was never told (LEGACY_CORE then stands in). */
  all(): Map<string, PluginBinding> | null {
    return this.read()?.bindings ?? null;
  }

  dataKey(): string | null {
    return this.read()?.dataKey ?? null;
  }

  /** The stored row, parsed once until the next `set`: dispatch asks for it on every call. */
  private read(): { bindings: Map<string, PluginBinding>; dataKey: string } | null {
    if (this.cached !== undefined) return this.cached;
    const row = this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'plugins'").toArray()[0];
    const stored = row ? (JSON.parse(row.value) as { bindings: PluginBinding[]; data_key: string }) : null;
    this.cached = stored
      ? { bindings: new Map(stored.bindings.map((b) => [b.name, b])), dataKey: stored.data_key }
      : null;
    return this.cached;
  }

  /** What a new run of `spec` pins: the bindings of the names its tasks use (those that exist). */
  pinFor(spec: PipelineSpec): PluginBinding[] {
    const known = this.all() ?? new Map([["core", LEGACY_CORE]]);
    const names = new Set(spec.tasks.flatMap((task) => parseUses(task.uses)?.plugin ?? []));
    return [...names].flatMap((name) => known.get(name) ?? []);
  }

  /** An operator's declared timeout and context flag under the current bindings (for compiling plans). */
  operator(name: string, operator: string): { timeout_ms: number | null; context: boolean } | undefined {
    const known = this.all() ?? new Map([["core", LEGACY_CORE]]);
    return known.get(name)?.operators[operator];
  }
}

/** How a pinned binding is reached; a reason instead when it cannot be (a non-retryable task error). */
export function transportFor(
  env: Env,
  binding: Pick<PluginBinding, "plugin" | "endpoint">,
): PluginTransport | string {
  const { endpoint } = binding;
  if ("binding" in endpoint) {
    const fetcher = firstPartyBinding(env, endpoint.binding);
    if (!fetcher) return `plugin ${binding.plugin} is not deployed with this platform (${endpoint.binding})`;
    return serviceTransport(binding.plugin, fetcher);
  }
  const url = new URL(endpoint.base_url);
  if (!privateNetworkAllowed(env)) {
    const refusal = url.protocol === "https:" ? refusalFor(url) : "plugins are called over https";
    if (refusal) return `plugin ${binding.plugin} cannot be called at ${url.origin}: ${refusal}`;
  }
  return httpsTransport(endpoint.base_url);
}

/** The connection settings an invocation carries, secrets opened (and listed, to be redacted). */
export async function openConnection(
  env: Env,
  tenantId: string,
  dataKey: string | null,
  binding: PluginBinding,
): Promise<{ connection: Record<string, unknown> | null; secrets: string[] }> {
  const sealed = binding.connection;
  if (!sealed) return { connection: null, secrets: [] };
  const plain = JSON.parse(sealed.config) as Record<string, unknown>;
  if (sealed.secrets === null || dataKey === null) return { connection: plain, secrets: [] };
  const vault = await TenantVault.open(env.MASTER_KEY, tenantId, dataKey);
  const opened = JSON.parse(
    await vault.decrypt(sealed.secrets, installationContext(tenantId, sealed.installation_id)),
  ) as Record<string, unknown>;
  const secrets = Object.values(opened).flatMap((v) => (typeof v === "string" && v.length > 0 ? [v] : []));
  return { connection: { ...plain, ...opened }, secrets };
}
