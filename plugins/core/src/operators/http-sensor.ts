/**
 * `core/http-sensor`: waits until a URL answers as expected — a status, and optionally a JSONata
 * condition over `{status, headers, body}` — like Airflow's HttpSensor. A sensor: each poke is one
 * request, and between pokes the task holds no slot. Stateless across pokes: the time waited is counted
 * from the task's first start (`task_started_at`), so the sensor's `timeout` survives plugin restarts.
 *
 * Not ready yet (poke again): a status outside `status`, a false condition, 404, 408, 425, 429, 5xx, a
 * network error or a request timeout. Failed for good: 400, 401, 403, 405, 410 (asking again will not
 * help, e.g. wrong credentials), a refused destination, an expression error, or the sensor's timeout.
 */

import { defineOperator, duration, NonRetriableError, parseDuration } from "@updraft/plugin-sdk";
import { LIMITS } from "@updraft/plugin-sdk/expression";
import { z } from "zod";
import { evaluateBounded } from "../expression/evaluate.ts";
import { type Exchange, exchange } from "../http/exchange.ts";

const MIN_POKE_MS = 1_000;
const MAX_SENSOR_MS = 7 * 86_400_000;
const HOPELESS = new Set([400, 401, 403, 405, 410]);

const Scalar = z.union([z.string(), z.number(), z.boolean()]);

const Input = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: "expected an absolute http or https URL" }),
  method: z.enum(["GET", "HEAD"]).default("GET"),
  headers: z.record(z.string(), z.string()).optional(),
  query: z.record(z.string(), z.union([Scalar, z.array(Scalar)])).optional(),
  status: z
    .array(z.number().int().min(100).max(599))
    .min(1)
    .max(20)
    .optional()
    .describe("Statuses that count as ready; any 2xx when absent."),
  condition: z
    .string()
    .min(1)
    .max(LIMITS.expressionLength)
    .optional()
    .describe("JSONata over `{status, headers, body}`; ready when it is true (and the status matches)."),
  poke_interval: duration().default("30s").describe("Time between pokes, at least 1s."),
  timeout: duration().default("1h").describe("Give up this long after the first poke (at most 7d)."),
  request_timeout: duration().default("30s"),
});

const Output = z.strictObject({
  status: z.number().int(),
  headers: z.record(z.string(), z.string()),
  body: z.json(),
  waited_ms: z.number().int().min(0),
});

type Input = z.output<typeof Input>;

/** Ready, or why not (for the log and the timeout's message). */
async function judge(input: Input, answer: Exchange, signal: AbortSignal): Promise<string | null> {
  const { status } = answer.response;
  const statusOk = input.status ? input.status.includes(status) : status >= 200 && status < 300;
  if (!statusOk) {
    if (HOPELESS.has(status))
      throw new NonRetriableError(`the URL answered ${status}; waiting will not help`);
    return `answered ${status}`;
  }
  if (input.condition === undefined) return null;
  const view = { status, headers: Object.fromEntries(answer.response.headers), body: answer.body };
  const holds = await evaluateBounded(input.condition, view, signal);
  if (typeof holds !== "boolean" && holds !== undefined)
    throw new NonRetriableError(
      `the condition must be true or false, not ${JSON.stringify(holds)?.slice(0, 80)}`,
    );
  return holds === true ? null : `answered ${status}; the condition is false`;
}

export const httpSensor = defineOperator({
  name: "http-sensor",
  kind: "sensor",
  description:
    "Pokes a URL every `poke_interval` until it answers a ready `status` (any 2xx by default) and, if set, " +
    "the JSONata `condition` over `{status, headers, body}` is true; fails after `timeout`. Between pokes " +
    "the task holds no slot. 400/401/403/405/410 fail at once; 404, 429, 5xx and network errors poke again.",
  input: Input,
  output: Output,
  timeout: "60s",
  async run(ctx) {
    const { input } = ctx;
    const pokeMs = Math.max(MIN_POKE_MS, parseDuration(input.poke_interval) ?? 30_000);
    const limitMs = parseDuration(input.timeout) ?? 3_600_000;
    if (limitMs > MAX_SENSOR_MS) throw new NonRetriableError("timeout may be at most 7d");
    const startedAt = ctx.invocation.task_started_at;
    if (startedAt === undefined) throw new NonRetriableError("the platform did not send task_started_at");
    const waited = Math.max(0, Date.now() - Date.parse(startedAt));
    let notReady: string | null;
    let answer: Exchange | undefined;
    try {
      answer = await exchange(input, {
        env: ctx.env,
        signal: ctx.signal,
        timeoutMs: parseDuration(input.request_timeout) ?? 30_000,
        timeoutLabel: input.request_timeout,
      });
      notReady = await judge(input, answer, ctx.signal);
    } catch (thrown) {
      if (thrown instanceof NonRetriableError) throw thrown;
      notReady = thrown instanceof Error ? thrown.message : String(thrown);
    }
    // The origin only: paths and query strings can carry tokens (chat webhook URLs do).
    ctx.log("info", `${input.method} ${new URL(input.url).origin}: ${notReady ?? "ready"}`);
    if (notReady === null && answer) {
      const { response, body } = answer;
      return {
        status: response.status,
        headers: Object.fromEntries(response.headers),
        body,
        waited_ms: waited,
      };
    }
    if (waited >= limitMs)
      throw new NonRetriableError(
        `not ready after ${input.timeout} (the sensor's timeout); last poke: ${notReady}`,
      );
    return ctx.waiting(Math.min(pokeMs, limitMs - waited));
  },
});
