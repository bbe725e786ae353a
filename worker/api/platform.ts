/** Health, the pipeline spec's JSON Schema and the offline API reference page. */
import { createRoute } from "@hono/zod-openapi";
import { VERSION } from "../config";
import { Health } from "../contracts/api";
import { pipelineJsonSchema } from "../engine";
import { json, newApi } from "./openapi";

const DOCS_HTML = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <title>Updraft API reference</title>
  <meta name="viewport" content="width=device-width, initial-scale=1" />
  <link rel="stylesheet" href="/docs-assets/swagger-ui.css" />
</head>
<body>
  <div id="docs"></div>
  <script src="/docs-assets/swagger-ui-bundle.js"></script>
  <script src="/docs-assets/init.js"></script>
</body>
</html>`;

let pipelineSchema: object | undefined;

export const platformApi = newApi()
  .openapi(
    createRoute({
      method: "get",
      path: "/health",
      operationId: "getHealth",
      tags: ["platform"],
      responses: { 200: json(Health, "The service is up") },
    }),
    (c) => c.json({ ok: true as const, version: VERSION }, 200),
  )
  .get("/schemas/pipeline.json", (c) => {
    pipelineSchema ??= pipelineJsonSchema();
    return c.json(pipelineSchema, 200, { "Cache-Control": "public, max-age=300" });
  })
  // The reference page loads swagger-ui from the dashboard's own static assets: it works offline.
  .get("/docs", (c) => c.html(DOCS_HTML));
