/**
 * `POST /hooks/{hook_id}` (DESIGN.md §4): the hook id names its pipeline's object, so a delivery goes
 * there without a D1 query; the body is read as a stream and cut at the limit; the object decides and
 * records (desk.ts), and its answer is sent as it is.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { quotasOf } from "../config";
import { problems } from "../problem";
import { readLimited } from "../read-limited";
import { hookObject } from "./hook-id";
import type { DeliveryAnswer, DeliveryInput } from "./types";

/** The largest delivery body kept (DESIGN.md §4). */
export const MAX_DELIVERY_BYTES = 1024 * 1024;
/** Characters kept per header value, and query parameters kept per delivery. */
const MAX_HEADER_CHARS = 8_192;
const MAX_QUERY_PARAMS = 100;

export const hooksIngress = new Hono<AppEnv>().post("/:hook_id", async (c) => {
  const hookId = c.req.param("hook_id");
  const stub = hookObject(c.env, hookId);
  if (!stub) throw problems.notFound("webhook");
  const receivedAt = Date.now();
  const { body, tooLarge } = await readLimited(c.req.raw, MAX_DELIVERY_BYTES);
  const url = new URL(c.req.url);
  const input: DeliveryInput = {
    hook_id: hookId,
    // Every header reaches verification, each value cut at MAX_HEADER_CHARS (the platform bounds their
    // total size); the ledger records a bounded part of them (ledger.ts capHeaders).
    headers: [...c.req.raw.headers].map(([name, value]) => [name, value.slice(0, MAX_HEADER_CHARS)]),
    query: Object.fromEntries([...url.searchParams].slice(0, MAX_QUERY_PARAMS)),
    body,
    too_large: tooLarge,
    received_at: receivedAt,
    quotas: quotasOf(c.env),
  };
  let answer: DeliveryAnswer;
  try {
    // The RPC types cannot name `unknown` fields; the object's answer is a DeliveryAnswer.
    answer = (await stub.receiveDelivery(input)) as unknown as DeliveryAnswer;
  } catch (error) {
    // The object could not be reached or was reset: nothing was acknowledged, so the sender retries.
    console.error("webhook object unavailable", error);
    throw problems.unavailable("The webhook cannot take deliveries right now; send it again.", 5);
  }
  const headers: Record<string, string> = {
    "content-type": answer.status >= 400 ? "application/problem+json" : "application/json",
  };
  if (answer.retry_after !== undefined) headers["retry-after"] = String(answer.retry_after);
  return new Response(JSON.stringify(answer.body), { status: answer.status, headers });
});
