/** The Cloudflare Workers host adapter. */
import type { Plugin } from "./define.ts";
import { type HandlerOptions, handlePluginRequest } from "./handler.ts";
import { type PluginHost, platformFetchFor } from "./host.ts";

function asRecord(env: unknown): Record<string, unknown> {
  return typeof env === "object" && env !== null ? { ...env } : {};
}

/** The host of one Worker invocation: its bindings, its `waitUntil`, its way to the platform. */
export function workerHost(env: unknown, ctx: { waitUntil(promise: Promise<unknown>): void }): PluginHost {
  const bindings = asRecord(env);
  return {
    env: bindings,
    waitUntil: (promise) => ctx.waitUntil(promise),
    platformFetch: platformFetchFor(bindings),
  };
}

/**
 * Serves a plugin as a Worker. Bindings are read per request: `UPDRAFT_JWKS`, `UPDRAFT_JWKS_URL` or a
 * `PLATFORM` service binding for the platform's keys (the binding also carries callbacks).
 *
 * @example
 * // src/index.ts
 * export default toWorker(definePlugin({ name: "hello", ...rest, operators: [greet] }));
 */
export function toWorker<Env = unknown>(plugin: Plugin, options: HandlerOptions = {}): ExportedHandler<Env> {
  return {
    fetch(request, env, ctx) {
      return handlePluginRequest(plugin, request, workerHost(env, ctx), options);
    },
  };
}
