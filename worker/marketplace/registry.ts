/**
 * The marketplace's records in D1 (migration 0014). A plugin name belongs to the tenant that first
 * published it (first-party plugins to the platform); a version, once published, never changes: the
 * same manifest again is a no-op, a different one a conflict. What a viewer sees is every public
 * plugin and the private ones of its own tenants.
 */
import type { PublishedManifest } from "@updraft/plugin-sdk/protocol";
import { type Compilable, sql } from "kysely";
import prerelease from "semver/functions/prerelease.js";
import rcompare from "semver/functions/rcompare.js";
import { sha256Hex } from "../crypto/random";
import { batch, db } from "../db/client";

/** Versions one plugin may have, and plugins one tenant may publish: a publisher cannot flood D1. */
export const MAX_VERSIONS_PER_PLUGIN = 200;
export const MAX_PLUGINS_PER_TENANT = 50;

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
  /** Written in the same transaction as a new version (its audit entry). */
  alsoWrite?: ReadonlyArray<Compilable>;
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
    if (existing === digest) return { kind: "unchanged", name: manifest.name, version: manifest.version };
    return {
      kind: "conflict",
      detail: `Version ${manifest.version} of "${manifest.name}" is already published with a different manifest; versions are immutable, so publish a new version.`,
    };
  }
  const limit = await overLimit(d1, manifest.name, p.publisher, owner !== undefined);
  if (limit) return { kind: "limit", detail: limit };
  const at = now.toISOString();
  const visibility = p.visibility ?? owner?.visibility ?? "private";
  // One transaction; the plugin row is claimed only if nobody else did meanwhile, and the version is
  // written only under a plugin row of this publisher.
  await batch(d1, [
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
            sql.lit(manifest.version).as("version"),
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
    ...(p.alsoWrite ?? []),
  ]);
  if ((await digestOf(d1, manifest.name, manifest.version)) !== digest) {
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
  const rows = await d
    .selectFrom("plugin_versions")
    .select(["version", "manifest"])
    .where("plugin", "=", name)
    .execute();
  const latest = latestOf(rows.map((r) => r.version));
  const row = rows.find((r) => r.version === latest);
  if (!row) return;
  const manifest = JSON.parse(row.manifest) as PublishedManifest;
  await d
    .updateTable("plugins")
    .set({
      latest_version: row.version,
      title: manifest.title,
      description: manifest.description,
      categories: JSON.stringify(manifest.categories),
      updated_at: at,
    })
    .where("name", "=", name)
    .execute();
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
    return null;
  }
  if (publisher === null) return null;
  const { n } = await d
    .selectFrom("plugins")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("publisher_tenant_id", "=", publisher)
    .executeTakeFirstOrThrow();
  return n >= MAX_PLUGINS_PER_TENANT
    ? `A tenant may publish at most ${MAX_PLUGINS_PER_TENANT} plugins.`
    : null;
}

function samePublisher(publisher: string | null) {
  return sql<boolean>`plugins.publisher_tenant_id IS ${publisher}`;
}
