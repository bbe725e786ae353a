/**
 * Slack's Web API: `POST {api_url}/{method}` with a JSON body and the bot token, answered
 * `{ok: true, …}` or `{ok: false, error}` (HTTP 200), or 429 with Retry-After. Each answer is mapped to
 * the SDK's result kinds with Slack's own error code; the token never appears in what is returned.
 */
import { NonRetriableError, RetryAfterError, secret } from "@updraft/plugin-sdk";
import { assertPublicDestination, readJsonCapped } from "@updraft/plugin-sdk/network";
import { z } from "zod";

export const Connection = z.strictObject({
  bot_token: secret(
    z
      .string()
      .regex(/^xox[bp]-[A-Za-z0-9-]{1,250}$/, "a bot token (xoxb-…) from your Slack app's OAuth page"),
  ),
  api_url: z
    .url({ protocol: /^https?$/ })
    .default("https://slack.com/api")
    .describe("Slack's Web API base URL; change it only for a proxy."),
});
export type Connection = z.output<typeof Connection>;

/** Errors that asking again will not fix: the token, its scopes, the channel, the message. */
const HOPELESS: Record<string, string> = {
  invalid_auth: "Slack refused the bot token (invalid_auth): reinstall the app or paste a new token",
  not_authed: "Slack received no bot token (not_authed)",
  account_inactive: "the bot's account is deactivated (account_inactive)",
  token_revoked: "the bot token was revoked (token_revoked)",
  missing_scope: "the bot token lacks a scope this call needs (missing_scope): add it in the app's settings",
  channel_not_found:
    "Slack has no such channel, or the bot cannot see it (channel_not_found): invite the bot",
  not_in_channel: "the bot is not a member of the channel (not_in_channel): invite it",
  is_archived: "the channel is archived (is_archived)",
  msg_too_long: "the message is too long for Slack (msg_too_long)",
  no_text: "the message has neither text nor blocks (no_text)",
  message_not_found: "Slack has no message with that ts in the channel (message_not_found)",
  cant_update_message: "the bot cannot edit that message (cant_update_message)",
  invalid_blocks: "Slack refused the blocks (invalid_blocks)",
};
/** Slack's own transient errors. */
const TRANSIENT = new Set(["internal_error", "fatal_error", "service_unavailable", "request_timeout"]);

const MAX_ANSWER_BYTES = 512 * 1024;

/**
 * Calls a Web API method; answers its JSON on `ok: true`, throws the SDK error it stands for otherwise.
 * Write methods take JSON; read methods (`read: true`, e.g. conversations.history) take query arguments.
 */
export async function callSlack(
  connection: Connection,
  method: string,
  body: Record<string, unknown>,
  options: { env: unknown; signal: AbortSignal; read?: boolean },
): Promise<Record<string, unknown>> {
  const url = new URL(`${connection.api_url.replace(/\/+$/, "")}/${method}`);
  assertPublicDestination(url, options.env, "the API URL");
  if (options.read)
    for (const [name, value] of Object.entries(body)) url.searchParams.set(name, String(value));
  let response: Response;
  try {
    response = await fetch(url, {
      method: options.read ? "GET" : "POST",
      headers: {
        authorization: `Bearer ${connection.bot_token}`,
        ...(options.read ? {} : { "content-type": "application/json; charset=utf-8" }),
      },
      body: options.read ? undefined : JSON.stringify(body),
      redirect: "manual",
      signal: options.signal,
    });
  } catch (thrown) {
    throw new Error(
      `${method}: Slack could not be reached: ${thrown instanceof Error ? thrown.message : thrown}`,
    );
  }
  if (response.status === 429) {
    await response.body?.cancel();
    const seconds = Number(response.headers.get("retry-after"));
    const wait = Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 30_000;
    throw new RetryAfterError(
      wait,
      `${method}: Slack rate-limited the call (429); retrying after ${wait / 1000}s`,
    );
  }
  if (response.status >= 500) {
    await response.body?.cancel();
    throw new Error(`${method}: Slack answered ${response.status}`);
  }
  const json = (await readJsonCapped(response, MAX_ANSWER_BYTES)) as Record<string, unknown> | undefined;
  if (typeof json !== "object" || json === null)
    throw new Error(`${method}: Slack answered ${response.status} without JSON`);
  if (json.ok === true) return json;
  const code = typeof json.error === "string" ? json.error.slice(0, 100) : "unknown_error";
  if (code === "ratelimited")
    throw new RetryAfterError(30_000, `${method}: Slack rate-limited the call (ratelimited)`);
  if (TRANSIENT.has(code)) throw new Error(`${method}: Slack failed (${code})`);
  throw new NonRetriableError(`${method}: ${HOPELESS[code] ?? `Slack refused the call (${code})`}`);
}
