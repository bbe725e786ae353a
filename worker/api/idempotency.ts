/** `Idempotency-Key` on POST …/runs (API.md): the header's shape, its claim, and the replayed answer. */
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { CreatedRun } from "../contracts/api";
import { sha256Hex } from "../crypto/random";
import { canonicalJson } from "../engine/canonical-json";
import type { Earlier, IdempotencyClaim } from "../pipeline/idempotency";
import { problems } from "../problem";

/** Stripe's rule: up to 255 characters; here printable ASCII, so it is safe to store and compare. */
export const IdempotencyKey = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/, "printable ASCII without spaces")
  .openapi({
    description:
      "The same key and body within 24 hours answer what the first request answered and start nothing; the same key with another body is a 422.",
  });

/** The routes that honour the header; a key counts per route. */
export type IdempotentRoute = "runs" | "backfill" | "replay";

/** The key (per route) with a fingerprint of the body (key order does not matter), or undefined. */
export async function idempotencyClaim(
  route: IdempotentRoute,
  key: string | undefined,
  body: unknown,
): Promise<IdempotencyClaim | undefined> {
  if (key === undefined) return undefined;
  return { key: `${route}:${key}`, fingerprint: await sha256Hex(canonicalJson(body ?? {})) };
}

/** The 422 for a key reused with another body, thrown; otherwise the first answer, read with its schema. */
export function earlierAnswer<T>(earlier: Earlier, schema: z.ZodType<T>): T {
  if (earlier.kind === "mismatch") {
    throw problems.idempotencyKeyReused(
      "This Idempotency-Key was used with another request body in the last 24 hours; use a new key for a new request.",
    );
  }
  if (earlier.kind === "in_progress") {
    // Stripe answers a concurrent request with the same key the same way.
    throw problems.conflict(
      "A request with this Idempotency-Key is still being answered; send it again in a moment to get its answer.",
    );
  }
  return schema.parse(earlier.answer);
}

/** Marks an answer as the replay of an earlier one (Stripe's header). */
export const REPLAYED = { "Idempotent-Replayed": "true" } as const;

/** The first answer of POST …/runs again. */
export function replayRun(c: Context<AppEnv>, earlier: Earlier) {
  return c.json(earlierAnswer(earlier, CreatedRun), 201, REPLAYED);
}
