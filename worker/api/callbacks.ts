/**
 * Plugin callbacks (protocol §5): `POST /api/callbacks/{token}` with the final result of a 202 answer.
 * The token is the capability (unguessable, one per dispatch) and names the PipelineDO to deliver to.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { problems } from "../problem";
import { errorResponses, json, newApi } from "./openapi";
import { changed } from "./run-support";

const CALLBACK_TOKEN = /^cb_([0-9a-f]{64})_[A-Za-z0-9_-]{20,64}$/;

export const callbacksApi = newApi().openapi(
  createRoute({
    method: "post",
    path: "/{token}",
    operationId: "deliverCallback",
    tags: ["plugins"],
    description:
      "A plugin's final result for a 202 answer (plugin protocol §5); the token is the capability.",
    request: { params: z.object({ token: z.string().max(200) }) },
    responses: { 200: json(z.object({ ok: z.literal(true) }), "Recorded"), ...errorResponses },
  }),
  async (c) => {
    const objectId = CALLBACK_TOKEN.exec(c.req.valid("param").token)?.[1];
    if (!objectId) throw problems.notFound("callback");
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      throw problems.malformed("The callback body is not JSON.");
    }
    let id: DurableObjectId;
    try {
      id = c.env.PIPELINE.idFromString(objectId);
    } catch {
      throw problems.notFound("callback");
    }
    const stub = c.env.PIPELINE.get(id);
    changed(await stub.deliverCallback(c.req.valid("param").token, body));
    return c.json({ ok: true as const }, 200);
  },
);
