/**
 * `core/http`: one HTTP request. Retryable when the remote side may recover (5xx, 429, network
 * errors, timeouts), non-retryable when the request itself is wrong (other 4xx, refused destination).
 */

import { defineOperator, duration, parseDuration } from "@updraft/plugin-sdk";
import { z } from "zod";
import { exchange } from "../http/exchange.ts";
import { raiseForStatus } from "../http/response.ts";

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
    const sent = await exchange(input, {
      env: ctx.env,
      signal: ctx.signal,
      timeoutMs: parseDuration(input.timeout) ?? 30_000,
      timeoutLabel: input.timeout,
      idempotencyKey: ctx.invocation.idempotency_key,
    });
    const { response, url } = sent;
    // Log the path only: query strings often carry tokens.
    ctx.log("info", `${input.method} ${url.origin}${url.pathname} → ${response.status}`);
    raiseForStatus(response.status, response.headers, sent.body);
    return { status: response.status, headers: Object.fromEntries(response.headers), body: sent.body };
  },
});
