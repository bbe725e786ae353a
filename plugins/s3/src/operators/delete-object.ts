/** `s3/delete-object`: removes an object; deleting one that is not there is not an error (as in S3). */
import { defineOperator } from "@updraft/plugin-sdk";
import { z } from "zod";
import { storeFor } from "../connection.ts";
import { send } from "../request.ts";

export const deleteObject = defineOperator({
  name: "delete-object",
  kind: "action",
  description:
    "Deletes the object `key`. Deleting a key that does not exist succeeds, so a retry is harmless.",
  input: z.strictObject({ key: z.string().min(1).max(1024) }),
  output: z.strictObject({ key: z.string(), deleted: z.literal(true) }),
  timeout: "60s",
  async run(ctx) {
    const store = storeFor(ctx.connection, ctx.env);
    const response = await send(store, {
      method: "DELETE",
      url: store.url(ctx.input.key),
      signal: ctx.signal,
      what: `delete-object ${ctx.input.key}`,
      expected: [404],
    });
    await response.body?.cancel();
    return { key: ctx.input.key, deleted: true as const };
  },
});
