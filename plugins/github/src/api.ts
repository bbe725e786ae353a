/**
 * GitHub's REST API: requests with the token and the versioned media type, answers mapped to the SDK's
 * result kinds with GitHub's own message — primary and secondary rate limits become back-offs until
 * GitHub says to come back. The token never appears in what is returned.
 */
import { NonRetriableError, RetryAfterError, secret } from "@updraft/plugin-sdk";
import { assertPublicDestination, readJsonCapped } from "@updraft/plugin-sdk/network";
import { z } from "zod";

export const Connection = z.strictObject({
  token: secret(z.string().min(1).max(500)).describe(
    "A fine-grained personal access token or a GitHub App installation token with the repositories' permissions.",
  ),
  api_url: z
    .url({ protocol: /^https?$/ })
    .default("https://api.github.com")
    .describe("https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise Server."),
});
export type Connection = z.output<typeof Connection>;

export const Owner = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,38}$/, "a GitHub user or organisation");
export const Repo = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,100}$/, "a repository name")
  .refine((name) => name !== "." && name !== "..", "a repository name");

const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

export interface Call {
  method: "GET" | "POST" | "PATCH";
  path: string;
  body?: unknown;
  env: unknown;
  signal: AbortSignal;
  /** What the call does, for messages: "create-issue acme/app". */
  what: string;
}

/** A REST call; its JSON (null for 204), or the SDK error the answer stands for. */
export async function callGitHub(connection: Connection, call: Call): Promise<unknown> {
  const url = new URL(`${connection.api_url.replace(/\/+$/, "")}${call.path}`);
  assertPublicDestination(url, call.env, "the API URL");
  let response: Response;
  try {
    response = await fetch(url, {
      method: call.method,
      headers: {
        authorization: `Bearer ${connection.token}`,
        accept: "application/vnd.github+json",
        "x-github-api-version": "2022-11-28",
        "user-agent": "updraft-plugin-github",
        ...(call.body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: call.body === undefined ? undefined : JSON.stringify(call.body),
      redirect: "manual",
      signal: call.signal,
    });
  } catch (thrown) {
    throw new Error(
      `${call.what}: GitHub could not be reached: ${thrown instanceof Error ? thrown.message : thrown}`,
    );
  }
  if (Number(response.headers.get("content-length") ?? 0) > MAX_ANSWER_BYTES) {
    await response.body?.cancel();
    throw new NonRetriableError(`${call.what}: GitHub's answer is larger than ${MAX_ANSWER_BYTES} bytes`);
  }
  if (response.status === 204) return null;
  const json = (await readJsonCapped(response, MAX_ANSWER_BYTES)) as
    | { message?: unknown; errors?: Array<{ message?: unknown; code?: unknown; field?: unknown }> }
    | undefined;
  if (response.ok) return json;
  raise(response, json, call.what);
}

function raise(
  response: Response,
  json:
    | { message?: unknown; errors?: Array<{ message?: unknown; code?: unknown; field?: unknown }> }
    | undefined,
  what: string,
): never {
  const message = typeof json?.message === "string" ? json.message.slice(0, 300) : `HTTP ${response.status}`;
  const details = (json?.errors ?? [])
    .slice(0, 5)
    .map((e) => [e.field, e.code, e.message].filter((part) => typeof part === "string").join(" "))
    .filter(Boolean);
  const said = `${what}: GitHub answered ${response.status}: ${message}${details.length ? ` (${details.join("; ")})` : ""}`;
  const { status, headers } = response;
  if (status === 403 || status === 429) {
    const retryAfter = Number(headers.get("retry-after"));
    // Secondary rate limit: GitHub says how long to wait.
    if (Number.isFinite(retryAfter) && retryAfter > 0) throw new RetryAfterError(retryAfter * 1000, said);
    // Primary rate limit: none left until the reset.
    if (headers.get("x-ratelimit-remaining") === "0") {
      const reset = Number(headers.get("x-ratelimit-reset"));
      throw new RetryAfterError(
        Number.isFinite(reset) ? Math.max(1_000, reset * 1000 - Date.now()) : 60_000,
        said,
      );
    }
    if (status === 429) throw new RetryAfterError(60_000, said);
  }
  if (status >= 500) throw new Error(said);
  if (status === 401) throw new NonRetriableError(`${said} — check the connection's token`);
  if (status === 404)
    throw new NonRetriableError(
      `${said} — the repository or item does not exist, or the token cannot see it`,
    );
  throw new NonRetriableError(said);
}

/** The hidden line a created item carries, so a retried attempt finds what its earlier attempt made. */
export function marker(key: string): string {
  return `<!-- updraft:${key.replace(/[^A-Za-z0-9:/_.-]/g, "")} -->`;
}
