/** Turning the http operator's input into a fetch request. */

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type QueryValue = string | number | boolean | Array<string | number | boolean>;

export interface RequestSpec {
  method: string;
  url: string;
  headers?: Record<string, string>;
  query?: Record<string, QueryValue>;
  body?: JsonValue;
}

/** The target URL with `query` appended to whatever query string it already has. */
export function targetUrl(spec: RequestSpec): URL {
  const url = new URL(spec.url);
  for (const [name, value] of Object.entries(spec.query ?? {})) {
    for (const item of Array.isArray(value) ? value : [value]) url.searchParams.append(name, String(item));
  }
  return url;
}

/**
 * Headers and body: a string body is sent as is (text/plain unless told otherwise), any other JSON
 * value is serialised with `application/json`.
 */
export function requestInit(spec: RequestSpec): { headers: Headers; body: string | undefined } {
  const headers = new Headers(spec.headers ?? {});
  if (spec.body === undefined || spec.method === "GET" || spec.method === "HEAD")
    return { headers, body: undefined };
  const isText = typeof spec.body === "string";
  if (!headers.has("content-type")) {
    headers.set("content-type", isText ? "text/plain; charset=utf-8" : "application/json");
  }
  return { headers, body: typeof spec.body === "string" ? spec.body : JSON.stringify(spec.body) };
}
