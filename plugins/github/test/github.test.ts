import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { invoke, signedPost } from "../../core/test/helpers.ts";

const connection = (extra: Record<string, unknown> = {}) => ({
  token: "ghp_good",
  api_url: env.GITHUB_API,
  ...extra,
});
const call = (operator: string, input: unknown, extra: Record<string, unknown> = {}, overrides = {}) =>
  invoke(operator, input, { connection: connection(extra), ...overrides });
const state = async () =>
  (await (await fetch(`${env.GITHUB_API}/_state`)).json()) as {
    issues: Array<{ number: number; title: string; body: string }>;
    comments: Array<{ issue: number; body: string }>;
    dispatches: Array<{ workflow: string; ref: string; inputs: unknown }>;
  };
const app = { owner: "acme", repo: "app" };

describe("github against a stand-in for its REST API", () => {
  it("opens an issue, comments on it, dispatches a workflow and reads a file", async () => {
    const opened = await call("create-issue", {
      ...app,
      title: "Nightly failed",
      body: "See run 42",
      labels: ["ops"],
    });
    expect(opened.body).toMatchObject({
      status: "success",
      output: { url: expect.stringContaining("/issues/") },
    });
    const { number } = opened.body.output as { number: number };
    const comment = await call("add-comment", { ...app, issue_number: number, body: "Retrying now." });
    expect(comment.body).toMatchObject({ status: "success" });
    const dispatched = await call("dispatch-workflow", {
      ...app,
      workflow: "ci.yml",
      ref: "main",
      inputs: { env: "prod" },
    });
    expect(dispatched.body.output).toEqual({ dispatched: true, workflow: "ci.yml", ref: "main" });
    const file = await call("get-file", { ...app, path: "README.md" });
    expect(file.body.output).toMatchObject({ content: "# App\nHello, ünï\n", sha: "abc123" });
    const big = await call("get-file", { ...app, path: "big.bin" });
    expect(big.body.output).toMatchObject({
      size: 2_000_000,
      download_url: expect.stringContaining("big.bin"),
    });
    expect((big.body.output as { content?: string }).content).toBeUndefined();
    const seen = await state();
    expect(seen.issues.find((i) => i.number === number)?.body).toMatch(/^See run 42\n\n<!-- updraft:key-/);
    expect(seen.dispatches.at(-1)).toEqual({ workflow: "ci.yml", ref: "main", inputs: { env: "prod" } });
  });

  it("does not open the issue twice when a retried attempt finds the one its earlier attempt opened", async () => {
    const key = `key-${crypto.randomUUID()}`;
    const deadline = new Date(Date.now() + 1_000).toISOString();
    const first = await call(
      "create-issue",
      { ...app, title: "slow" },
      {},
      { idempotency_key: key, deadline },
    );
    expect(first.body).toMatchObject({ status: "failure", retryable: true });
    const again = await call(
      "create-issue",
      { ...app, title: "slow" },
      {},
      { idempotency_key: key, attempt: 2 },
    );
    expect(again.body).toMatchObject({ status: "success" });
    expect((await state()).issues.filter((i) => i.body.includes(key))).toHaveLength(1);
  });

  it("backs off on the secondary and the primary rate limits for as long as GitHub says", async () => {
    const busy = await call("create-issue", { owner: "acme", repo: "busy", title: "x" });
    expect(busy.body).toMatchObject({ status: "failure", retryable: true, retry_after_ms: 3_000 });
    const spent = await call("get-file", { owner: "acme", repo: "spent", path: "README.md" });
    expect(spent.body).toMatchObject({ status: "failure", retryable: true });
    expect(Number(spent.body.retry_after_ms)).toBeGreaterThanOrEqual(1_000);
    expect(Number(spent.body.retry_after_ms)).toBeLessThanOrEqual(6_000);
  });

  it("fails without retry on a bad token, a missing repository, a bad ref or a directory; the token is never shown", async () => {
    const canary = "ghp_canary0123456789";
    const denied = await call("create-issue", { ...app, title: "x" }, { token: canary });
    expect(denied.body).toMatchObject({ status: "failure", retryable: false });
    expect(String(denied.body.error)).toContain("Bad credentials");
    expect(JSON.stringify(denied.body)).not.toContain(canary);
    const missing = await call("add-comment", { owner: "acme", repo: "nope", issue_number: 1, body: "x" });
    expect(String(missing.body.error)).toMatch(/404.*cannot see it/);
    const badRef = await call("dispatch-workflow", { ...app, workflow: "ci.yml", ref: "nope" });
    expect(badRef.body).toMatchObject({ status: "failure", retryable: false });
    expect(String(badRef.body.error)).toContain("No ref found for: nope");
    const dir = await call("get-file", { ...app, path: "src" });
    expect(dir.body).toMatchObject({ status: "failure", retryable: false });
    const huge = await call("get-file", { ...app, path: "huge.json" });
    expect(huge.body).toMatchObject({ status: "failure", retryable: false });
    expect(String(huge.body.error)).toContain("larger than");
  });

  it("tests the connection against /rate_limit", async () => {
    const good = await signedPost("/connection/test", { connection: connection() });
    expect(good.body).toMatchObject({ ok: true, detail: expect.stringContaining("4999 of 5000") });
    const bad = await signedPost("/connection/test", { connection: connection({ token: "ghp_wrong" }) });
    expect(bad.body).toMatchObject({ ok: false });
    expect(String(bad.body.detail)).toContain("Bad credentials");
  });
});
