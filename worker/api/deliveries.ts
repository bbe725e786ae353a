/**
 * A pipeline's webhook deliveries (API.md "Webhooks"): the ledger its object keeps (worker/hooks),
 * listed and shown, and replayed one at a time or by time range (a webhook backfill).
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { quotasOf } from "../config";
import {
  DeliveryDetail,
  DeliveryListQuery,
  DeliveryPage,
  ReplayedItem,
  ReplayedOne,
  ReplayOneBody,
  ReplayRangeBody,
  ReplayRangeResult,
} from "../contracts/api";
import type { Replayed } from "../hooks/replay";
import type { DeliveryDetail as Detail } from "../hooks/types";
import type { Earlier } from "../pipeline/idempotency";
import { problems } from "../problem";
import { authorize, type TenantScope } from "./access";
import { badCursor } from "./cursor";
import { earlierAnswer, IdempotencyKey, idempotencyClaim, REPLAYED } from "./idempotency";
import { errorResponses, json, jsonBody, newApi } from "./openapi";
import { notAdmitted, pipelineObject } from "./run-support";

const Params = z.object({ t: z.string(), p: z.string() });
const DeliveryParams = Params.extend({ d: z.string().max(100) });

/** The first answer of a range replay again. */
function replayAgain(c: Context<AppEnv>, earlier: Earlier) {
  const runs = earlierAnswer(earlier, z.array(ReplayedItem));
  return c.json({ runs, dry_run: false }, runs.some((r) => r.run_id !== null) ? 201 : 200, REPLAYED);
}

/** The problem for a replay the object did not carry out. */
function replayProblem(scope: TenantScope, result: Exclude<Replayed, { kind: "done" }>) {
  switch (result.kind) {
    case "not_found":
      return problems.notFound("delivery");
    case "conflict":
      return problems.conflict(result.detail);
    case "too_many":
      return problems.validation(
        [{ path: "to", message: "the range holds too much to replay at once" }],
        result.detail,
      );
    default:
      return notAdmitted(scope, result, result.asked);
  }
}

export const deliveriesApi = newApi()
  .openapi(
    createRoute({
      method: "get",
      path: "/{t}/pipelines/{p}/deliveries",
      operationId: "listDeliveries",
      tags: ["webhooks"],
      request: { params: Params, query: DeliveryListQuery },
      responses: { 200: json(DeliveryPage, "Newest first"), ...errorResponses },
    }),
    async (c) => {
      const { t, p } = c.req.valid("param");
      const { limit, cursor, verdict, from, to } = c.req.valid("query");
      const scope = await authorize(c, t, "viewer");
      const { stub } = await pipelineObject(c, scope, p);
      const before = cursor === undefined ? undefined : Number(cursor);
      if (before !== undefined && !(Number.isSafeInteger(before) && before > 0)) throw badCursor();
      const page = await stub.listDeliveries({
        limit,
        before,
        verdict,
        from: from === undefined ? undefined : Date.parse(from),
        to: to === undefined ? undefined : Date.parse(to),
      });
      return c.json(page, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{t}/pipelines/{p}/deliveries/{d}",
      operationId: "getDelivery",
      tags: ["webhooks"],
      request: { params: DeliveryParams },
      responses: {
        200: json(DeliveryDetail, "Headers (secrets redacted), body, verdict, run"),
        ...errorResponses,
      },
    }),
    async (c) => {
      const { t, p, d } = c.req.valid("param");
      const scope = await authorize(c, t, "viewer");
      const { stub } = await pipelineObject(c, scope, p);
      // RPC types cannot name the body's `unknown`: the object answers a DeliveryDetail.
      const detail = (await stub.getDelivery(d)) as unknown as Detail | null;
      if (!detail) throw problems.notFound("delivery");
      return c.json(detail, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{t}/pipelines/{p}/deliveries/{d}/replay",
      operationId: "replayDelivery",
      tags: ["webhooks"],
      request: { params: DeliveryParams, ...jsonBody(ReplayOneBody) },
      responses: {
        201: json(ReplayedOne, "The new run, and the delivery that records the replay"),
        ...errorResponses,
      },
    }),
    async (c) => {
      const { t, p, d } = c.req.valid("param");
      const { version = "original" } = c.req.valid("json");
      const scope = await authorize(c, t, "editor");
      const { stub } = await pipelineObject(c, scope, p);
      const result = await stub.replayDelivery(d, version, quotasOf(c.env));
      if (result.kind !== "done") throw replayProblem(scope, result);
      const item = result.items[0];
      if (!item?.run_id || !item.replay_id) throw problems.conflict("The delivery was not replayed.");
      return c.json({ run_id: item.run_id, delivery_id: item.replay_id, replayed_from: d }, 201);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{t}/pipelines/{p}/deliveries/replay",
      operationId: "replayDeliveries",
      tags: ["webhooks"],
      request: {
        params: Params,
        headers: z.object({ "idempotency-key": IdempotencyKey.optional() }),
        ...jsonBody(ReplayRangeBody),
      },
      responses: {
        200: json(ReplayRangeResult, "A dry run (what would run), or nothing to replay"),
        201: json(ReplayRangeResult, "One run per delivery, oldest first"),
        ...errorResponses,
      },
    }),
    async (c) => {
      const { t, p } = c.req.valid("param");
      const body = c.req.valid("json");
      const scope = await authorize(c, t, "editor");
      const { stub } = await pipelineObject(c, scope, p);
      const from = Date.parse(body.from);
      const to = Date.parse(body.to);
      if (!(from < to)) {
        throw problems.validation([{ path: "to", message: "must be after from" }], "The range is empty.");
      }
      const dryRun = body.dry_run ?? false;
      const claim = dryRun
        ? undefined
        : await idempotencyClaim("replay", c.req.valid("header")["idempotency-key"], body);
      const range = { from, to, verdict: body.verdict ?? "accepted", version: body.version, dry_run: dryRun };
      // RPC types cannot name an earlier answer's `unknown`: the object answers a Replayed or Earlier.
      const result = (await stub.replayRange(range, quotasOf(c.env), claim)) as unknown as Replayed | Earlier;
      if (result.kind === "replay" || result.kind === "mismatch" || result.kind === "in_progress")
        return replayAgain(c, result);
      if (result.kind !== "done") throw replayProblem(scope, result);
      const created = result.items.some((item) => item.status === "created");
      return c.json({ runs: result.items, dry_run: dryRun }, created ? 201 : 200);
    },
  );
