/** Catalog entry for the GitHub plugin; the operators live in `operators/`. */
import { definePlugin } from "@updraft/plugin-sdk";
import { Connection, callGitHub } from "./api.ts";
import { addComment, createIssue } from "./operators/issues.ts";
import { dispatchWorkflow, getFile } from "./operators/repository.ts";

export const github = definePlugin({
  name: "github",
  version: "1.0.0",
  title: "GitHub",
  description:
    "Opens issues, comments, starts Actions workflows and reads files through GitHub's REST API with a token; " +
    "rate limits (primary and secondary) become back-offs, and a retried create finds what it made before.",
  categories: ["developer", "git"],
  icon:
    "data:image/svg+xml;base64," +
    btoa(
      '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><circle cx="12" cy="12" r="9" fill="none" ' +
        'stroke="#111827" stroke-width="2"/><path d="M9 20v-3c0-1 .5-2 1.5-2.5M15 20v-3c0-1-.5-2-1.5-2.5" ' +
        'fill="none" stroke="#111827" stroke-width="2"/></svg>',
    ),
  homepage: "https://github.com/updraft/updraft/tree/main/plugins/github",
  connection: Connection,
  operators: [createIssue, addComment, dispatchWorkflow, getFile],
  async testConnection(raw, ctx) {
    // A throw is a failed test with its message: the SDK's connection test says so (bounded).
    const connection = Connection.parse(raw);
    const limits = (await callGitHub(connection, {
      method: "GET",
      path: "/rate_limit",
      env: ctx.env,
      signal: ctx.signal,
      what: "the connection test",
    })) as { rate?: { remaining?: number; limit?: number } } | null;
    const rate = limits?.rate;
    return {
      ok: true,
      detail: `GitHub accepts the token (${rate?.remaining ?? "?"} of ${rate?.limit ?? "?"} requests left this hour).`,
    };
  },
});
