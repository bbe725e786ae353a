/**
 * A tenant's installations (API.md): install a plugin version with its connection settings, list,
 * change (upgrade, downgrade, settings), uninstall, and test the connection. Admins install (the
 * settings hold credentials); anyone in the tenant may list them, secrets always masked.
 */
import { createRoute, z } from "@hono/zod-openapi";
import {
  ConnectionTested,
  Installation,
  InstallationList,
  InstallationPatch,
  InstallBody,
} from "../contracts/marketplace";
import { splitSettings } from "../marketplace/connection";
import { testConnection, transportOf } from "../marketplace/connection-test";
import {
  type Changed,
  createInstallation,
  deleteInstallation,
  getInstallation,
  listInstallations,
  openSettings,
  rowOf,
  sealedFields,
  updateInstallation,
  visibleVersion,
} from "../marketplace/installations";
import {
  connectionTestLimits,
  TESTS_PER_INSTALLATION_PER_MINUTE,
  TESTS_PER_TENANT_PER_MINUTE,
  takeTurn,
} from "../marketplace/limits";
import { pipelinesUsing } from "../marketplace/users";
import { syncStoredSchedule } from "../pipeline-sync/request";
import { ProblemError, problems } from "../problem";
import { authorize, type TenantScope } from "./access";
import { errorResponses, json, jsonBody, newApi } from "./openapi";

const Tenant = z.object({ t: z.string() });
const One = z.object({ t: z.string(), id: z.string().max(64) });

export const installationsApi = newApi()
  .openapi(
    createRoute({
      method: "post",
      path: "/{t}/installations",
      operationId: "installPlugin",
      tags: ["marketplace"],
      request: { params: Tenant, ...jsonBody(InstallBody) },
      responses: { 201: json(Installation, "Installed (secret settings masked)"), ...errorResponses },
    }),
    async (c) => {
      const scope = await authorize(c, c.req.valid("param").t, "admin");
      const body = c.req.valid("json");
      const installed = settled(await createInstallation(c.env, tenantOf(scope), scope, body));
      return c.json(installed, 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{t}/installations",
      operationId: "listInstallations",
      tags: ["marketplace"],
      request: { params: Tenant },
      responses: { 200: json(InstallationList, "The tenant's installations by name"), ...errorResponses },
    }),
    async (c) => {
      const scope = await authorize(c, c.req.valid("param").t, "viewer");
      return c.json({ items: await listInstallations(c.env.DB, scope.tenant.id) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{t}/installations/{id}",
      operationId: "getInstallation",
      tags: ["marketplace"],
      request: { params: One },
      responses: { 200: json(Installation, "The installation (secret settings masked)"), ...errorResponses },
    }),
    async (c) => {
      const { t, id } = c.req.valid("param");
      const scope = await authorize(c, t, "viewer");
      const found = await getInstallation(c.env.DB, scope.tenant.id, id);
      if (!found) throw problems.notFound("installation");
      return c.json(found, 200);
    },
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/{t}/installations/{id}",
      operationId: "updateInstallation",
      tags: ["marketplace"],
      request: { params: One, ...jsonBody(InstallationPatch) },
      responses: { 200: json(Installation, "Changed (secret settings masked)"), ...errorResponses },
    }),
    async (c) => {
      const { t, id } = c.req.valid("param");
      const scope = await authorize(c, t, "admin");
      const changed = await updateInstallation(c.env, tenantOf(scope), scope, id, c.req.valid("json"));
      if (!changed) throw problems.notFound("installation");
      const installed = settled(changed);
      // New runs of the pipelines that use it take the new version or settings; runs under way keep theirs.
      const users = await pipelinesUsing(c.env.DB, scope.tenant.id, installed.name);
      await Promise.all(
        users.map((pipeline) =>
          syncStoredSchedule(c, scope, pipeline).catch((error: unknown) =>
            console.error("installation change not synced to its pipeline yet", pipeline.slug, error),
          ),
        ),
      );
      return c.json(installed, 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/{t}/installations/{id}",
      operationId: "uninstallPlugin",
      tags: ["marketplace"],
      request: { params: One },
      responses: { 204: { description: "Uninstalled" }, ...errorResponses },
    }),
    async (c) => {
      const { t, id } = c.req.valid("param");
      const scope = await authorize(c, t, "admin");
      const deleted = await deleteInstallation(c.env.DB, scope.tenant, scope, id);
      if (!deleted) throw problems.notFound("installation");
      if (deleted.kind === "in_use") {
        throw problems.conflict(
          `"${deleted.name}" is used by the latest version of: ${deleted.pipelines.join(", ")}. Change those pipelines first.`,
        );
      }
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{t}/installations/{id}/test",
      operationId: "testInstallation",
      tags: ["marketplace"],
      description: `Calls the plugin's connection test with the installation's settings. At most ${TESTS_PER_INSTALLATION_PER_MINUTE} tests per installation and ${TESTS_PER_TENANT_PER_MINUTE} per tenant a minute, counted when the plugin is about to be called; past that, 429 with Retry-After.`,
      request: { params: One },
      responses: { 200: json(ConnectionTested, "What the plugin said of the settings"), ...errorResponses },
    }),
    async (c) => {
      const { t, id } = c.req.valid("param");
      const scope = await authorize(c, t, "editor");
      const row = await rowOf(c.env.DB, scope.tenant.id, id);
      if (!row) throw problems.notFound("installation");
      const version = await visibleVersion(c.env.DB, scope.tenant.id, row.plugin, row.version);
      if (version.kind !== "found")
        return c.json({ ok: false, detail: `${row.plugin}@${row.version} is no longer available.` }, 200);
      const transport = transportOf(c.env, version);
      if (typeof transport === "string") return c.json({ ok: false, detail: transport }, 200);
      // Counted only when the plugin is about to be called.
      const turn = await takeTurn(c.env.DB, connectionTestLimits(scope.tenant.id, row.id));
      if (turn.kind === "refused") throw problems.rateLimited(turn.detail, turn.retryAfterSeconds);
      const settings = await openSettings(c.env, tenantOf(scope), row);
      const { secret } = splitSettings(settings, sealedFields(row, version.manifest.connection));
      return c.json(await testConnection(c.env, transport, settings, Object.values(secret)), 200);
    },
  );

function tenantOf(scope: TenantScope) {
  return { id: scope.tenant.id, dataKey: scope.tenant.dataKey };
}

function settled(changed: Changed) {
  switch (changed.kind) {
    case "invalid":
      throw new ProblemError(422, "validation", changed.detail, changed.errors);
    case "conflict":
      throw problems.conflict(changed.detail);
    case "ok":
      return changed.installation;
  }
}
