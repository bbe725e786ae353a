/**
 * `core/http`: one HTTP request. Retryable when the remote side may recover (5xx, 429, network
 * errors, timeouts), non-retryable when the request itself is wrong (other 4xx, refused destination).
 */

import { defineOperator, duration, NonRetriableError, parseDuration } from "@updraft/plugin-sdk";
import { privateNetworkAllowed, refusalFor } from "@updraft/plugin-sdk/network";
import { z } from "zod";
import { type JsonValue, requestInit, targetUrl } from "../http/request.ts";
import { decodeBody, raiseForStatus, readCapped } from "../http/response.ts";
import { send } from "../http/send.ts";

const Scalar = z.union([z.string(), z.number(), z.boolean()]);

const Input = z
  .strictObject({
    method: z.enum(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]).default("GET"),
    url: z.url({ protocol: /^https?$/, error: "expected an absolute http or https URL" }),
    headers: z.record(z.string(), z.string()).optional(),
    query: z.record(z.string(), z.union([Scalar, z.array(Scalar)])).optional(),
    body: z.json().optional().describe("A string is sent as is; any other JSON value as application/json."),
    timeout: duration().default("30s"),
  })
  .refine((input) => input.body === undefined || (input.method !== "GET" && input.method !== "HEAD"), {
    message: "GET and HEAD requests cannot have a body",
    path: ["body"],
  });

const Output = z.strictObject({
  status: z.number().int(),
  headers: z.record(z.string(), z.string()),
  body: z.json().describe("Parsed JSON when the response is JSON, its text otherwise, null when empty."),
});

export const http = defineOperator({
  name: "http",
  kind: "action",
  description:
    "Sends one HTTP request and returns `{status, headers, body}`. 5xx, 429, network errors and timeouts are " +
    "retried; other 4xx fail the task. Sends the task instance's idempotency key as `Idempotency-Key` unless " +
    "`headers` set one. Private and metadata addresses are refused in production.",
  input: Input,
  output: Output,
  timeout: "60s",
  async run(ctx) {
    const { input } = ctx;
    const timeoutMs = parseDuration(input.timeout) ?? 30_000;
    const allowPrivate = privateNetworkAllowed(ctx.env);
    const { headers, body } = requestInit(input);
    // The key is the same on every retry and redelivery of this task instance, so a target that honours
    // the IETF `Idempotency-Key` header can dedupe a repeated call. A key the task sets itself wins.
    if (!headers.has("idempotency-key")) headers.set("idempotency-key", ctx.invocation.idempotency_key);
    const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(timeoutMs)]);
    const guard = (url: URL) => (allowPrivate ? null : refusalFor(url));
    let sent: { response: Response; url: URL; body: JsonValue };
    try {
      const { response, url } = await send(targetUrl(input), {
        method: input.method,
        headers,
        body,
        signal,
        guard,
      });
      const contentType = response.headers.get("content-type");
      sent = { response, url, body: decodeBody(await readCapped(response), contentType) };
    } catch (thrown) {
      if (thrown instanceof NonRetriableError) throw thrown;
      if (signal.aborted) throw new Error(`the request timed out after ${input.timeout}`);
      throw new Error(`the request failed: ${thrown instanceof Error ? thrown.message : String(thrown)}`);
    }
    const { response, url } = sent;
    // Log the path only: query strings often carry tokens.
    ctx.log("info", `${input.method} ${url.origin}${url.pathname} → ${response.status}`);
    raiseForStatus(response.status, response.headers, sent.body);
    return { status: response.status, headers: Object.fromEntries(response.headers), body: sent.body };
  },
});
