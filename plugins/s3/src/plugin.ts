/** Catalog entry for the S3 plugin; the operators live one per file in `operators/`. */
import { definePlugin } from "@updraft/plugin-sdk";
import { Connection, storeFor } from "./connection.ts";
import { deleteObject } from "./operators/delete-object.ts";
import { getObject } from "./operators/get-object.ts";
import { listObjects } from "./operators/list-objects.ts";
import { putObject } from "./operators/put-object.ts";
import { send } from "./request.ts";

const ICON =
  "data:image/svg+xml;base64," +
  btoa(
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path fill="none" stroke="#c2410c" ' +
      'stroke-width="2" d="M4 6c0-1.7 3.6-3 8-3s8 1.3 8 3-3.6 3-8 3-8-1.3-8-3zm0 0v12c0 1.7 3.6 3 8 3s8-1.3 ' +
      '8-3V6"/></svg>',
  );

export const s3 = definePlugin({
  name: "s3",
  version: "1.0.0",
  title: "S3 storage",
  description:
    "Objects in any S3-compatible store (AWS S3, Cloudflare R2, MinIO…): put, get, list and delete, " +
    "signed with AWS Signature V4; objects over 1 MiB are read by pre-signed URL.",
  categories: ["storage", "data"],
  icon: ICON,
  homepage: "https://github.com/updraft/updraft/tree/main/plugins/s3",
  connection: Connection,
  operators: [putObject, getObject, listObjects, deleteObject],
  async testConnection(connection, ctx) {
    // A throw is a failed test with its message: the SDK's connection test says so (bounded).
    const store = storeFor(connection, ctx.env);
    const response = await send(store, {
      method: "GET",
      url: store.url(undefined, { "list-type": "2", "max-keys": "1" }),
      signal: ctx.signal,
      what: `listing bucket ${store.connection.bucket}`,
    });
    await response.body?.cancel();
    return {
      ok: true,
      detail: `Listed bucket ${store.connection.bucket} at ${store.connection.endpoint}.`,
    };
  },
});
