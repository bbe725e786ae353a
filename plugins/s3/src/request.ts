/** One signed request to the store, with the invocation's deadline; failures worded for the task. */
import { raiseFor, unreachable } from "./answers.ts";
import type { Store } from "./connection.ts";

export interface Call {
  method: "GET" | "HEAD" | "PUT" | "DELETE";
  url: URL;
  headers?: Record<string, string>;
  body?: BodyInit;
  signal: AbortSignal;
  /** What the request does, for error messages ("put-object reports/a.csv"). */
  what: string;
  /** Statuses that are answers, not failures (e.g. 404 for a head). */
  expected?: readonly number[];
}

export async function send(store: Store, call: Call): Promise<Response> {
  let response: Response;
  try {
    response = await store.client.fetch(call.url.href, {
      method: call.method,
      headers: call.headers,
      body: call.body,
      signal: call.signal,
      redirect: "manual",
    });
  } catch (thrown) {
    throw unreachable(call.what, thrown);
  }
  if (response.ok || call.expected?.includes(response.status)) return response;
  return raiseFor(response, call.what);
}
