/** Catalog entry for the Slack plugin; the operators live one per file in `operators/`. */
import { definePlugin } from "@updraft/plugin-sdk";
import { Connection, callSlack } from "./api.ts";
import { postMessage } from "./operators/post-message.ts";
import { updateMessage } from "./operators/update-message.ts";

const ICON =
  "data:image/svg+xml;base64," +
  btoa(
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path fill="none" stroke="#4a154b" ' +
      'stroke-width="2" stroke-linecap="round" d="M9 3v8M15 13v8M3 15h8M13 9h8"/></svg>',
  );

export const slack = definePlugin({
  name: "slack",
  version: "1.0.0",
  title: "Slack",
  description:
    "Posts and updates messages in Slack channels and threads with a bot token (Web API); rate limits " +
    "become back-offs, and a retried post finds the message its earlier attempt sent.",
  categories: ["notifications", "chat"],
  icon: ICON,
  homepage: "https://github.com/updraft/updraft/tree/main/plugins/slack",
  connection: Connection,
  operators: [postMessage, updateMessage],
  async testConnection(raw, ctx) {
    // A throw is a failed test with its message: the SDK's connection test says so (bounded).
    const connection = Connection.parse(raw);
    const who = await callSlack(connection, "auth.test", {}, { env: ctx.env, signal: ctx.signal });
    return {
      ok: true,
      detail: `Connected to ${String(who.team ?? "the workspace")} as ${String(who.user ?? "the bot")}.`,
    };
  },
});
