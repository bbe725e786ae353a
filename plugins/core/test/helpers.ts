/** Calling the core Worker the way the platform does: signed protocol requests through its fetch. */
import { env, exports } from "cloudflare:workers";
import { signInvocation } from "@updraft/plugin-sdk";

export const BASE = "https://core.plugin";

export interface Answer {
  status: number;
  headers: Headers;
  // Tests read arbitrary fields of protocol answers; a record keeps that typed without casts.
  body: Record<string, unknown>;
}

export function invocationBody(
  input: unknown,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  const now = Date.now();
  return {
    invocation_id: `inv-${crypto.randomUUID()}`,
    idempotency_key: `key-${crypto.randomUUID()}`,
    attempt: 1,
    tenant: "acme",
    pipeline: "nightly",
    run: "run-1",
    task: "step",
    map_index: -1,
    logical_date: new Date(now).toISOString(),
    input,
    connection: {},
    callback_url: "https://updraft.test/callbacks/inv",
    deadline: new Date(now + 60_000).toISOString(),
    task_started_at: new Date(now).toISOString(),
    ...overrides,
  };
}

export interface SendOptions {
  jwk?: string;
  timestamp?: number;
  headers?: Record<string, string>;
}

export async function signedPost(path: string, body: unknown, options: SendOptions = {}): Promise<Answer> {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  const signed = await signInvocation({
    privateJwk: options.jwk ?? env.TEST_SIGNING_JWK,
    body: text,
    timestamp: options.timestamp,
  });
  return send(
    new Request(`${BASE}${path}`, { method: "POST", headers: { ...signed, ...options.headers }, body: text }),
  );
}

export async function send(request: Request): Promise<Answer> {
  const response = await exports.default.fetch(request);
  const text = await response.text();
  const parsed: unknown = text === "" ? {} : JSON.parse(text);
  const body = typeof parsed === "object" && parsed !== null ? { ...parsed } : { value: parsed };
  return { status: response.status, headers: response.headers, body };
}

/** Calls an operator with a valid, signed invocation around `input`. */
export function invoke(
  operator: string,
  input: unknown,
  overrides: Record<string, unknown> = {},
): Promise<Answer> {
  return signedPost(`/operators/${operator}`, invocationBody(input, overrides));
}
