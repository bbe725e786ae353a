/**
 * The marketplace's records in D1 (migration 0014). A plugin name belongs to the tenant that first
 * published it (first-party plugins to the platform); a version, once published, never changes: the
 * same manifest again is a no-op, a different one a conflict. What a viewer sees is every public
 * plugin and the private ones of its own tenants.
 */
import type { PublishedManifest } from "@updraft/plugin-sdk/protocol";
import { sql } from "kysely";
import prerelease from "semver/functions/prerelease.js";
import rcompare from "semver/functions/rcompare.js";
import { sha256Hex } from "../crypto/random";
import { auditIfChanged } from "../db/audit";
import { batch, db } from "../db/client";
import { visibilityStatements } from "./visibility";

/**
 * What one publisher may store: versions per plugin, plugins per tenant, and manifest bytes over all
 * its versions (a manifest itself is at most MAX_PUBLISHED_MANIFEST_BYTES, manifest-reader.ts).
 */
export const MAX_VERSIONS_PER_PLUGIN = 50;
export const MAX_PLUGINS_PER_TENANT = 20;
export const MAX_MANIFEST_BYTES_PER_TENANT = 8 * 1024 * 1024;

export type Visibility = "public" | "private";
/** Where a version's operators are called: a published base URL, or a first-party service binding. */
export type Endpoint = { base_url: string; binding?: undefined } | { binding: string; base_url?: undefined };

export type Publication = {
  manifest: PublishedManifest;
  endpoint: Endpoint;
  /** The publishing tenant, or null for a first-party plugin. */
  publisher: string | null;
  actor: string;
  /** Applied to the plugin; a first publication without one is private. */
  visibility?: Visibility;
  /** The new version's audit entry, written in its transaction only if the version was inserted. */
  audit?: { tenantId: string; ip: string | null };
};

export type PublishOutcome =
  | { kind: "published" | "unchanged"; name: string; version: string }
  | { kind: "conflict"; detail: string }
  | { kind: "limit"; detail: string };

export async function publish(d1: D1Database, p: Publication, now = new Date()): Promise<PublishOutcome> {
  const d = db(d1);
  const { manifest } = p;
  const text = JSON.stringify(manifest);
  const digest = await sha256Hex(text);
  const owner = await d
    .selectFrom("plugins")
    .select(["publisher_tenant_id", "visibility"])
    .where("name", "=", manifest.name)
    .executeTakeFirst();
  if (owner && owner.publisher_tenant_id !== p.publisher)
    return { kind: "conflict", detail: `The plugin name "${manifest.name}" belongs to another publisher.` };
  const existing = await digestOf(d1, manifest.name, manifest.version);
  if (existing !== undefined) {
    if (existing === digest) {
      // Repairs a latest_version left stale by a refresh that failed after an earlier publication.
      await refreshLatest(d1, manifest.name, now.toISOString());
      return { kind: "unchanged", name: manifest.name, version: manifest.version };
    }
    return {
      kind: "conflict",
      detail: `Version ${manifest.version} of "${manifest.name}" is already published with a different manifest; versions are immutable, so publish a new version.`,
    };
  }
  const bytes = new TextEncoder().encode(text).length;
  const limit = await overLimit(d1, manifest.name, p.publisher, owner !== undefined, bytes);
  if (limit) return { kind: "limit", detail: limit };
  const at = now.toISOString();
  const visibility = p.visibility ?? owner?.visibility ?? "private";
  // A publication that changes an existing plugin's visibility is audited as that change (visibility.ts).
  const turned =
    owner && p.audit && p.publisher !== null && visibility !== owner.visibility
      ? visibilityStatements(
          d,
          { tenantId: p.publisher, name: manifest.name, visibility, actor: p.actor, ip: p.audit.ip },
          now,
        )
      : [];
  // One transaction; the plugin row is claimed only if nobody else did meanwhile, and the version is
  // written only under a plugin row of this publisher.
  await batch(d1, [
    ...turned,
    d
      .insertInto("plugins")
      .values({
        name: manifest.name,
        publisher_tenant_id: p.publisher,
        visibility,
        title: manifest.title,
        description: manifest.description,
        categories: JSON.stringify(manifest.categories),
        latest_version: manifest.version,
        created_at: at,
        updated_at: at,
      })
      .onConflict((oc) =>
        oc.column("name").doUpdateSet({ visibility, updated_at: at }).where(samePublisher(p.publisher)),
      ),
    d
      .insertInto("plugin_versions")
      .columns([
        "plugin",
        "version",
        "manifest",
        "digest",
        "base_url",
        "binding",
        "published_at",
        "published_by",
      ])
      .expression(
        d
          .selectFrom("plugins")
          .select([
            "name",
            sql<string>`${manifest.version}`.as("version"),
            sql<string>`${text}`.as("manifest"),
            sql<string>`${digest}`.as("digest"),
            sql<string | null>`${p.endpoint.base_url ?? null}`.as("base_url"),
            sql<string | null>`${p.endpoint.binding ?? null}`.as("binding"),
            sql<string>`${at}`.as("published_at"),
            sql<string>`${p.actor}`.as("published_by"),
          ])
          .where("name", "=", manifest.name)
          .where(samePublisher(p.publisher)),
      )
      .onConflict((oc) => oc.doNothing()),
    ...(p.audit
      ? [
          auditIfChanged(
            d,
            {
              tenantId: p.audit.tenantId,
              actor: p.actor,
              action: "plugin.published",
              target: `${manifest.name}@${manifest.version}`,
              ip: p.audit.ip,
            },
            now,
          ),
        ]
      : []),
  ]);
  const stored = await d
    .selectFrom("plugin_versions")
    .innerJoin("plugins", "plugins.name", "plugin_versions.plugin")
    .select(["plugin_versions.digest", "plugins.publisher_tenant_id"])
    .where("plugin_versions.plugin", "=", manifest.name)
    .where("plugin_versions.version", "=", manifest.version)
    .executeTakeFirst();
  if (stored?.digest !== digest || stored.publisher_tenant_id !== p.publisher) {
    return {
      kind: "conflict",
      detail: `"${manifest.name}" ${manifest.version} was published by someone else meanwhile.`,
    };
  }
  await refreshLatest(d1, manifest.name, at);
  return { kind: "published", name: manifest.name, version: manifest.version };
}

async function digestOf(d1: D1Database, name: string, version: string): Promise<string | undefined> {
  const row = await db(d1)
    .selectFrom("plugin_versions")
    .select("digest")
    .where("plugin", "=", name)
    .where("version", "=", version)
    .executeTakeFirst();
  return row?.digest;
}

/** The plugin row shows its latest version: the highest release, or the highest prerelease if none. */
async function refreshLatest(d1: D1Database, name: string, at: string): Promise<void> {
  const d = db(d1);
  const versions = await d
    .selectFrom("plugin_versions")
    .select("version")
    .where("plugin", "=", name)
    .execute();
  const latest = latestOf(versions.map((r) => r.version));
  if (latest === undefined) return;
  const row = await d
    .selectFrom("plugin_versions")
    .select("manifest")
    .where("plugin", "=", name)
    .where("version", "=", latest)
    .executeTakeFirst();
  if (!row) return;
  const manifest = JSON.parse(row.manifest) as PublishedManifest;
  await d
    .updateTable("plugins")
    .set({
      latest_version: latest,
      title: manifest.title,
      description: manifest.description,
      categories: JSON.stringify(manifest.categories),
      updated_at: at,
    })
    .where("name", "=", name)
    // Versions are immutable: the row is right whenever it names the latest one already.
    .where((eb) => eb.or([eb("latest_version", "is", null), eb("latest_version", "!=", latest)]))
    .execute();
}

/** Plugins a tenant published that another tenant has installed (deleting the tenant would break them). */
export async function pluginsInstalledElsewhere(d1: D1Database, tenantId: string): Promise<string[]> {
  const rows = await db(d1)
    .selectFrom("installations")
    .innerJoin("plugins", "plugins.name", "installations.plugin")
    .select("plugins.name")
    .distinct()
    .where("plugins.publisher_tenant_id", "=", tenantId)
    .where("installations.tenant_id", "!=", tenantId)
    .orderBy("plugins.name")
    .limit(10)
    .execute();
  return rows.map((r) => r.name);
}

export function latestOf(versions: readonly string[]): string | undefined {
  const sorted = [...versions].sort(rcompare);
  return sorted.find((v) => prerelease(v) === null) ?? sorted[0];
}

async function overLimit(
  d1: D1Database,
  name: string,
  publisher: string | null,
  exists: boolean,
  bytes: number,
): Promise<string | null> {
  const d = db(d1);
  if (exists) {
    const { n } = await d
      .selectFrom("plugin_versions")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("plugin", "=", name)
      .executeTakeFirstOrThrow();
    if (n >= MAX_VERSIONS_PER_PLUGIN)
      return `"${name}" has ${MAX_VERSIONS_PER_PLUGIN} versions, the most a plugin may have.`;
  }
  if (publisher === null) return null;
  const usage = await d
    .selectFrom("plugins")
    .leftJoin("plugin_versions", "plugin_versions.plugin", "plugins.name")
    .select([
      sql<number>`COUNT(DISTINCT plugins.name)`.as("plugins"),
      sql<number>`COALESCE(SUM(LENGTH(CAST(plugin_versions.manifest AS BLOB))), 0)`.as("bytes"),
    ])
    .where("plugins.publisher_tenant_id", "=", publisher)
    .executeTakeFirstOrThrow();
  if (!exists && usage.plugins >= MAX_PLUGINS_PER_TENANT)
    return `A tenant may publish at most ${MAX_PLUGINS_PER_TENANT} plugins.`;
  if (usage.bytes + bytes > MAX_MANIFEST_BYTES_PER_TENANT)
    return `A tenant's published manifests may take at most ${MAX_MANIFEST_BYTES_PER_TENANT / 1024 / 1024} MiB.`;
  return null;
}

function samePublisher(publisher: string | null) {
  return sql<boolean>`plugins.publisher_tenant_id IS ${publisher}`;
}
