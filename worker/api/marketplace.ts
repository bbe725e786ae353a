/**
 * The marketplace (API.md): browse and search plugins, a plugin's page and one version's manifest.
 * Any signed-in caller may browse; private plugins show only to members of their publishing tenant.
 * First-party plugins are published from their own manifests before the isolate first answers here.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { MarketplaceQuery, PluginList, PluginPage, PluginVersionView } from "../contracts/marketplace";
import { publishFirstParty } from "../marketplace/first-party";
import { listPlugins, pluginPage, pluginVersion, type Viewer } from "../marketplace/listing";
import { problems } from "../problem";
import { requirePrincipal } from "./access";
import { errorResponses, json, newApi } from "./openapi";

const Name = z.string().max(64);
const VersionParam = z.string().max(128);

export const marketplaceApi = newApi()
  .openapi(
    createRoute({
      method: "get",
      path: "/plugins",
      operationId: "listMarketplacePlugins",
      tags: ["marketplace"],
      request: { query: MarketplaceQuery },
      responses: { 200: json(PluginList, "Plugins the caller can see, by name"), ...errorResponses },
    }),
    async (c) => {
      const viewer = await viewerOf(c);
      return c.json(await listPlugins(c.env.DB, viewer, c.req.valid("query")), 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/plugins/{plugin}",
      operationId: "getMarketplacePlugin",
      tags: ["marketplace"],
      request: { params: z.object({ plugin: Name }) },
      responses: {
        200: json(PluginPage, "The plugin, its versions and its latest manifest"),
        ...errorResponses,
      },
    }),
    async (c) => {
      const viewer = await viewerOf(c);
      const page = await pluginPage(c.env.DB, viewer, c.req.valid("param").plugin);
      if (!page) throw problems.notFound("plugin");
      return c.json(page, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/plugins/{plugin}/versions/{version}",
      operationId: "getMarketplacePluginVersion",
      tags: ["marketplace"],
      request: { params: z.object({ plugin: Name, version: VersionParam }) },
      responses: { 200: json(PluginVersionView, "One published version's manifest"), ...errorResponses },
    }),
    async (c) => {
      const viewer = await viewerOf(c);
      const { plugin, version } = c.req.valid("param");
      const found = await pluginVersion(c.env.DB, viewer, plugin, version);
      if (!found) throw problems.notFound("plugin version");
      return c.json(found, 200);
    },
  );

/** A token sees its own tenant's private plugins; a person those of every tenant it belongs to. */
async function viewerOf(c: Context<AppEnv>): Promise<Viewer> {
  const principal = requirePrincipal(c);
  await publishFirstParty(c.env).catch((error) => console.error("first-party plugins not published", error));
  if (principal.kind === "token") return { tenantIds: [principal.tenant.id] };
  return { userId: principal.user.id };
}
