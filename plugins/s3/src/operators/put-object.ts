/**
 * `s3/put-object`: writes an object from text, base64 bytes or JSON — or, above 1 MiB, by reference:
 * streamed from `source_url` into the store without passing through the platform.
 */
import { defineOperator, NonRetriableError } from "@updraft/plugin-sdk";
import { assertPublicDestination } from "@updraft/plugin-sdk/network";
import { z } from "zod";
import { type Store, storeFor } from "../connection.ts";
import { send } from "../request.ts";

export const MAX_INLINE_BYTES = 1024 * 1024;
/** S3's limit for one PUT. */
const MAX_STREAMED_BYTES = 5 * 1024 * 1024 * 1024;

const Key = z.string().min(1).max(1024).describe("The object's key, e.g. reports/2026-12-07.csv");

export const putObject = defineOperator({
  name: "put-object",
  kind: "action",
  description:
    "Writes the object `key` from `body` (text), `body_base64` (bytes) or `json` (serialised) up to 1 MiB, or " +
    "from `source_url` (streamed from there, up to 5 GiB: bodies by reference), with an optional " +
    "`content_type` and `metadata`. Overwrites: a retried attempt writes the same bytes again.",
  input: z
    .strictObject({
      key: Key,
      body: z.string().optional(),
      body_base64: z.string().optional(),
      json: z.json().optional(),
      source_url: z
        .url({ protocol: /^https?$/ })
        .optional()
        .describe("Copy the object from this URL (e.g. a pre-signed link)."),
      // Header values: printable ASCII only, so a stray newline is refused here, not retried as a fault.
      content_type: z
        .string()
        .max(200)
        .regex(/^[\x20-\x7e]*$/, "printable ASCII")
        .optional(),
      metadata: z
        .record(
          z.string().regex(/^[a-z0-9-]{1,64}$/),
          z
            .string()
            .max(1024)
            .regex(/^[\x20-\x7e]*$/, "printable ASCII"),
        )
        .optional(),
    })
    .refine(
      (input) =>
        [input.body, input.body_base64, input.json, input.source_url].filter((v) => v !== undefined)
          .length === 1,
      {
        message: "give exactly one of body, body_base64, json or source_url",
      },
    ),
  output: z.strictObject({ key: z.string(), size: z.number().int(), etag: z.string().nullable() }),
  timeout: "60s",
  async run(ctx) {
    const { input } = ctx;
    const store = storeFor(ctx.connection, ctx.env);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(input.metadata ?? {})) headers[`x-amz-meta-${name}`] = value;
    if (input.source_url !== undefined)
      return copyFrom(store, input.source_url, input.key, headers, input.content_type, ctx);
    let bytes: Uint8Array;
    let type = input.content_type;
    if (input.body_base64 !== undefined) {
      try {
        bytes = Uint8Array.from(atob(input.body_base64), (c) => c.charCodeAt(0));
      } catch {
        throw new NonRetriableError("body_base64 is not base64");
      }
      type ??= "application/octet-stream";
    } else if (input.json !== undefined) {
      bytes = new TextEncoder().encode(JSON.stringify(input.json));
      type ??= "application/json";
    } else {
      bytes = new TextEncoder().encode(input.body ?? "");
      type ??= "text/plain; charset=utf-8";
    }
    if (bytes.byteLength > MAX_INLINE_BYTES)
      throw new NonRetriableError(`the body is larger than ${MAX_INLINE_BYTES} bytes`);
    headers["content-type"] = type;
    const response = await send(store, {
      method: "PUT",
      url: store.url(input.key),
      headers,
      body: bytes,
      signal: ctx.signal,
      what: `put-object ${input.key}`,
    });
    await response.body?.cancel();
    ctx.log("info", `wrote ${bytes.byteLength} bytes to ${store.connection.bucket}/${input.key}`);
    return { key: input.key, size: bytes.byteLength, etag: response.headers.get("etag") };
  },
});

/** Streams `source` into `key`: the source must say its length (S3 takes no chunked uploads). */
async function copyFrom(
  store: Store,
  source: string,
  key: string,
  headers: Record<string, string>,
  contentType: string | undefined,
  ctx: { env: unknown; signal: AbortSignal; log: (level: "info", message: string) => void },
) {
  const url = new URL(source);
  assertPublicDestination(url, ctx.env, "the source");
  let response: Response;
  try {
    // Identity: a compressed source would be decoded past the length it declared.
    response = await fetch(url, {
      redirect: "manual",
      signal: ctx.signal,
      headers: { "accept-encoding": "identity" },
    });
  } catch (thrown) {
    throw new Error(
      `put-object ${key}: the source could not be read: ${thrown instanceof Error ? thrown.message : thrown}`,
    );
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    const retryable = response.status >= 500 || response.status === 429;
    const said = `put-object ${key}: the source answered ${response.status}`;
    throw retryable ? new Error(said) : new NonRetriableError(said);
  }
  const length = Number(response.headers.get("content-length"));
  if (!Number.isInteger(length) || length < 0 || length > MAX_STREAMED_BYTES) {
    await response.body.cancel();
    throw new NonRetriableError(`put-object ${key}: the source must send a Content-Length of at most 5 GiB`);
  }
  const body = new FixedLengthStream(length);
  void response.body.pipeTo(body.writable).catch(() => {});
  const put = await send(store, {
    method: "PUT",
    url: store.url(key),
    headers: {
      ...headers,
      "content-type": contentType ?? response.headers.get("content-type") ?? "application/octet-stream",
      "content-length": String(length),
    },
    body: body.readable,
    signal: ctx.signal,
    what: `put-object ${key}`,
  });
  await put.body?.cancel();
  ctx.log("info", `copied ${length} bytes from ${url.origin} to ${store.connection.bucket}/${key}`);
  return { key, size: length, etag: put.headers.get("etag") };
}
