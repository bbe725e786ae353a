/** The Cloudflare Workers host adapter. */
import type { Plugin } from "./define.ts";
import { type HandlerOptions, handlePluginRequest } from "./handler.ts";
import { platformFetchFor } from "./host.ts";

function asRecord(env: unknown): Record<string, unknown> {
  return typeof env === "object" && env !== null ? { ...env } : {};
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
      const bindings = asRecord(env);
      return handlePluginRequest(
        plugin,
        request,
        {
          env: bindings,
          waitUntil: (promise) => ctx.waitUntil(promise),
          platformFetch: platformFetchFor(bindings),
        },
        options,
      );
    },
  };
}
