/**
 * Sending with redirects followed by hand: fetch's automatic following would let a public URL
 * redirect into the private network after the destination check passed.
 */
import { NonRetriableError } from "@updraft/plugin-sdk";

const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

// The only headers a redirect may carry to another origin. The platform renders `{{ secrets.X }}` into
// `headers` before the plugin sees them, so any other header (X-Api-Key, Proxy-Authorization, a
// vendor's token header) may hold a credential meant for the first origin alone.
const CROSS_ORIGIN_SAFE = new Set([
  "accept",
  "accept-language",
  "content-language",
  "content-type",
  "idempotency-key",
  "user-agent",
]);

export interface SendOptions {
  method: string;
  headers: Headers;
  body: string | undefined;
  signal: AbortSignal;
  /** Refusal reason for a destination, or null to allow it; checked for every hop. */
  guard(url: URL): string | null;
}

export interface Sent {
  response: Response;
  url: URL;
}

export async function send(start: URL, options: SendOptions): Promise<Sent> {
  let url = start;
  let { method, body } = options;
  const headers = new Headers(options.headers);
  for (let hop = 0; ; hop++) {
    const refusal = options.guard(url);
    if (refusal) throw new NonRetriableError(`refusing to fetch ${url.origin}: ${refusal}`);
    const response = await fetch(url, { method, headers, body, redirect: "manual", signal: options.signal });
    const location = response.headers.get("location");
    if (!REDIRECTS.has(response.status) || location === null) return { response, url };
    if (hop >= MAX_REDIRECTS) throw new NonRetriableError(`more than ${MAX_REDIRECTS} redirects`);
    await response.body?.cancel();
    const next = new URL(location, url);
    if (next.protocol !== "http:" && next.protocol !== "https:") {
      throw new NonRetriableError(`redirected to a ${next.protocol} URL`);
    }
    // Following would send the request, and any credential in it, in clear text to whoever answers.
    if (url.protocol === "https:" && next.protocol === "http:") {
      throw new NonRetriableError(
        `refusing a redirect from https to http (${url.origin} → ${next.origin}): it would leave TLS`,
      );
    }
    // As browsers do: 303 (and 301/302 after a POST) turn into a bodiless GET.
    if (
      response.status === 303 ||
      ((response.status === 301 || response.status === 302) && method === "POST")
    ) {
      method = method === "HEAD" ? "HEAD" : "GET";
      body = undefined;
      headers.delete("content-type");
    }
    // Credentials meant for one origin must not be replayed to another, nor come back on a later hop.
    if (next.origin !== url.origin) {
      for (const name of [...headers.keys()]) if (!CROSS_ORIGIN_SAFE.has(name)) headers.delete(name);
    }
    url = next;
  }
}
