/** `s3/list-objects`: one page of keys under a prefix (ListObjectsV2). */
import { defineOperator } from "@updraft/plugin-sdk";
import { readTextCapped } from "@updraft/plugin-sdk/network";
import { z } from "zod";
import { element, xmlText } from "../answers.ts";
import { storeFor } from "../connection.ts";
import { send } from "../request.ts";

const Entry = z.strictObject({
  key: z.string(),
  size: z.number().int(),
  etag: z.string().nullable(),
  last_modified: z.string().nullable(),
});

export const listObjects = defineOperator({
  name: "list-objects",
  kind: "action",
  description:
    "Lists up to `max_keys` (1-1000) objects whose key starts with `prefix`, in key order. When " +
    "`truncated`, pass `next_token` as `continuation_token` for the next page. Pair with `for_each` to " +
    "process each object.",
  input: z.strictObject({
    prefix: z.string().max(1024).default(""),
    max_keys: z.number().int().min(1).max(1000).default(1000),
    continuation_token: z.string().max(4096).optional(),
  }),
  output: z.strictObject({
    objects: z.array(Entry),
    truncated: z.boolean(),
    next_token: z.string().nullable(),
  }),
  timeout: "60s",
  async run(ctx) {
    const { input } = ctx;
    const store = storeFor(ctx.connection, ctx.env);
    const query: Record<string, string> = {
      "list-type": "2",
      prefix: input.prefix,
      "max-keys": String(input.max_keys),
    };
    if (input.continuation_token) query["continuation-token"] = input.continuation_token;
    const response = await send(store, {
      method: "GET",
      url: store.url(undefined, query),
      signal: ctx.signal,
      what: `list-objects ${input.prefix || "(all)"}`,
    });
    // 1000 entries of at most ~1.5 KiB each.
    const xml = await readTextCapped(response, 4 * 1024 * 1024);
    const objects = entries(xml, "Contents").map((entry) => ({
      key: xmlText(/<Key>([^<]*)<\/Key>/.exec(entry)?.[1] ?? ""),
      size: Number(element(entry, "Size") ?? 0),
      etag: element(entry, "ETag") ?? null,
      last_modified: element(entry, "LastModified") ?? null,
    }));
    return {
      objects,
      truncated: element(xml, "IsTruncated") === "true",
      next_token: element(xml, "NextContinuationToken") ?? null,
    };
  },
});

/** The contents of each `<tag>…</tag>`, scanned once with indexOf (linear, whatever the store sends). */
function entries(xml: string, tag: string): string[] {
  const open = `<${tag}>`;
  const close = `</${tag}>`;
  const found: string[] = [];
  let at = xml.indexOf(open);
  while (at !== -1 && found.length < 1000) {
    const end = xml.indexOf(close, at + open.length);
    if (end === -1) break;
    found.push(xml.slice(at + open.length, end));
    at = xml.indexOf(open, end + close.length);
  }
  return found;
}
