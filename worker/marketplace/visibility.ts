/**
 * Who sees a plugin, and its publisher's switch between public and private (any time, without a new
 * version). A plugin is visible to a tenant that published it, to every tenant while it is public, and
 * to a tenant that has an installation of it. The last keeps a plugin its publisher turned private
 * working for those already using it, as npm's deprecation and the VS Code marketplace's unpublishing
 * leave existing installs alone: their installations keep running (runs resolve `uses:` from
 * installations, never from visibility), stay listed, can be tested, changed (settings, and any
 * version that exists) and uninstalled, and the plugin's page and versions stay readable to them (the
 * dashboard reads them to change an installation). A tenant that has none finds the plugin as if it did
 * not exist: not listed, 404 on its page, "no such plugin" when it tries to install it.
 */
import { type Expression, expressionBuilder, type SqlBool } from "kysely";
import { auditIfChanged } from "../db/audit";
import { batch, type Db, db } from "../db/client";
import type { Database } from "../db/schema";
import type { Visibility } from "./registry";

/**
 * Whose eyes the marketplace is seen through: tenants by id (a token: its own), or a person, who sees
 * as every tenant they are a member of (read in the query itself, however many there are).
 */
export type Viewer = { tenantIds: readonly string[] } | { userId: string };

/** The plugins (rows of `plugins`, unaliased) that the viewer's tenants may see. */
export function visibleTo(viewer: Viewer): Expression<SqlBool> {
  const eb = expressionBuilder<Database, "plugins">();
  if ("tenantIds" in viewer && viewer.tenantIds.length === 0) return eb("plugins.visibility", "=", "public");
  const tenants =
    "userId" in viewer
      ? eb
          .selectFrom("memberships")
          .select("memberships.tenant_id")
          .where("memberships.user_id", "=", viewer.userId)
      : [...viewer.tenantIds];
  return eb.or([
    eb("plugins.visibility", "=", "public"),
    eb("plugins.publisher_tenant_id", "in", tenants),
    eb.exists(
      eb
        .selectFrom("installations")
        .select("installations.id")
        .whereRef("installations.plugin", "=", "plugins.name")
        .where("installations.tenant_id", "in", tenants),
    ),
  ]);
}

export type VisibilityChange = {
  /** The publishing tenant: a plugin it did not publish is not found. */
  tenantId: string;
  name: string;
  visibility: Visibility;
  actor: string;
  ip: string | null;
};

/**
 * Sets a plugin's visibility and audits it, in one batch, if it changes. Null when the tenant published
 * no such plugin (first-party plugins are nobody's to change).
 */
export async function setVisibility(
  d1: D1Database,
  change: VisibilityChange,
  now = new Date(),
): Promise<{ changed: boolean } | null> {
  const d = db(d1);
  const row = await d
    .selectFrom("plugins")
    .select("visibility")
    .where("name", "=", change.name)
    .where("publisher_tenant_id", "=", change.tenantId)
    .executeTakeFirst();
  if (!row) return null;
  if (row.visibility === change.visibility) return { changed: false };
  const [updated] = await batch(d1, visibilityStatements(d, change, now));
  return { changed: (updated?.meta.changes ?? 0) > 0 };
}

/**
 * The change and its audit row (only if the change changed the row), for a batch of their own or a
 * publication's (registry.ts), so every change of visibility is audited the same way.
 */
export function visibilityStatements(d: Db, change: VisibilityChange, now: Date) {
  const before: Visibility = change.visibility === "public" ? "private" : "public";
  return [
    d
      .updateTable("plugins")
      .set({ visibility: change.visibility, updated_at: now.toISOString() })
      .where("name", "=", change.name)
      .where("publisher_tenant_id", "=", change.tenantId)
      .where("visibility", "!=", change.visibility),
    auditIfChanged(
      d,
      {
        tenantId: change.tenantId,
        actor: change.actor,
        action: "plugin.visibility",
        target: `${change.name} ${before}→${change.visibility}`,
        ip: change.ip,
      },
      now,
    ),
  ];
}
