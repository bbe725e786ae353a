/** What a host adapter (Workers, Node) hands the protocol handler for one request. */
import type { FetchLike } from "./callback.ts";

export interface PluginHost {
  /** The environment for this request: Worker bindings or `process.env`. */
  env: Record<string, unknown>;
  /** Keeps the host alive for work that outlives the response. */
  waitUntil(promise: Promise<unknown>): void;
  /** Reaches the platform (JWKS, callbacks): a service binding on Workers, plain `fetch` elsewhere. */
  platformFetch: FetchLike;
}

/** The `PLATFORM` service binding when the Worker has one; the public network otherwise. */
export function platformFetchFor(env: Record<string, unknown>): FetchLike {
  const platform = env.PLATFORM;
  if (typeof platform === "object" && platform !== null && "fetch" in platform) {
    const bound = platform.fetch;
    if (typeof bound === "function") return (request) => Promise.resolve(bound.call(platform, request));
  }
  return (request) => fetch(request);
}
