/**
 * What every plugin that calls a tenant-chosen address needs: the destination checked against the
 * private-network rule (refused for good, never retried), and answers read within a byte limit however
 * they arrive (chunked or compressed), since plugins of many tenants share an isolate.
 */
import { NonRetriableError } from "../errors.ts";
import { privateNetworkAllowed, refusalFor } from "./destination.ts";

/**
 * Refuses `url` unless the private-network switch is on (local development) or it is https to a
 * public host. `what` names it in the message ("the endpoint", "the source").
 */
export function assertPublicDestination(url: URL, env: unknown, what = "the address"): void {
  if (privateNetworkAllowed(env as { UPDRAFT_ALLOW_PRIVATE_NETWORK?: unknown })) return;
  const refusal = url.protocol === "https:" ? refusalFor(url) : `${what} must be an https URL`;
  if (refusal) throw new NonRetriableError(`refusing to call ${url.origin}: ${refusal}`);
}

/** Thrown when an answer is larger than the reader allows. */
export class TooLargeError extends NonRetriableError {
  constructor(limit: number) {
    super(`the answer is larger than ${limit} bytes`);
  }
}

/** The body's bytes, at most `limit` of them (decoded size); more throws TooLargeError. */
export async function readBytesCapped(response: Response, limit: number): Promise<Uint8Array> {
  const reader = response.body?.getReader();
  if (!reader) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw new TooLargeError(limit);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}

/** The body as UTF-8 text, at most `limit` bytes. */
export async function readTextCapped(response: Response, limit: number): Promise<string> {
  return new TextDecoder().decode(await readBytesCapped(response, limit));
}

/** The body as JSON (undefined when it is not JSON), at most `limit` bytes. */
export async function readJsonCapped(response: Response, limit: number): Promise<unknown> {
  const text = await readTextCapped(response, limit);
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}
