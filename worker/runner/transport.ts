/**
 * How the runner reaches a plugin: first-party plugins through a service binding (no network hop
 * outside the isolate's host), third-party plugins over HTTPS at their registered base URL.
 */
import type { BatchBinding } from "./batch";

export type PluginTransport = {
  /** A label for error messages, e.g. "core (service binding)" or "https://example.com/plugin". */
  readonly label: string;
  fetch(path: string, init: RequestInit): Promise<Response>;
};

/** A service binding ignores the host; any absolute URL routes to the bound Worker. */
export function serviceTransport(name: string, binding: Fetcher): PluginTransport {
  return {
    label: `${name} (service binding)`,
    fetch: (path, init) => binding.fetch(`https://${name}.plugins.internal${path}`, init),
  };
}

/**
 * The same binding seen as a plugin Worker built with `toWorkerEntrypoint` (plugins/sdk), which also
 * takes batches over RPC. Generated binding types only know `fetch`; the plugin's class is not visible
 * from this Worker.
 */
export function batchBinding(binding: Fetcher): BatchBinding {
  return binding as unknown as BatchBinding;
}

/** Redirects are never followed: one would carry the invocation, decrypted connection included, on. */
export function httpsTransport(baseUrl: string): PluginTransport {
  const base = baseUrl.replace(/\/+$/, "");
  return { label: base, fetch: (path, init) => fetch(`${base}${path}`, { ...init, redirect: "manual" }) };
}

/** First-party plugins are the service bindings named `PLUGIN_*` (wrangler.toml). */
const FIRST_PARTY = /^PLUGIN_[A-Z0-9_]+$/;

function isFetcher(value: unknown): value is Fetcher {
  return typeof (value as Partial<Fetcher> | null | undefined)?.fetch === "function";
}

/** Every first-party plugin's binding, by binding name. */
export function firstPartyBindings(env: Env): Array<[string, Fetcher]> {
  return Object.entries(env).flatMap(
    ([name, value]): Array<[string, Fetcher]> =>
      FIRST_PARTY.test(name) && isFetcher(value) ? [[name, value]] : [],
  );
}

/** One first-party plugin's binding by name; nothing else of the environment is reachable so. */
export function firstPartyBinding(env: Env, name: string): Fetcher | null {
  const value = FIRST_PARTY.test(name) ? (env as unknown as Record<string, unknown>)[name] : undefined;
  return isFetcher(value) ? value : null;
}
