/** The blueprint gallery (worker/blueprints): ready pipelines any signed-in caller may start from. */
import { createRoute } from "@hono/zod-openapi";
import { blueprints } from "../blueprints";
import { BlueprintList } from "../contracts/blueprints";
import { requirePrincipal } from "./access";
import { errorResponses, json, newApi } from "./openapi";

export const blueprintsApi = newApi().openapi(
  createRoute({
    method: "get",
    path: "/",
    operationId: "listBlueprints",
    tags: ["pipelines"],
    description:
      "Ready pipelines to start from, each with the plugins it uses (install the ones that are not `core` " +
      "first) and its YAML source, which `PUT /api/tenants/{t}/pipelines/{p}` accepts as it is.",
    responses: { 200: json(BlueprintList, "The gallery, in order"), ...errorResponses },
  }),
  (c) => {
    requirePrincipal(c);
    return c.json({ items: blueprints() }, 200, { "Cache-Control": "private, max-age=300" });
  },
);
