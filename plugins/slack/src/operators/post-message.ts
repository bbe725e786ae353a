/** `slack/post-message`: a message in a channel, or a reply in a thread. */
import { defineOperator } from "@updraft/plugin-sdk";
import { z } from "zod";
import { Connection, callSlack } from "../api.ts";

/** The metadata event this plugin tags its messages with, so a retried attempt finds its own. */
const EVENT_TYPE = "updraft_task";

const Message = z.strictObject({ channel: z.string(), ts: z.string(), thread_ts: z.string().nullable() });

export const postMessage = defineOperator({
  name: "post-message",
  kind: "action",
  description:
    "Posts `text` and/or `blocks` to `channel` (an id such as C0123, or #name); with `thread_ts`, as a reply " +
    "in that thread. A retried attempt first looks for the message its earlier attempt posted, so a " +
    "timeout after Slack accepted it does not post twice.",
  input: z
    .strictObject({
      channel: z.string().min(1).max(100),
      text: z.string().max(40_000).optional(),
      blocks: z.array(z.record(z.string(), z.unknown())).max(50).optional(),
      thread_ts: z.string().max(32).optional(),
      reply_broadcast: z.boolean().optional(),
      unfurl_links: z.boolean().optional(),
    })
    .refine((input) => input.text !== undefined || input.blocks !== undefined, {
      message: "give text, blocks, or both",
    }),
  output: Message,
  timeout: "30s",
  async run(ctx) {
    const { input } = ctx;
    const connection = Connection.parse(ctx.connection);
    const options = { env: ctx.env, signal: ctx.signal };
    const key = ctx.invocation.idempotency_key;
    if (ctx.invocation.attempt > 1) {
      const earlier = await findPosted(connection, input.channel, input.thread_ts, key, options);
      if (earlier) {
        ctx.log("info", `attempt ${ctx.invocation.attempt}: the message was posted already (${earlier.ts})`);
        return { channel: earlier.channel, ts: earlier.ts, thread_ts: input.thread_ts ?? null };
      }
    }
    const answer = await callSlack(
      connection,
      "chat.postMessage",
      {
        ...input,
        metadata: { event_type: EVENT_TYPE, event_payload: { idempotency_key: key } },
      },
      options,
    );
    const channel = String(answer.channel ?? input.channel);
    const ts = String(answer.ts ?? "");
    ctx.log("info", `posted to ${channel} (${ts})`);
    return { channel, ts, thread_ts: input.thread_ts ?? null };
  },
});

/**
 * The message an earlier attempt posted, found by its metadata among the latest 50 of the channel
 * (conversations.history) or, for a reply, of the thread (conversations.replies). Needs the channel's
 * id and the channels:history scope; without them the retry posts (the README says so).
 */
async function findPosted(
  connection: Connection,
  channel: string,
  threadTs: string | undefined,
  key: string,
  options: { env: unknown; signal: AbortSignal },
): Promise<{ channel: string; ts: string } | null> {
  try {
    const history = threadTs
      ? await callSlack(
          connection,
          "conversations.replies",
          { channel, ts: threadTs, limit: 50, include_all_metadata: true },
          { ...options, read: true },
        )
      : await callSlack(
          connection,
          "conversations.history",
          { channel, limit: 50, include_all_metadata: true },
          { ...options, read: true },
        );
    const messages = (Array.isArray(history.messages) ? history.messages : []) as Array<{
      ts?: string;
      metadata?: { event_type?: string; event_payload?: { idempotency_key?: string } };
    }>;
    const mine = messages.find(
      (message) =>
        message.metadata?.event_type === EVENT_TYPE &&
        message.metadata.event_payload?.idempotency_key === key,
    );
    return mine?.ts ? { channel, ts: mine.ts } : null;
  } catch {
    return null;
  }
}
