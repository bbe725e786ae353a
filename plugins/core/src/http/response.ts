/** Reading a remote response safely and deciding what its status means for retries. */
import { NonRetriableError, RetryAfterError } from "@updraft/plugin-sdk";
import type { JsonValue } from "./request.ts";

/** Bodies larger than this fail the task: outputs are stored and passed on, not streamed. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

/** The body, read incrementally so an oversized response is refused without buffering all of it. */
export async function readCapped(response: Response): Promise<Uint8Array> {
  const declared = Number(response.headers.get("content-length") ?? "0");
  if (declared > MAX_RESPONSE_BYTES || !response.body) {
    await response.body?.cancel();
    if (declared > MAX_RESPONSE_BYTES) throw tooLarge();
    return new Uint8Array();
  }
  // A declared length of an unencoded body is the most it can hold (HTTP framing): read it in one go.
  // A compressed one is decoded on the way in and may grow past its length, so it is read in chunks.
  const encoding = response.headers.get("content-encoding");
  if (response.headers.has("content-length") && (encoding === null || encoding === "identity"))
    return new Uint8Array(await response.arrayBuffer());
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_RESPONSE_BYTES) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

const tooLarge = () => new NonRetriableError(`the response body is larger than ${MAX_RESPONSE_BYTES} bytes`);

/** JSON when the response says it is JSON (and is), text otherwise, null when empty. */
export function decodeBody(bytes: Uint8Array, contentType: string | null): JsonValue {
  if (bytes.byteLength === 0) return null;
  const text = new TextDecoder().decode(bytes);
  if (contentType && /[/+]json\b/i.test(contentType)) {
    try {
      return JSON.parse(text) as JsonValue;
    } catch {
      // A server that mislabels its body still gets its text passed on rather than an error.
    }
  }
  return text;
}

/** `Retry-After` as milliseconds: delay-seconds or an HTTP date; null when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | null {
  if (header === null) return null;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/** Throws the error a non-2xx status calls for; returns for statuses that are a success. */
export function raiseForStatus(status: number, headers: Headers, body: unknown): void {
  if (status < 400) return;
  const text = body === null ? "" : typeof body === "string" ? body : (JSON.stringify(body) ?? "");
  const snippet = text.slice(0, 500);
  const message = `the server answered ${status}${snippet ? `: ${snippet}` : ""}`;
  const wait = retryAfterMs(headers.get("retry-after"));
  if ((status === 429 || status === 503) && wait !== null) throw new RetryAfterError(wait, message);
  // Rate limits and server errors pass; other client errors repeat identically on every retry.
  if (status === 429 || status >= 500) throw new Error(message);
  throw new NonRetriableError(message);
}
