/** `s3/get-object`: reads an object; above 1 MiB it answers a pre-signed URL instead of the bytes. */
import { defineOperator, NonRetriableError } from "@updraft/plugin-sdk";
import { readBytesCapped, readTextCapped } from "@updraft/plugin-sdk/network";
import { z } from "zod";
import { storeFor } from "../connection.ts";
import { send } from "../request.ts";
import { MAX_INLINE_BYTES } from "./put-object.ts";

const LINK_SECONDS = 900;

export const getObject = defineOperator({
  name: "get-object",
  kind: "action",
  description:
    "Reads the object `key` as `text`, `json` or `base64` (`as`). An object over 1 MiB is answered by " +
    "reference: `url`, a pre-signed GET link valid 15 minutes, instead of `body`. A missing key fails " +
    "without retry unless `missing_ok`, which answers `found: false`.",
  input: z.strictObject({
    key: z.string().min(1).max(1024),
    as: z.enum(["text", "json", "base64"]).default("text"),
    missing_ok: z.boolean().default(false),
  }),
  output: z.strictObject({
    key: z.string(),
    found: z.boolean(),
    size: z.number().int().nullable(),
    content_type: z.string().nullable(),
    etag: z.string().nullable(),
    body: z.json().optional(),
    url: z.string().optional().describe("Set instead of body when the object is over 1 MiB."),
  }),
  timeout: "60s",
  async run(ctx) {
    const { input } = ctx;
    const store = storeFor(ctx.connection, ctx.env);
    const what = `get-object ${input.key}`;
    const response = await send(store, {
      method: "GET",
      url: store.url(input.key),
      signal: ctx.signal,
      what,
      expected: input.missing_ok ? [404] : [],
    });
    if (response.status === 404) {
      await response.body?.cancel();
      return { key: input.key, found: false, size: null, content_type: null, etag: null };
    }
    const size = Number(response.headers.get("content-length") ?? Number.NaN);
    const head = {
      key: input.key,
      found: true,
      size: Number.isFinite(size) ? size : null,
      content_type: response.headers.get("content-type"),
      etag: response.headers.get("etag"),
    };
    if (!Number.isFinite(size) || size > MAX_INLINE_BYTES) {
      await response.body?.cancel();
      const link = await store.client.sign(
        store.url(input.key, { "X-Amz-Expires": String(LINK_SECONDS) }).href,
        {
          method: "GET",
          aws: { signQuery: true },
        },
      );
      return { ...head, url: link.url };
    }
    if (input.as === "base64") {
      const bytes = await readBytesCapped(response, MAX_INLINE_BYTES);
      let text = "";
      for (const byte of bytes) text += String.fromCharCode(byte);
      return { ...head, body: btoa(text) };
    }
    const text = await readTextCapped(response, MAX_INLINE_BYTES);
    if (input.as === "text") return { ...head, body: text };
    try {
      return { ...head, body: JSON.parse(text) };
    } catch {
      throw new NonRetriableError(`${what}: the object is not JSON (read it as text)`);
    }
  },
});
