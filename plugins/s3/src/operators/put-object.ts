/** `s3/put-object`: writes an object from text, base64 bytes or JSON. */
import { defineOperator, NonRetriableError } from "@updraft/plugin-sdk";
import { z } from "zod";
import { storeFor } from "../connection.ts";
import { send } from "../request.ts";

export const MAX_INLINE_BYTES = 1024 * 1024;

const Key = z.string().min(1).max(1024).describe("The object's key, e.g. reports/2026-12-07.csv");

export const putObject = defineOperator({
  name: "put-object",
  kind: "action",
  description:
    "Writes the object `key` from `body` (text), `body_base64` (bytes) or `json` (serialised), with an " +
    "optional `content_type` and `metadata`. Overwrites: a retried attempt writes the same bytes again.",
  input: z
    .strictObject({
      key: Key,
      body: z.string().optional(),
      body_base64: z.string().optional(),
      json: z.json().optional(),
      content_type: z.string().max(200).optional(),
      metadata: z.record(z.string().regex(/^[a-z0-9-]{1,64}$/), z.string().max(1024)).optional(),
    })
    .refine(
      (input) => [input.body, input.body_base64, input.json].filter((v) => v !== undefined).length === 1,
      {
        message: "give exactly one of body, body_base64 or json",
      },
    ),
  output: z.strictObject({ key: z.string(), size: z.number().int(), etag: z.string().nullable() }),
  timeout: "60s",
  async run(ctx) {
    const { input } = ctx;
    const store = storeFor(ctx.connection, ctx.env);
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
    const headers: Record<string, string> = { "content-type": type };
    for (const [name, value] of Object.entries(input.metadata ?? {})) headers[`x-amz-meta-${name}`] = value;
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
