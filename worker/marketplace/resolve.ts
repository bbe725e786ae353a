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
export async function tenantPlugins(env: Env, tenantId: string): Promise<Map<string, Installed>> {
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
        "plugin_versions.manifest",
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
        "plugin_versions.manifest",
        "plugin_versions.base_url",
        "plugin_versions.binding",
      ])
      .where("installations.tenant_id", "=", tenantId)
      .execute(),
  ]);
  const out = new Map<string, Installed>();
  for (const row of firstParty) {
    const endpoint = endpointOf(row);
    if (endpoint)
      out.set(row.name, {
        name: row.name,
        plugin: row.name,
        version: row.version,
        manifest: JSON.parse(row.manifest),
        endpoint,
        connection: null,
      });
  }
  for (const row of installed) {
    const endpoint = endpointOf(row);
    if (!endpoint) continue;
    out.set(row.name, {
      name: row.name,
      plugin: row.plugin,
      version: row.version,
      manifest: JSON.parse(row.manifest),
      endpoint,
      connection: { installation_id: row.id, config: row.config, secrets: row.secrets },
    });
  }
  return out;
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
