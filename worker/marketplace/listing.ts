/**
 * What the marketplace shows a viewer: public plugins, the private ones of the viewer's tenants, and
 * private ones its tenants have installed (visibility.ts). A plugin the viewer may not see is answered
 * exactly as one that does not exist.
 */
import { type SqlBool, sql } from "kysely";
import rcompare from "semver/functions/rcompare.js";
import { db } from "../db/client";
import { type Viewer, visibleTo } from "./visibility";

export type { Viewer } from "./visibility";

export type ListQuery = { q?: string; category?: string; cursor?: string; limit: number };

export type PluginSummary = {
  name: string;
  title: string;
  description: string;
  categories: string[];
  latest_version: string;
  publisher: string;
  visibility: "public" | "private";
};

/** First-party plugins are published by the platform itself. */
export const FIRST_PARTY_PUBLISHER = "updraft";
/** Tenant slugs nobody may take: a tenant "updraft" would look like the platform as a publisher. */
export const RESERVED_SLUGS: ReadonlySet<string> = new Set([FIRST_PARTY_PUBLISHER]);

export async function listPlugins(
  d1: D1Database,
  viewer: Viewer,
  query: ListQuery,
): Promise<{ items: PluginSummary[]; next_cursor: string | null }> {
  let select = summaries(d1, viewer);
  if (query.q) {
    const like = `%${query.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    select = select.where(
      sql<SqlBool>`(plugins.name LIKE ${like} ESCAPE '\\' OR plugins.title LIKE ${like} ESCAPE '\\' OR plugins.description LIKE ${like} ESCAPE '\\')`,
    );
  }
  if (query.category) {
    select = select.where(
      sql<SqlBool>`EXISTS (SELECT 1 FROM json_each(plugins.categories) WHERE json_each.value = ${query.category})`,
    );
  }
  if (query.cursor) select = select.where("plugins.name", ">", query.cursor);
  const rows = await select
    .orderBy("plugins.name")
    .limit(query.limit + 1)
    .execute();
  const items = rows.slice(0, query.limit).map(summaryOf);
  const next = rows.length > query.limit ? (items.at(-1)?.name ?? null) : null;
  return { items, next_cursor: next };
}

/** One plugin's summary, if the viewer may see it. */
export async function pluginSummary(d1: D1Database, viewer: Viewer, name: string) {
  const row = await summaries(d1, viewer).where("plugins.name", "=", name).executeTakeFirst();
  return row ? summaryOf(row) : null;
}

export async function pluginPage(d1: D1Database, viewer: Viewer, name: string) {
  const row = await summaries(d1, viewer).where("plugins.name", "=", name).executeTakeFirst();
  if (!row) return null;
  const versions = await db(d1)
    .selectFrom("plugin_versions")
    .select(["version", "published_at"])
    .where("plugin", "=", name)
    .execute();
  versions.sort((a, b) => rcompare(a.version, b.version));
  const latest = await pluginVersion(d1, viewer, name, row.latest_version);
  return { ...summaryOf(row), versions, manifest: latest?.manifest ?? null };
}

export async function pluginVersion(d1: D1Database, viewer: Viewer, name: string, version: string) {
  const visible = await summaries(d1, viewer).where("plugins.name", "=", name).executeTakeFirst();
  if (!visible) return null;
  const row = await db(d1)
    .selectFrom("plugin_versions")
    .select(["version", "published_at", "manifest"])
    .where("plugin", "=", name)
    .where("version", "=", version)
    .executeTakeFirst();
  return row
    ? { version: row.version, published_at: row.published_at, manifest: JSON.parse(row.manifest) as unknown }
    : null;
}

function summaries(d1: D1Database, viewer: Viewer) {
  return db(d1)
    .selectFrom("plugins")
    .leftJoin("tenants", "tenants.id", "plugins.publisher_tenant_id")
    .select([
      "plugins.name",
      "plugins.title",
      "plugins.description",
      "plugins.categories",
      "plugins.latest_version",
      "plugins.visibility",
      "plugins.publisher_tenant_id",
      "tenants.slug as publisher_slug",
    ])
    .where(visibleTo(viewer));
}

type SummaryRow = {
  name: string;
  title: string;
  description: string;
  categories: string;
  latest_version: string;
  visibility: "public" | "private";
  publisher_tenant_id: string | null;
  publisher_slug: string | null;
};

function summaryOf(row: SummaryRow): PluginSummary {
  return {
    name: row.name,
    title: row.title,
    description: row.description,
    categories: JSON.parse(row.categories) as string[],
    latest_version: row.latest_version,
    publisher: row.publisher_tenant_id === null ? FIRST_PARTY_PUBLISHER : (row.publisher_slug ?? "unknown"),
    visibility: row.visibility,
  };
}
