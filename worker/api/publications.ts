/**
 * Publishing a plugin by URL (API.md): `{url}/manifest` is fetched under the private-network rule,
 * checked whole, and recorded as an immutable version with the tenant as publisher. Admins publish:
 * a public plugin is offered to every tenant under the tenant's name.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { PublicationBody, Published } from "../contracts/marketplace";
import { publicationUrl, readManifest } from "../marketplace/manifest-reader";
import { publish } from "../marketplace/registry";
import { ProblemError, problems } from "../problem";
import { httpsTransport } from "../runner/transport";
import { authorize } from "./access";
import { errorResponses, json, jsonBody, newApi } from "./openapi";

export const publicationsApi = newApi().openapi(
  createRoute({
    method: "post",
    path: "/{t}/publications",
    operationId: "publishPlugin",
    tags: ["marketplace"],
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
);
