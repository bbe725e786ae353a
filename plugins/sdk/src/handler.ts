/**
 * The one protocol handler every host adapter calls: routes `{base}/manifest`,
 * `{base}/operators/{name}` and `{base}/connection/test`, verifies signatures, and answers with
 * the wire form of an Outcome.
 */
import { parseBody, parseJson, readBody, reject } from "./body.ts";
import { testConnection } from "./connection-test.ts";
import type { Plugin } from "./define.ts";
import type { PluginHost } from "./host.ts";
import { KeysUnavailableError, keyRingFor } from "./keys.ts";
import { type Outcome, toResponse } from "./outcome.ts";
import { Invocation, MAX_BODY_BYTES } from "./protocol/index.ts";
import { firstDelivery } from "./replay.ts";
import { invokeOperator } from "./run.ts";
import { verifySignature } from "./verify.ts";

export interface HandlerOptions {
  /** Path prefix the plugin is served under, e.g. `/core`; default none. */
  basePath?: string;
}

type Route = { kind: "manifest" } | { kind: "operator"; name: string } | { kind: "connection_test" };

function route(pathname: string, basePath: string): Route | null {
  const base = basePath.replace(/\/+$/, "");
  if (!pathname.startsWith(`${base}/`)) return null;
  const rest = pathname.slice(base.length);
  if (rest === "/manifest") return { kind: "manifest" };
  if (rest === "/connection/test") return { kind: "connection_test" };
  const match = /^\/operators\/([a-z0-9-]+)$/.exec(rest);
  return match?.[1] ? { kind: "operator", name: match[1] } : null;
}

/** The recipient a signed body names (`plugin`, PROTOCOL.md §3), if it names one as a string. */
function addressedTo(json: unknown): string | undefined {
  const plugin =
    typeof json === "object" && json !== null ? (json as { plugin?: unknown }).plugin : undefined;
  return typeof plugin === "string" ? plugin : undefined;
}

async function handleSigned(
  plugin: Plugin,
  target: Route,
  request: Request,
  host: PluginHost,
): Promise<Outcome> {
  const body = await readBody(request);
  if (body === null) return reject(413, "too_large", `the body exceeds ${MAX_BODY_BYTES} bytes`);
  // Signatures are checked before anything else is revealed, including whether the operator exists.
  const verdict = await verifySignature(request.headers, body, keyRingFor(host.env, host.platformFetch));
  if (!verdict.ok) return reject(401, verdict.code, verdict.error);
  if (!firstDelivery(verdict.id, verdict.timestamp))
    return reject(401, "replayed", "this webhook-id was already delivered; every request is signed anew");
  const json = parseJson(body);
  if (!json.ok) return json.outcome;
  // The recipient is signed with the body: a request the platform meant for another plugin is a replay.
  const recipient = addressedTo(json.value);
  if (recipient !== undefined && recipient !== plugin.name) {
    const named = JSON.stringify(recipient.slice(0, 64));
    return reject(401, "wrong_recipient", `the request is addressed to plugin ${named}, not ${plugin.name}`);
  }
  if (target.kind === "connection_test") return testConnection(plugin, json.value, host);
  const operator = target.kind === "operator" ? plugin.operator(target.name) : undefined;
  if (!operator) return reject(404, "unknown_operator", `plugin ${plugin.name} has no such operator`);
  const invocation = parseBody(Invocation, json.value);
  if (!invocation.ok) return invocation.outcome;
  return invokeOperator(plugin, operator, invocation.value, host);
}

async function outcomeFor(
  plugin: Plugin,
  request: Request,
  host: PluginHost,
  basePath: string,
): Promise<Outcome> {
  const target = route(new URL(request.url).pathname, basePath);
  if (target === null) return reject(404, "not_found", "no such route in the plugin protocol");
  if (target.kind === "manifest") {
    if (request.method === "GET" || request.method === "HEAD")
      return { kind: "manifest", manifest: plugin.manifest };
    return reject(405, "method_not_allowed", "the manifest is read with GET", { allow: "GET, HEAD" });
  }
  if (request.method !== "POST") return reject(405, "method_not_allowed", "use POST", { allow: "POST" });
  try {
    return await handleSigned(plugin, target, request, host);
  } catch (thrown) {
    if (thrown instanceof KeysUnavailableError) return { kind: "keys_unavailable", error: thrown.message };
    throw thrown;
  }
}

/**
 * Answers one HTTP request for `plugin`. Host adapters (`toWorker`, `serveNode`) wrap this; call it
 * directly to embed a plugin in another router.
 *
 * @example
 * const response = await handlePluginRequest(plugin, request, {
 *   env, waitUntil: (p) => ctx.waitUntil(p), platformFetch: (r) => fetch(r),
 * });
 */
export async function handlePluginRequest(
  plugin: Plugin,
  request: Request,
  host: PluginHost,
  options: HandlerOptions = {},
): Promise<Response> {
  const response = toResponse(await answerRequest(plugin, request, host, options));
  return request.method === "HEAD" ? new Response(null, response) : response;
}

/** What handlePluginRequest answers, before it becomes a Response (batches write it as a line). */
export async function answerRequest(
  plugin: Plugin,
  request: Request,
  host: PluginHost,
  options: HandlerOptions = {},
): Promise<Outcome> {
  try {
    return await outcomeFor(plugin, request, host, options.basePath ?? "");
  } catch (thrown) {
    // A bug in the SDK or host must still answer in protocol shape; the platform retries it.
    console.error("updraft plugin: unexpected error", thrown);
    return { kind: "crashed", error: "the plugin failed unexpectedly" };
  }
}
