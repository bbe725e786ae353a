/**
 * One attempt of one task instance: sign the invocation, send it, read the answer. Never throws:
 * every way a plugin can misbehave ends as an Outcome the engine can act on.
 */
import {
  type BatchCall,
  type Invocation as InvocationBody,
  MAX_RESULT_BYTES,
} from "@updraft/plugin-sdk/protocol";
import type { z } from "zod";
import { readLimited } from "../read-limited";
import { failure, type Outcome, PluginResult, retryAfterMs, retryableError, toOutcome } from "./outcome";
import { signRequest } from "./sign";
import type { PluginTransport } from "./transport";

/**
 * The invocation body of protocol v1 as the platform sends it: what the plugin's schema accepts, with
 * `task_started_at` always set (PROTOCOL.md §3: send it on every call).
 */
export type Invocation = z.input<typeof InvocationBody> & { task_started_at: string };

export type InvokeOptions = { signingKey: string; now?: () => Date };

/** One signed operator request, as sent over HTTP or in a batch over a service binding's RPC. */
export type SignedCall = BatchCall;

export async function signCall(
  operator: string,
  invocation: Invocation,
  { signingKey, now = () => new Date() }: InvokeOptions,
): Promise<SignedCall> {
  const body = JSON.stringify(invocation);
  const headers = { "content-type": "application/json", ...(await signRequest(signingKey, body, now())) };
  return { operator, headers, body };
}

/** How long the platform waits for an answer: until the invocation's deadline, at least 1 ms. */
export function waitMs(invocation: Invocation, now: Date): number {
  return Math.max(1, Date.parse(invocation.deadline) - now.getTime());
}

export function notAnswered(label: string, timeoutMs: number): Outcome {
  return retryableError("timeout", `${label} did not answer within ${Math.round(timeoutMs / 1000)}s`);
}

export function unreachable(label: string, error: unknown): Outcome {
  return retryableError(
    "unreachable",
    `${label} could not be reached: ${error instanceof Error ? error.message : String(error)}`,
  );
}

export async function invokeOperator(
  transport: PluginTransport,
  operator: string,
  invocation: Invocation,
  options: InvokeOptions,
): Promise<Outcome> {
  const now = options.now ?? (() => new Date());
  const timeoutMs = waitMs(invocation, now());
  let response: Response;
  try {
    const { headers, body } = await signCall(operator, invocation, options);
    response = await transport.fetch(`/operators/${encodeURIComponent(operator)}`, {
      method: "POST",
      headers,
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const timedOut =
      error instanceof DOMException && (error.name === "TimeoutError" || error.name === "AbortError");
    return timedOut ? notAnswered(transport.label, timeoutMs) : unreachable(transport.label, error);
  }
  return readAnswer(transport.label, response, now());
}

/** A plugin's HTTP answer as an Outcome; anything but a valid protocol v1 result is a retryable error. */
export async function readAnswer(label: string, response: Response, now: Date): Promise<Outcome> {
  const { status, headers } = response;
  if (status >= 300 && status < 400) {
    // Never followed (transport.ts): a redirect would carry the invocation, connection included, on.
    await response.body?.cancel();
    const where = headers.get("location")?.slice(0, 200) ?? "nowhere";
    return failure(
      "protocol_error",
      `${label} answered a redirect (${status} to ${where}); plugins answer, they do not redirect`,
      false,
    );
  }
  const tooLarge = () => `${label} answered more than ${MAX_RESULT_BYTES} bytes; results are limited to that`;
  const declared = Number(headers.get("content-length") ?? "0");
  if (declared > MAX_RESULT_BYTES) {
    await response.body?.cancel();
    if (backsOff(status)) return answerOf(label, status, headers.get("retry-after"), "", now);
    return retryableError("protocol_error", tooLarge());
  }
  // Read as a stream and cut at the limit: a chunked answer says nothing of its size up front.
  const { body, tooLarge: over } = await readLimited(response, MAX_RESULT_BYTES);
  if (over) return retryableError("protocol_error", tooLarge());
  return answerOf(label, status, headers.get("retry-after"), new TextDecoder().decode(body), now);
}

const backsOff = (status: number) => status === 429 || status === 503;

/** Bad gateway and gateway timeout come from a host in front of the plugin (429 and 503 back off, below). */
const GATEWAY_STATUSES: ReadonlySet<number> = new Set([502, 504]);

/** An answer that is not a protocol result: a gateway's says the plugin was not reached; any other breaks the protocol. */
function notProtocol(status: number, message: string): Outcome {
  return retryableError(GATEWAY_STATUSES.has(status) ? "unreachable" : "protocol_error", message);
}

function failureIn(text: string): string | null {
  if (text.length === 0 || text.length > MAX_RESULT_BYTES) return null;
  try {
    const parsed = PluginResult.safeParse(JSON.parse(text));
    return parsed.success && parsed.data.status === "failure" ? parsed.data.error : null;
  } catch {
    return null;
  }
}

/**
 * The Outcome of an answer already read: its status, its Retry-After header and its body text. A
 * back-off (429/503) the plugin asked for in a protocol body is its failure (plugin_error); the same
 * status without one came from in front of the plugin (unreachable). Either stays that kind when the
 * task's retries run out.
 */
export function answerOf(
  label: string,
  status: number,
  retryAfter: string | null,
  text: string,
  now: Date,
): Outcome {
  if (backsOff(status)) {
    // An SDK plugin says why in a failure body (e.g. the remote API's own 429); anything else is left out.
    const why = failureIn(text);
    const message = `${label} asked to back off (${status})${why ? `: ${why}` : ""}`;
    return retryableError(why ? "plugin_error" : "unreachable", message, retryAfterMs(retryAfter, now));
  }
  if (text.length > MAX_RESULT_BYTES)
    return retryableError("protocol_error", `${label} answered more than ${MAX_RESULT_BYTES} bytes`);
  let parsed: ReturnType<typeof PluginResult.safeParse>;
  try {
    parsed = PluginResult.safeParse(JSON.parse(text));
  } catch {
    return notProtocol(
      status,
      `${label} answered ${status} with a body that is not JSON: ${text.slice(0, 200)}`,
    );
  }
  if (!parsed.success) {
    return notProtocol(status, `${label} answered ${status} with a body that is not a protocol v1 result`);
  }
  const outcome = toOutcome(parsed.data);
  const expected = outcome.kind === "running" ? 202 : 200;
  if (status !== expected) {
    // Protocol refusals (401 bad signature, 400 invalid invocation…) carry a failure body; they say
    // the platform and the plugin disagree, which a later attempt (after a key rotation) may fix.
    // A 404 says the operator does not exist: no attempt can fix that. A 5xx with a failure body is
    // the plugin's own failure (the SDK's crash answer), not a disagreement about the protocol.
    const detail = outcome.kind === "failure" ? `: ${outcome.error.message}` : "";
    if (status === 404)
      return failure("protocol_error", `${label} has no such operator (404)${detail}`, false);
    const kind = status >= 500 && outcome.kind === "failure" ? "plugin_error" : "protocol_error";
    return retryableError(kind, `${label} refused the invocation (${status})${detail}`);
  }
  return outcome;
}
