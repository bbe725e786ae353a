/**
 * Batches over a service binding (PROTOCOL.md §8): up to MAX_BATCH_CALLS signed operator requests in
 * one Workers RPC call (`invoke`), answered by a stream of JSON lines, one per call as each settles.
 */
import { z } from "zod";

/** One RPC call carries at most this many operator requests (a Worker opens ≤ 6 connections at once). */
export const MAX_BATCH_CALLS = 6;

/** One signed operator request: what `POST {base}/operators/{operator}` would have carried. */
export const BatchCall = z.strictObject({
  operator: z.string().regex(/^[a-z0-9-]{1,63}$/),
  headers: z.record(z.string(), z.string()),
  body: z.string(),
});
export type BatchCall = z.output<typeof BatchCall>;

/** The argument of `invoke`: anything else is refused as a whole. */
export const BatchCalls = z.array(BatchCall).min(1).max(MAX_BATCH_CALLS);

/**
 * One line of the answer stream: the HTTP response call `index` would have received, or, as the only
 * line, why the batch as a whole was refused.
 */
export const BatchAnswer = z.union([
  z.object({
    index: z.number().int().nonnegative(),
    status: z.number().int().min(200).max(599),
    headers: z.record(z.string(), z.string()),
    body: z.string(),
  }),
  z.object({ refused: z.string().max(1000) }),
]);
export type BatchAnswer = z.output<typeof BatchAnswer>;
