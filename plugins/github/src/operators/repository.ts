/** `github/dispatch-workflow` and `github/get-file`. */
import { defineOperator, NonRetriableError } from "@updraft/plugin-sdk";
import { z } from "zod";
import { Connection, callGitHub, Owner, Repo } from "../api.ts";

const MAX_INLINE_BYTES = 1024 * 1024;

export const dispatchWorkflow = defineOperator({
  name: "dispatch-workflow",
  kind: "action",
  description:
    "Starts the GitHub Actions workflow `workflow` (its file name, e.g. deploy.yml, or id) of `owner`/`repo` " +
    "on `ref` with `inputs` (a workflow_dispatch event). GitHub takes no idempotency key: a retry after a " +
    "timeout can start it twice.",
  input: z.strictObject({
    owner: Owner,
    repo: Repo,
    workflow: z.string().regex(/^([A-Za-z0-9._-]{1,100}\.ya?ml|\d{1,20})$/, "a workflow file name or id"),
    ref: z.string().min(1).max(255),
    inputs: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  }),
  output: z.strictObject({ dispatched: z.literal(true), workflow: z.string(), ref: z.string() }),
  timeout: "30s",
  async run(ctx) {
    const { owner, repo, workflow, ref, inputs } = ctx.input;
    await callGitHub(Connection.parse(ctx.connection), {
      method: "POST",
      path: `/repos/${owner}/${repo}/actions/workflows/${encodeURIComponent(workflow)}/dispatches`,
      body: { ref, ...(inputs ? { inputs } : {}) },
      env: ctx.env,
      signal: ctx.signal,
      what: `dispatch-workflow ${owner}/${repo} ${workflow}`,
    });
    return { dispatched: true as const, workflow, ref };
  },
});

export const getFile = defineOperator({
  name: "get-file",
  kind: "action",
  description:
    "Reads the file `path` of `owner`/`repo` at `ref` (the default branch when absent) as text. A file " +
    "over 1 MiB is answered by reference: `download_url` instead of `content`.",
  input: z.strictObject({
    owner: Owner,
    repo: Repo,
    path: z
      .string()
      .min(1)
      .max(1024)
      .refine(
        (path) => path.split("/").every((part) => part !== "." && part !== ".."),
        "a path without . or .. parts",
      ),
    ref: z.string().max(255).optional(),
  }),
  output: z.strictObject({
    path: z.string(),
    sha: z.string(),
    size: z.number().int(),
    content: z.string().optional(),
    download_url: z.string().nullable(),
  }),
  timeout: "30s",
  async run(ctx) {
    const { owner, repo, path, ref } = ctx.input;
    const encoded = path.split("/").map(encodeURIComponent).join("/");
    const file = (await callGitHub(Connection.parse(ctx.connection), {
      method: "GET",
      path: `/repos/${owner}/${repo}/contents/${encoded}${ref ? `?ref=${encodeURIComponent(ref)}` : ""}`,
      env: ctx.env,
      signal: ctx.signal,
      what: `get-file ${owner}/${repo}/${path}`,
    })) as {
      type?: string;
      sha: string;
      size: number;
      content?: string;
      encoding?: string;
      download_url: string | null;
    };
    if (file.type !== "file")
      throw new NonRetriableError(`get-file: ${path} is a ${file.type ?? "thing"}, not a file`);
    const head = { path, sha: file.sha, size: file.size, download_url: file.download_url };
    if (file.size > MAX_INLINE_BYTES || file.encoding !== "base64" || file.content === undefined) return head;
    const bytes = Uint8Array.from(atob(file.content.replace(/\n/g, "")), (c) => c.charCodeAt(0));
    return { ...head, content: new TextDecoder().decode(bytes) };
  },
});
