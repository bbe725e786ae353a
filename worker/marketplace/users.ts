/**
 * The pipelines that use an installation: those whose latest version has a task with
 * `uses: {name}/…`. Uninstalling waits for them, a change re-syncs them, and an upgrade must still fit
 * what they ask for.
 */
import type { PublishedManifest } from "@updraft/plugin-sdk/protocol";
import { sql } from "kysely";
import { db } from "../db/client";
import { revisionBump } from "../db/pipelines";
import { parseUses, storedSpec } from "../engine";
import { PluginCatalog } from "../plugins/catalog";
import { checkOperators } from "../plugins/check";
import { formatPath } from "../problem";

/** Up to 20, by slug. */
export async function pipelinesUsing(
  d1: D1Database,
  tenantId: string,
  name: string,
): Promise<Array<{ id: string; slug: string }>> {
  return db(d1)
    .selectFrom("pipelines")
    .select(["pipelines.id", "pipelines.slug"])
    .where("pipelines.tenant_id", "=", tenantId)
    .where(latestVersionUses(name))
    .orderBy("pipelines.slug")
    .limit(20)
    .execute();
}

/**
 * The revision bump of every pipeline whose latest version uses the installation `name`: its object
 * must be told the installation's new version or settings (the cron re-syncs those a request did not).
 */
export function bumpUsers(d1: D1Database, tenantId: string, name: string) {
  return db(d1)
    .updateTable("pipelines")
    .set((eb) => revisionBump(eb, Date.now()))
    .where("tenant_id", "=", tenantId)
    .where(latestVersionUses(name));
}

/** True while no pipeline of the tenant uses `name`: the condition an uninstall is written under. */
export function nobodyUses(tenantId: string, name: string) {
  return sql<boolean>`NOT EXISTS (
    SELECT 1 FROM pipelines WHERE pipelines.tenant_id = ${tenantId} AND ${latestVersionUses(name)})`;
}

function latestVersionUses(name: string) {
  return sql<boolean>`EXISTS (
    SELECT 1 FROM pipeline_versions v, json_each(v.spec, '$.tasks') t
    WHERE v.pipeline_id = pipelines.id AND v.version = pipelines.latest_version
      AND substr(json_extract(t.value, '$.uses'), 1, ${name.length + 1}) = ${`${name}/`})`;
}

/**
 * What would stop working if the installation `name` ran `target` instead: each pipeline whose latest
 * version has a task naming `name` whose range, operator or literal input the target does not
 * satisfy, as "slug: tasks[i].uses: why" (the save-time checks, against the target alone).
 */
export async function usesBrokenBy(
  d1: D1Database,
  tenantId: string,
  name: string,
  target: { plugin: string; version: string; manifest: PublishedManifest },
): Promise<string[]> {
  const users = await db(d1)
    .selectFrom("pipelines")
    .innerJoin("pipeline_versions", (join) =>
      join
        .onRef("pipeline_versions.pipeline_id", "=", "pipelines.id")
        .onRef("pipeline_versions.version", "=", "pipelines.latest_version"),
    )
    .select(["pipelines.slug", "pipeline_versions.spec"])
    .where("pipelines.tenant_id", "=", tenantId)
    .where(latestVersionUses(name))
    .orderBy("pipelines.slug")
    .limit(20)
    .execute();
  const catalog = new PluginCatalog(new Map([[name, target]]));
  return users.flatMap(({ slug, spec: text }) => {
    const spec = storedSpec(text);
    return checkOperators(spec, catalog)
      .filter((issue) => {
        const task = typeof issue.path[1] === "number" ? spec.tasks[issue.path[1]] : undefined;
        return task !== undefined && parseUses(task.uses)?.plugin === name;
      })
      .slice(0, 3)
      .map((issue) => `${slug}: ${formatPath(issue.path)}: ${issue.message}`);
  });
}
