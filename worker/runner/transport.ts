/**
 * How the runner reaches a plugin: first-party plugins through a service binding (no network hop
 * outside the isolate's host), third-party plugins over HTTPS at their registered base URL.
 */
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

export function httpsTransport(baseUrl: string): PluginTransport {
  const base = baseUrl.replace(/\/+$/, "");
  return { label: base, fetch: (path, init) => fetch(`${base}${path}`, init) };
}
