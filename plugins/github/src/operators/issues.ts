/** `github/create-issue` and `github/add-comment`: each finds, on a retry, what its earlier attempt made. */
import { defineOperator } from "@updraft/plugin-sdk";
import { z } from "zod";
import { Connection, callGitHub, marker, Owner, Repo } from "../api.ts";

type Item = { id: number; number?: number; html_url: string; body?: string | null };

export const createIssue = defineOperator({
  name: "create-issue",
  kind: "action",
  description:
    "Opens an issue in `owner`/`repo` with `title`, `body`, `labels` and `assignees`. A retried attempt first " +
    "looks among the repository's newest issues for the one its earlier attempt opened.",
  input: z.strictObject({
    owner: Owner,
    repo: Repo,
    title: z.string().min(1).max(256),
    body: z.string().max(60_000).optional(),
    labels: z.array(z.string().max(50)).max(20).optional(),
    assignees: z.array(z.string().max(39)).max(10).optional(),
  }),
  output: z.strictObject({ number: z.number().int(), id: z.number().int(), url: z.string() }),
  timeout: "30s",
  async run(ctx) {
    const { owner, repo, ...fields } = ctx.input;
    const connection = Connection.parse(ctx.connection);
    const base = { env: ctx.env, signal: ctx.signal, what: `create-issue ${owner}/${repo}` };
    const tag = marker(ctx.invocation.idempotency_key);
    if (ctx.invocation.attempt > 1) {
      const recent = (await callGitHub(connection, {
        ...base,
        method: "GET",
        path: `/repos/${owner}/${repo}/issues?state=all&sort=created&direction=desc&per_page=30`,
      })) as Item[];
      const earlier = recent.find((issue) => issue.body?.includes(tag));
      if (earlier?.number !== undefined)
        return { number: earlier.number, id: earlier.id, url: earlier.html_url };
    }
    const body = `${fields.body ?? ""}\n\n${tag}`.trimStart();
    const issue = (await callGitHub(connection, {
      ...base,
      method: "POST",
      path: `/repos/${owner}/${repo}/issues`,
      body: { ...fields, body },
    })) as Item;
    ctx.log("info", `opened ${owner}/${repo}#${issue.number}`);
    return { number: issue.number ?? 0, id: issue.id, url: issue.html_url };
  },
});

export const addComment = defineOperator({
  name: "add-comment",
  kind: "action",
  description:
    "Comments `body` on issue or pull request `issue_number` of `owner`/`repo`. A retried attempt first looks " +
    "among the issue's comments since the task started for the one its earlier attempt made.",
  input: z.strictObject({
    owner: Owner,
    repo: Repo,
    issue_number: z.number().int().min(1),
    body: z.string().min(1).max(60_000),
  }),
  output: z.strictObject({ id: z.number().int(), url: z.string() }),
  timeout: "30s",
  async run(ctx) {
    const { owner, repo, issue_number, body } = ctx.input;
    const connection = Connection.parse(ctx.connection);
    const base = { env: ctx.env, signal: ctx.signal, what: `add-comment ${owner}/${repo}#${issue_number}` };
    const tag = marker(ctx.invocation.idempotency_key);
    const path = `/repos/${owner}/${repo}/issues/${issue_number}/comments`;
    if (ctx.invocation.attempt > 1) {
      // Comments since the task instance first started: its earlier attempt's, whatever the issue's age.
      const since = ctx.invocation.task_started_at ?? new Date(Date.now() - 86_400_000).toISOString();
      const recent = (await callGitHub(connection, {
        ...base,
        method: "GET",
        path: `${path}?per_page=100&since=${encodeURIComponent(since)}`,
      })) as Item[];
      const earlier = recent.find((comment) => comment.body?.includes(tag));
      if (earlier) return { id: earlier.id, url: earlier.html_url };
    }
    const comment = (await callGitHub(connection, {
      ...base,
      method: "POST",
      path,
      body: { body: `${body}\n\n${tag}` },
    })) as Item;
    return { id: comment.id, url: comment.html_url };
  },
});
