/** `slack/update-message`: edits a message the bot posted. */
import { defineOperator } from "@updraft/plugin-sdk";
import { z } from "zod";
import { Connection, callSlack } from "../api.ts";

export const updateMessage = defineOperator({
  name: "update-message",
  kind: "action",
  description:
    "Replaces the `text` and/or `blocks` of the message `ts` in `channel` (one the bot posted, e.g. " +
    "`{{ tasks.notify.output.ts }}`). Editing twice to the same content is harmless, so retries are safe.",
  input: z
    .strictObject({
      channel: z.string().min(1).max(100),
      ts: z.string().min(1).max(32),
      text: z.string().max(40_000).optional(),
      blocks: z.array(z.record(z.string(), z.unknown())).max(50).optional(),
    })
    .refine((input) => input.text !== undefined || input.blocks !== undefined, {
      message: "give text, blocks, or both",
    }),
  output: z.strictObject({ channel: z.string(), ts: z.string() }),
  timeout: "30s",
  async run(ctx) {
    const connection = Connection.parse(ctx.connection);
    const answer = await callSlack(
      connection,
      "chat.update",
      { ...ctx.input },
      { env: ctx.env, signal: ctx.signal },
    );
    return { channel: String(answer.channel ?? ctx.input.channel), ts: String(answer.ts ?? ctx.input.ts) };
  },
});
