/**
 * A tenant's installations (migration 0015): which plugin version it runs under which name, and the
 * connection settings it runs with, secrets sealed under the tenant's data key. Every change is
 * checked against the connection schema of the version it will run, before anything is written.
 */
import { NAME_PATTERN, type PublishedManifest } from "@updraft/plugin-sdk/protocol";
import { installationContext, TenantVault } from "../crypto/envelope";
import { newId } from "../crypto/random";
import { auditIfChanged } from "../db/audit";
import { batch, db } from "../db/client";
import type { InstallationsTable } from "../db/schema";
import type { FieldError } from "../problem";
import { masked, mergeSettings, secretFieldsOf, settingsProblems, splitSettings } from "./connection";
import { publishFirstParty } from "./first-party";
import { bumpUsers, nobodyUses, pipelinesUsing, usesBrokenBy } from "./users";
import { visibleTo } from "./visibility";

/** Installations one tenant may have. */
export const MAX_INSTALLATIONS = 100;

export type InstallationTenant = { id: string; dataKey: string };
/** Who makes a change, for its audit row (written in the same batch as the change). */
export type Actor = { actor: string; ip: string | null };
export type InstallationView = {
  id: string;
  name: string;
  plugin: string;
  version: string;
  config: Record<string, unknown>;
  created_at: string;
  updated_at: string;
};
/** A version as an installation needs it: its manifest and where it is called. */
export type VersionRow = { manifest: PublishedManifest; base_url: string | null; binding: string | null };

export type Changed =
  | { kind: "ok"; installation: InstallationView }
  | { kind: "invalid"; errors: FieldError[]; detail: string }
  | { kind: "conflict"; detail: string };

type Row = Pick<InstallationsTable, (typeof COLUMNS)[number]>;

const COLUMNS = [
  "id",
  "name",
  "plugin",
  "version",
  "config",
  "secrets",
  "secret_fields",
  "created_at",
  "updated_at",
] as const;

/**
 * A version of a plugin the tenant can see (public, published by it, or installed by it: a plugin
 * turned private keeps working for the tenants that use it, visibility.ts), or why not.
 */
export async function visibleVersion(d1: D1Database, tenantId: string, plugin: string, version?: string) {
  const d = db(d1);
  const owner = await d
    .selectFrom("plugins")
    .select(["latest_version"])
    .where("name", "=", plugin)
    .where(visibleTo({ tenantIds: [tenantId] }))
    .executeTakeFirst();
  if (!owner) return { kind: "no_plugin" as const };
  const wanted = version ?? owner.latest_version;
  const row = await d
    .selectFrom("plugin_versions")
    .select(["version", "manifest", "base_url", "binding"])
    .where("plugin", "=", plugin)
    .where("version", "=", wanted)
    .executeTakeFirst();
  if (!row) return { kind: "no_version" as const, version: wanted };
  const found: VersionRow & { version: string } = {
    version: row.version,
    manifest: JSON.parse(row.manifest) as PublishedManifest,
    base_url: row.base_url,
    binding: row.binding,
  };
  return { kind: "found" as const, ...found };
}

export async function createInstallation(
  env: Env,
  tenant: InstallationTenant,
  who: Actor,
  input: { plugin: string; version?: string; name?: string; config: Record<string, unknown> },
): Promise<Changed> {
  const found = await visibleVersion(env.DB, tenant.id, input.plugin, input.version);
  if (found.kind === "no_plugin") return invalid("plugin", `No plugin "${input.plugin}" in the marketplace.`);
  if (found.kind === "no_version")
    return invalid("version", `"${input.plugin}" has no published version ${found.version}.`);
  const name = input.name ?? input.plugin;
  if (!NAME_PATTERN.test(name)) return invalid("name", "must match [a-z][a-z0-9-]{0,62}");
  // `uses: core/…` must not quietly mean another plugin: a first-party name installs only itself.
  await publishFirstParty(env).catch((error) => console.error("first-party plugins not published", error));
  if (name !== input.plugin && (await isFirstParty(env.DB, name)))
    return invalid("name", `"${name}" is a first-party plugin's name; name the installation otherwise.`);
  const problems = settingsProblems(found.manifest.connection, input.config);
  if (problems.length > 0)
    return {
      kind: "invalid",
      errors: problems,
      detail: "The connection settings do not match the plugin's connection schema.",
    };
  const d = db(env.DB);
  const { n } = await d
    .selectFrom("installations")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("tenant_id", "=", tenant.id)
    .executeTakeFirstOrThrow();
  if (n >= MAX_INSTALLATIONS)
    return invalid("plugin", `A tenant may have at most ${MAX_INSTALLATIONS} installations.`);
  const id = newId("ins");
  const sealed = await seal(env, tenant, id, secretFieldsOf(found.manifest.connection), input.config);
  const at = new Date().toISOString();
  const [inserted] = await batch(env.DB, [
    d
      .insertInto("installations")
      .values({
        id,
        tenant_id: tenant.id,
        name,
        plugin: input.plugin,
        version: found.version,
        ...sealed,
        created_at: at,
        created_by: who.actor,
        updated_at: at,
        updated_by: who.actor,
      })
      .onConflict((oc) => oc.columns(["tenant_id", "name"]).doNothing()),
    auditIfChanged(
      d,
      event(tenant, who, "installation.created", `${name} (${input.plugin}@${found.version})`),
      new Date(at),
    ),
  ]);
  if ((inserted?.meta.changes ?? 0) === 0)
    return {
      kind: "conflict",
      detail: `The tenant already has an installation named "${name}"; give this one another name.`,
    };
  const row = await rowOf(env.DB, tenant.id, id);
  if (!row) throw new Error("an installation vanished after its insert");
  return { kind: "ok", installation: viewOf(row) };
}

/** A version change, a settings change, or both; the result is checked as a whole. */
export async function updateInstallation(
  env: Env,
  tenant: InstallationTenant,
  who: Actor,
  id: string,
  change: { version?: string; config?: Record<string, unknown> },
): Promise<Changed | null> {
  const row = await rowOf(env.DB, tenant.id, id);
  if (!row) return null;
  const found = await visibleVersion(env.DB, tenant.id, row.plugin, change.version ?? row.version);
  if (found.kind !== "found") {
    const version = found.kind === "no_version" ? found.version : (change.version ?? row.version);
    return invalid("version", `"${row.plugin}" has no published version ${version} you can install.`);
  }
  if (found.version !== row.version) {
    const broken = await usesBrokenBy(env.DB, tenant.id, row.name, { ...found, plugin: row.plugin });
    if (broken.length > 0)
      return {
        kind: "conflict",
        detail: `${row.plugin}@${found.version} does not fit what pipelines use as "${row.name}": ${broken.join("; ")}. Change those pipelines first, or choose another version.`,
      };
  }
  const stored = await openSettings(env, tenant, row);
  const secretNames = sealedFields(row, found.manifest.connection);
  const settings = change.config === undefined ? stored : mergeSettings(stored, change.config, secretNames);
  const problems = settingsProblems(found.manifest.connection, settings);
  if (problems.length > 0) {
    const detail =
      change.config === undefined
        ? `The installation's settings do not match version ${found.version}'s connection schema; send config with the change.`
        : "The connection settings do not match the plugin's connection schema.";
    return { kind: "invalid", errors: problems, detail };
  }
  const sealed = await seal(env, tenant, id, secretNames, settings);
  const d = db(env.DB);
  const at = new Date();
  await batch(env.DB, [
    d
      .updateTable("installations")
      .set({ version: found.version, ...sealed, updated_at: at.toISOString(), updated_by: who.actor })
      .where("id", "=", id)
      .where("tenant_id", "=", tenant.id),
    auditIfChanged(
      d,
      event(tenant, who, "installation.changed", `${row.name} (${row.plugin}@${found.version})`),
      at,
    ),
    bumpUsers(env.DB, tenant.id, row.name),
  ]);
  const updated = await rowOf(env.DB, tenant.id, id);
  return updated ? { kind: "ok", installation: viewOf(updated) } : null;
}

/** Deletes an installation no pipeline's latest version uses; answers the pipelines that still do. */
export async function deleteInstallation(
  d1: D1Database,
  tenant: { id: string },
  who: Actor,
  id: string,
): Promise<{ kind: "deleted"; name: string } | { kind: "in_use"; name: string; pipelines: string[] } | null> {
  const row = await rowOf(d1, tenant.id, id);
  if (!row) return null;
  const users = await pipelinesUsing(d1, tenant.id, row.name);
  if (users.length > 0) return { kind: "in_use", name: row.name, pipelines: users.map((u) => u.slug) };
  const d = db(d1);
  // Written under the same condition, so a pipeline saved since the check keeps its installation.
  const [deleted] = await batch(d1, [
    d
      .deleteFrom("installations")
      .where("id", "=", id)
      .where("tenant_id", "=", tenant.id)
      .where(nobodyUses(tenant.id, row.name)),
    auditIfChanged(
      d,
      event(tenant, who, "installation.deleted", `${row.name} (${row.plugin}@${row.version})`),
      new Date(),
    ),
  ]);
  if ((deleted?.meta.changes ?? 0) === 0) {
    const since = await pipelinesUsing(d1, tenant.id, row.name);
    if (since.length > 0) return { kind: "in_use", name: row.name, pipelines: since.map((u) => u.slug) };
    return null;
  }
  return { kind: "deleted", name: row.name };
}

export async function listInstallations(d1: D1Database, tenantId: string): Promise<InstallationView[]> {
  const rows = await db(d1)
    .selectFrom("installations")
    .select([...COLUMNS])
    .where("tenant_id", "=", tenantId)
    .orderBy("name")
    .execute();
  return rows.map(viewOf);
}

export async function getInstallation(
  d1: D1Database,
  tenantId: string,
  id: string,
): Promise<InstallationView | null> {
  const row = await rowOf(d1, tenantId, id);
  return row ? viewOf(row) : null;
}

/**
 * The installation's secret fields: those its version marks `writeOnly`, and every field once sealed,
 * which stays sealed (and masked) even if a later version stopped marking it.
 */
export function sealedFields(row: Pick<Row, "secret_fields">, connection: unknown): Set<string> {
  return new Set([...secretFieldsOf(connection), ...(JSON.parse(row.secret_fields) as string[])]);
}

/** The settings an installation runs with, secrets decrypted (never to be shown or logged). */
export async function openSettings(
  env: Env,
  tenant: InstallationTenant,
  row: Pick<Row, "id" | "config" | "secrets">,
) {
  const plain = JSON.parse(row.config) as Record<string, unknown>;
  if (row.secrets === null) return plain;
  const vault = await TenantVault.open(env.MASTER_KEY, tenant.id, tenant.dataKey);
  const secret = JSON.parse(
    await vault.decrypt(row.secrets, installationContext(tenant.id, row.id)),
  ) as Record<string, unknown>;
  return { ...plain, ...secret };
}

export async function rowOf(d1: D1Database, tenantId: string, id: string): Promise<Row | undefined> {
  return db(d1)
    .selectFrom("installations")
    .select([...COLUMNS])
    .where("tenant_id", "=", tenantId)
    .where("id", "=", id)
    .executeTakeFirst();
}

async function seal(
  env: Env,
  tenant: InstallationTenant,
  id: string,
  secretNames: ReadonlySet<string>,
  settings: Record<string, unknown>,
) {
  const { plain, secret } = splitSettings(settings, secretNames);
  const names = Object.keys(secret).sort();
  let secrets: string | null = null;
  if (names.length > 0) {
    const vault = await TenantVault.open(env.MASTER_KEY, tenant.id, tenant.dataKey);
    secrets = await vault.encrypt(JSON.stringify(secret), installationContext(tenant.id, id));
  }
  return { config: JSON.stringify(plain), secrets, secret_fields: JSON.stringify(names) };
}

function viewOf(row: Row): InstallationView {
  const plain = JSON.parse(row.config) as Record<string, unknown>;
  return {
    id: row.id,
    name: row.name,
    plugin: row.plugin,
    version: row.version,
    config: masked(plain, JSON.parse(row.secret_fields) as string[]),
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

async function isFirstParty(d1: D1Database, name: string): Promise<boolean> {
  const row = await db(d1)
    .selectFrom("plugins")
    .select("name")
    .where("name", "=", name)
    .where("publisher_tenant_id", "is", null)
    .executeTakeFirst();
  return row !== undefined;
}

function event(tenant: { id: string }, who: Actor, action: string, target: string) {
  return { tenantId: tenant.id, actor: who.actor, action, target, ip: who.ip };
}

function invalid(path: string, message: string): Changed {
  return { kind: "invalid", errors: [{ path, message }], detail: message };
}
