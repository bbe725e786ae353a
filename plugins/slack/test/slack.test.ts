import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { invoke, signedPost } from "../../core/test/helpers.ts";

const TOKEN = "xoxb-good";
const connection = (extra: Record<string, unknown> = {}) => ({
  bot_token: TOKEN,
  api_url: env.SLACK_API,
  ...extra,
});
const call = (operator: string, input: unknown, extra: Record<string, unknown> = {}, overrides = {}) =>
  invoke(operator, input, { connection: connection(extra), ...overrides });
const posted = async () =>
  (await (await fetch(env.SLACK_API.replace(/\/api$/, "/messages"))).json()) as Array<{
    channel: string;
    ts: string;
    text?: string;
    thread_ts?: string;
  }>;

describe("slack against a stand-in for its Web API", () => {
  it("posts a message, replies in its thread and updates it", async () => {
    const first = await call("post-message", { channel: "C0GENERAL", text: "Deploy started" });
    expect(first.body).toMatchObject({ status: "success", output: { channel: "C0GENERAL" } });
    const { ts } = first.body.output as { ts: string };
    const reply = await call("post-message", { channel: "C0GENERAL", text: "step 1 done", thread_ts: ts });
    expect(reply.body.output).toMatchObject({ thread_ts: ts });
    const edited = await call("update-message", { channel: "C0GENERAL", ts, text: "Deploy finished" });
    expect(edited.body).toMatchObject({ status: "success", output: { ts } });
    const messages = await posted();
    expect(messages.find((m) => m.ts === ts)?.text).toBe("Deploy finished");
    expect(messages.some((m) => m.thread_ts === ts && m.text === "step 1 done")).toBe(true);
  });

  it("does not post twice when a retried attempt finds the message its earlier attempt sent", async () => {
    const key = `key-${crypto.randomUUID()}`;
    const before = (await posted()).length;
    // Attempt 1 times out (the stand-in accepts the post, then answers after 3 s).
    const slow = await call(
      "post-message",
      { channel: "C0SLOW", text: "once" },
      {},
      { idempotency_key: key, deadline: new Date(Date.now() + 1_000).toISOString() },
    );
    expect(slow.body).toMatchObject({ status: "failure", retryable: true });
    const retried = await call(
      "post-message",
      { channel: "C0SLOW", text: "once" },
      {},
      { idempotency_key: key, attempt: 2 },
    );
    expect(retried.body).toMatchObject({ status: "success" });
    const mine = (await posted()).slice(before).filter((m) => m.text === "once");
    expect(mine).toHaveLength(1);
    expect((retried.body.output as { ts: string }).ts).toBe(mine[0]?.ts);
    // The same for a reply in a thread, which only the thread's replies show.
    const thread = (mine[0]?.ts ?? "") as string;
    const replyKey = `key-${crypto.randomUUID()}`;
    const input = { channel: "C0SLOW", text: "in thread", thread_ts: thread };
    const deadline = new Date(Date.now() + 1_000).toISOString();
    expect((await call("post-message", input, {}, { idempotency_key: replyKey, deadline })).body.status).toBe(
      "failure",
    );
    const again = await call("post-message", input, {}, { idempotency_key: replyKey, attempt: 2 });
    expect(again.body).toMatchObject({ status: "success", output: { thread_ts: thread } });
    expect((await posted()).filter((m) => m.text === "in thread")).toHaveLength(1);
  });

  it("turns Slack's 429 into a back-off of its Retry-After, and a 500 or garbage into a retry", async () => {
    const limited = await call("post-message", { channel: "C0RATE", text: "hi" });
    expect(limited.status).toBe(503);
    expect(limited.body).toMatchObject({ status: "failure", retryable: true, retry_after_ms: 2_000 });
    expect((await call("post-message", { channel: "C0RATE", text: "hi" })).body).toMatchObject({
      status: "success",
    });
    const broken = await call("post-message", { channel: "C0BOOM", text: "hi" });
    expect(broken.body).toMatchObject({ status: "failure", retryable: true });
    const garbage = await call("post-message", { channel: "C0GARBAGE", text: "hi" });
    expect(garbage.body).toMatchObject({ status: "failure", retryable: true });
    expect(String(garbage.body.error)).toContain("without JSON");
  });

  it("fails without retry on a bad token or a channel that does not exist, never showing the token", async () => {
    const canary = "xoxb-canary-0123456789";
    const denied = await call("post-message", { channel: "C0GENERAL", text: "x" }, { bot_token: canary });
    expect(denied.body).toMatchObject({ status: "failure", retryable: false });
    expect(String(denied.body.error)).toContain("invalid_auth");
    expect(JSON.stringify(denied.body)).not.toContain(canary);
    const nowhere = await call("post-message", { channel: "C0NOPE", text: "x" });
    expect(nowhere.body).toMatchObject({ status: "failure", retryable: false });
    expect(String(nowhere.body.error)).toContain("channel_not_found");
    const unknown = await call("update-message", { channel: "C0GENERAL", ts: "1.2", text: "x" });
    expect(String(unknown.body.error)).toContain("message_not_found");
  });

  it("refuses input without text or blocks, and a token that is not a bot token", async () => {
    const empty = await call("post-message", { channel: "C0GENERAL" });
    expect(empty.body).toMatchObject({ status: "failure", retryable: false });
    const odd = await call("post-message", { channel: "C0GENERAL", text: "x" }, { bot_token: "password" });
    expect(odd.body).toMatchObject({ status: "failure", retryable: false });
    expect(JSON.stringify(odd.body)).not.toContain('"password"');
  });

  it("tests the connection with auth.test", async () => {
    const good = await signedPost("/connection/test", { connection: connection() });
    expect(good.body).toEqual({ ok: true, detail: "Connected to Updraft Test as updraft-bot." });
    const bad = await signedPost("/connection/test", { connection: connection({ bot_token: "xoxb-wrong" }) });
    expect(bad.body).toMatchObject({ ok: false });
    expect(String(bad.body.detail)).toContain("invalid_auth");
  });
});
