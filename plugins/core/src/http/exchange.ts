/** One HTTP exchange as the http operators make it: the private-network rule, a deadline, a capped body. */

import { NonRetriableError } from "@updraft/plugin-sdk";
import { privateNetworkAllowed, refusalFor } from "@updraft/plugin-sdk/network";
import { type JsonValue, type RequestSpec, requestInit, targetUrl } from "./request.ts";
import { decodeBody, readCapped } from "./response.ts";
import { send } from "./send.ts";

export interface Exchange {
  response: Response;
  /** Where the answer came from, after any redirects. */
  url: URL;
  body: JsonValue;
}

export interface ExchangeOptions {
  env: { readonly UPDRAFT_ALLOW_PRIVATE_NETWORK?: unknown };
  /** The invocation's signal (aborted at its deadline). */
  signal: AbortSignal;
  timeoutMs: number;
  /** How the timeout reads in an error, e.g. "30s". */
  timeoutLabel: string;
  /** Sent as `Idempotency-Key` unless the spec's headers set one. */
  idempotencyKey?: string;
}

/**
 * Sends the request and reads its answer; a refused destination is a NonRetriableError, a network
 * error or timeout a plain Error (retryable), whatever the status (the caller judges it).
 */
export async function exchange(spec: RequestSpec, options: ExchangeOptions): Promise<Exchange> {
  const allowPrivate = privateNetworkAllowed(options.env);
  const { headers, body } = requestInit(spec);
  // The key is the same on every retry and redelivery of this task instance, so a target that honours
  // the IETF `Idempotency-Key` header can dedupe a repeated call. A key the task sets itself wins.
  if (options.idempotencyKey !== undefined && !headers.has("idempotency-key"))
    headers.set("idempotency-key", options.idempotencyKey);
  const signal = AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]);
  const guard = (url: URL) => (allowPrivate ? null : refusalFor(url));
  try {
    const { response, url } = await send(targetUrl(spec), {
      method: spec.method,
      headers,
      body,
      signal,
      guard,
    });
    const decoded = decodeBody(await readCapped(response), response.headers.get("content-type"));
    return { response, url, body: decoded };
  } catch (thrown) {
    if (thrown instanceof NonRetriableError) throw thrown;
    if (signal.aborted) throw new Error(`the request timed out after ${options.timeoutLabel}`);
    throw new Error(`the request failed: ${thrown instanceof Error ? thrown.message : String(thrown)}`);
  }
}
