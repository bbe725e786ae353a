/**
 * What `uses: name/operator@range` means for a tenant: its installations by name, and every
 * first-party plugin under its own name at its latest version unless the tenant installed that name
 * itself (to pin `core` to a version, say). Read from D1 when a spec is saved or synced, never on the
 * task path; the pipeline's object gets the bindings (worker/pipeline/plugins.ts).
 */
import { type PublishedManifest, parseDuration } from "@updraft/plugin-sdk/protocol";
import { db } from "../db/client";
import { type PipelineSpec, parseUses } from "../engine";
import type { PluginBinding } from "../pipeline/plugins";
import { publishFirstParty } from "./first-party";

export type Installed = {
  name: string;
  plugin: string;
  version: string;
  manifest: PublishedManifest;
  endpoint: PluginBinding["endpoint"];
  connection: PluginBinding["connection"];
};

/** Every plugin the tenant's pipelines can name, by name. */
export async function tenantPlugins(
  env: Env,
  tenantId: string,
  options: { publishFirstParty?: boolean } = {},
): Promise<Map<string, Installed>> {
  if (options.publishFirstParty !== false)
    await publishFirstParty(env).catch((error) => console.error("first-party plugins not published", error));
  const d = db(env.DB);
  const [firstParty, installed] = await Promise.all([
    d
      .selectFrom("plugins")
      .innerJoin("plugin_versions", (join) =>
        join
          .onRef("plugin_versions.plugin", "=", "plugins.name")
          .onRef("plugin_versions.version", "=", "plugins.latest_version"),
      )
      .select([
        "plugins.name",
        "plugin_versions.version",
        "plugin_versions.base_url",
        "plugin_versions.binding",
      ])
      .where("plugins.publisher_tenant_id", "is", null)
      .execute(),
    d
      .selectFrom("installations")
      .innerJoin("plugin_versions", (join) =>
        join
          .onRef("plugin_versions.plugin", "=", "installations.plugin")
          .onRef("plugin_versions.version", "=", "installations.version"),
      )
      .select([
        "installations.id",
        "installations.name",
        "installations.plugin",
        "installations.version",
        "installations.config",
        "installations.secrets",
        "plugin_versions.base_url",
        "plugin_versions.binding",
      ])
      .where("installations.tenant_id", "=", tenantId)
      .execute(),
  ]);
  const manifests = await manifestsOf(env.DB, [
    ...firstParty.map((row) => ({ plugin: row.name, version: row.version })),
    ...installed,
  ]);
  const out = new Map<string, Installed>();
  for (const row of firstParty) {
    const endpoint = endpointOf(row);
    const manifest = manifests.get(versionKey(row.name, row.version));
    if (endpoint && manifest)
      out.set(row.name, {
        name: row.name,
        plugin: row.name,
        version: row.version,
        manifest,
        endpoint,
        connection: null,
      });
  }
  for (const row of installed) {
    const endpoint = endpointOf(row);
    const manifest = manifests.get(versionKey(row.plugin, row.version));
    if (!endpoint || !manifest) continue;
    out.set(row.name, {
      name: row.name,
      plugin: row.plugin,
      version: row.version,
      manifest,
      endpoint,
      connection: { installation_id: row.id, config: row.config, secrets: row.secrets },
    });
  }
  return out;
}

const versionKey = (plugin: string, version: string) => `${plugin}@${version}`;

/**
 * Parsed manifests, per isolate: versions are immutable, so a manifest read once is good for ever.
 * Bounded by the bytes of their text (oldest out first), since isolates are shared by tenants.
 */
const parsed = new Map<string, { manifest: PublishedManifest; bytes: number }>();
const MAX_CACHED_BYTES = 8 * 1024 * 1024;
let cachedBytes = 0;

/** The manifests of these versions, each read from D1 and parsed once however many names use it. */
async function manifestsOf(
  d1: D1Database,
  versions: ReadonlyArray<{ plugin: string; version: string }>,
): Promise<Map<string, PublishedManifest>> {
  const out = new Map<string, PublishedManifest>();
  const missing = new Map<string, { plugin: string; version: string }>();
  for (const { plugin, version } of versions) {
    const key = versionKey(plugin, version);
    const hit = parsed.get(key);
    if (hit) out.set(key, hit.manifest);
    else missing.set(key, { plugin, version });
  }
  const wanted = [...missing.values()];
  // D1 binds at most 100 parameters: two per version.
  for (let i = 0; i < wanted.length; i += 40) {
    const chunk = wanted.slice(i, i + 40);
    const rows = await db(d1)
      .selectFrom("plugin_versions")
      .select(["plugin", "version", "manifest"])
      .where((eb) =>
        eb.or(chunk.map((v) => eb.and([eb("plugin", "=", v.plugin), eb("version", "=", v.version)]))),
      )
      .execute();
    for (const row of rows) {
      const key = versionKey(row.plugin, row.version);
      const manifest = JSON.parse(row.manifest) as PublishedManifest;
      out.set(key, manifest);
      remember(key, manifest, row.manifest.length);
    }
  }
  return out;
}

function remember(key: string, manifest: PublishedManifest, bytes: number): void {
  if (bytes > MAX_CACHED_BYTES / 4 || parsed.has(key)) return;
  parsed.set(key, { manifest, bytes });
  cachedBytes += bytes;
  for (const [old, entry] of parsed) {
    if (cachedBytes <= MAX_CACHED_BYTES) break;
    parsed.delete(old);
    cachedBytes -= entry.bytes;
  }
}

/** The bindings a spec's runs need: one per name its tasks use that the tenant has. */
export function bindingsFor(spec: PipelineSpec, plugins: ReadonlyMap<string, Installed>): PluginBinding[] {
  const names = new Set(spec.tasks.flatMap((task) => parseUses(task.uses)?.plugin ?? []));
  return [...names].flatMap((name) => {
    const found = plugins.get(name);
    if (!found) return [];
    const operators = Object.fromEntries(
      found.manifest.operators.map((o) => [
        o.name,
        { timeout_ms: parseDuration(o.timeout), context: o.context === true },
      ]),
    );
    return [
      {
        name,
        plugin: found.plugin,
        version: found.version,
        endpoint: found.endpoint,
        operators,
        connection: found.connection,
      },
    ];
  });
}

function endpointOf(row: {
  base_url: string | null;
  binding: string | null;
}): PluginBinding["endpoint"] | null {
  if (row.base_url !== null) return { base_url: row.base_url };
  return row.binding !== null ? { binding: row.binding } : null;
}
