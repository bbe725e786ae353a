/**
 * Publishing a plugin by URL (API.md): `{url}/manifest` is fetched under the private-network rule,
 * checked whole, and recorded as an immutable version with the tenant as publisher. Admins publish:
 * a public plugin is offered to every tenant under the tenant's name, within a rate limit since each
 * publication makes the platform fetch a URL the tenant chose (marketplace/limits.ts). They may also
 * turn one of the tenant's plugins public or private at any time (marketplace/visibility.ts).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { PluginPatch, PluginSummary, PublicationBody, Published } from "../contracts/marketplace";
import { PUBLICATIONS_PER_TENANT_PER_HOUR, publicationLimits, takeTurn } from "../marketplace/limits";
import { pluginSummary } from "../marketplace/listing";
import { publicationUrl, readManifest } from "../marketplace/manifest-reader";
import { publish } from "../marketplace/registry";
import { setVisibility } from "../marketplace/visibility";
import { formatPath, ProblemError, problems } from "../problem";
import { httpsTransport } from "../runner/transport";
import { authorize } from "./access";
import { errorResponses, json, jsonBody, newApi } from "./openapi";

const PluginParams = z.object({ t: z.string(), name: z.string().max(64) });

export const publicationsApi = newApi()
  .openapi(
    createRoute({
      method: "post",
      path: "/{t}/publications",
      operationId: "publishPlugin",
      tags: ["marketplace"],
      description: `Fetches \`{url}/manifest\` and publishes it under the tenant. At most ${PUBLICATIONS_PER_TENANT_PER_HOUR} publications per tenant per hour, counted when the manifest is about to be fetched; past that, 429 with Retry-After.`,
      request: { params: z.object({ t: z.string() }), ...jsonBody(PublicationBody) },
      responses: {
        201: json(Published, "Published"),
        200: json(Published, "This version was already published with this manifest"),
        ...errorResponses,
      },
    }),
    async (c) => {
      const scope = await authorize(c, c.req.valid("param").t, "admin");
      const { url, visibility } = c.req.valid("json");
      const checked = publicationUrl(url, c.env);
      if (!checked.ok) throw problems.validation([{ path: "url", message: checked.detail }], checked.detail);
      // Counted only when the platform is about to fetch the tenant's URL.
      const turn = await takeTurn(c.env.DB, publicationLimits(scope.tenant.id));
      if (turn.kind === "refused") throw problems.rateLimited(turn.detail, turn.retryAfterSeconds);
      const read = await readManifest(httpsTransport(checked.base));
      if (!read.ok)
        throw new ProblemError(
          422,
          "validation",
          read.detail,
          read.errors ?? [{ path: "url", message: read.detail }],
        );
      const { name, version } = read.manifest;
      const outcome = await publish(c.env.DB, {
        manifest: read.manifest,
        endpoint: { base_url: checked.base },
        publisher: scope.tenant.id,
        actor: scope.actor,
        ...(visibility ? { visibility } : {}),
        audit: { tenantId: scope.tenant.id, ip: scope.ip },
      });
      switch (outcome.kind) {
        case "conflict":
          throw problems.conflict(outcome.detail);
        case "limit":
          throw problems.validation([{ path: "url", message: outcome.detail }], outcome.detail);
        case "unchanged":
          return c.json({ name, version, unchanged: true }, 200);
        case "published":
          return c.json({ name, version, unchanged: false }, 201);
      }
    },
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/{t}/plugins/{name}",
      operationId: "changePlugin",
      tags: ["marketplace"],
      summary: "Make one of the tenant's plugins public or private",
      description: [
        "Admins of the publishing tenant change a plugin's visibility at any time, without publishing a",
        "version; the change is audited (`plugin.visibility`). A plugin the tenant did not publish, and",
        "every first-party plugin, is a 404.",
        "",
        "Turning a public plugin private keeps it working for the tenants that already installed it: their",
        "installations keep running, stay listed, can be tested, changed (settings, and any version that",
        "exists) and uninstalled, and they still see the plugin's page and versions. Every other tenant",
        "finds it as if it did not exist: not in the marketplace, 404 on its page, no such plugin to",
        "install. Turning it public again offers it to everyone.",
      ].join("\n"),
      request: { params: PluginParams, ...jsonBody(PluginPatch) },
      responses: { 200: json(PluginSummary, "The plugin with its visibility"), ...errorResponses },
    }),
    async (c) => {
      const { t, name } = c.req.valid("param");
      const scope = await authorize(c, t, "admin");
      const { visibility } = c.req.valid("json");
      const change = { tenantId: scope.tenant.id, name, visibility, actor: scope.actor, ip: scope.ip };
      if (!(await setVisibility(c.env.DB, change))) throw problems.notFound("plugin");
      const plugin = await pluginSummary(c.env.DB, { tenantIds: [scope.tenant.id] }, name);
      // Gone meanwhile (its publisher was deleted).
      if (!plugin) throw problems.notFound("plugin");
      return c.json(plugin, 200);
    },
    // A body is judged only for those who may send it: anyone else gets what every tenant route answers
    // them (404 outside the tenant, 403 below admin), not a list of what the body lacks.
    (result, c) => {
      if (result.success) return undefined;
      const errors = result.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
      const detail = `The request ${result.target === "json" ? "body" : result.target} is not valid.`;
      return authorize(c, c.req.param("t"), "admin").then((): never => {
        throw problems.validation(errors, detail);
      });
    },
  );
