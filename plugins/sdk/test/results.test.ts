/** The result table: every way an operator can end, as the platform sees it on the wire. */
import { describe, expect, it } from "vitest";
import { call, invocation } from "./fixtures.ts";

const outcome = (kind: string, overrides: Record<string, unknown> = {}) =>
  call("/operators/outcome", invocation({ kind }, overrides));

describe("mapping operator results to the wire", () => {
  it("returns output with logs on success, after defaults are applied to the input", async () => {
    const { response, json } = await call("/operators/greet", invocation({ name: "Ada" }));
    expect(response.status).toBe(200);
    expect(json).toEqual({
      status: "success",
      output: { greeting: "Hello, Ada", tenant: "acme" },
      logs: [{ at: expect.any(String), level: "info", message: "greeting Ada" }],
    });
  });

  it("answers a NonRetriableError as a 200 failure without retry", async () => {
    const { response, json } = await outcome("fatal");
    expect(response.status).toBe(200);
    expect(json).toEqual({ status: "failure", error: "the record does not exist", retryable: false });
  });

  it("answers a RetryAfterError as 503 with Retry-After rounded up to seconds", async () => {
    const { response, json } = await outcome("rate-limited");
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("3");
    expect(json).toEqual({ status: "failure", error: "slow down", retryable: true, retry_after_ms: 2_500 });
  });

  it("answers any other thrown value as a retryable failure", async () => {
    expect((await outcome("crash")).json).toEqual({
      status: "failure",
      error: "socket hang up",
      retryable: true,
    });
    expect((await outcome("throw-string")).json).toEqual({
      status: "failure",
      error: "just a string",
      retryable: true,
    });
  });

  it("fails without retry when the operator's output violates its own schema", async () => {
    const { json } = await outcome("bad-output");
    expect(json).toMatchObject({ status: "failure", retryable: false });
    expect(String(json.error)).toContain("output.ok");
  });

  it("refuses waiting from an action: only sensors wait", async () => {
    const { json } = await outcome("wait");
    expect(json).toMatchObject({ status: "failure", retryable: false });
  });

  it("answers waiting with retry_after_ms from a sensor", async () => {
    const at = new Date(Date.now() + 60_000).toISOString();
    const { json } = await call("/operators/ready", invocation({ at }));
    expect(json.status).toBe("waiting");
    expect(Number(json.retry_after_ms)).toBeGreaterThan(59_000);
    const done = await call("/operators/ready", invocation({ at: new Date(Date.now() - 1).toISOString() }));
    expect(done.json).toEqual({ status: "success", output: {} });
  });

  it("answers at the deadline with a retryable failure when the operator hangs", async () => {
    const started = Date.now();
    const { json } = await outcome("hang", { deadline: new Date(Date.now() + 150).toISOString() });
    expect(json).toMatchObject({
      status: "failure",
      retryable: true,
      error: "the invocation deadline passed",
      code: "deadline_exceeded",
    });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("does not start an operator whose deadline has passed, and says so with a code", async () => {
    const { json } = await outcome("hang", { deadline: new Date(Date.now() - 1_000).toISOString() });
    expect(json).toEqual({
      status: "failure",
      error: "the deadline passed before the call",
      retryable: true,
      code: "deadline_exceeded",
    });
  });

  it("bounds logs to 100 entries of 2,000 characters and says how many were dropped", async () => {
    const { json } = await outcome("chatty");
    const logs = json.logs as Array<{ level: string; message: string }>;
    expect(logs).toHaveLength(101);
    expect(logs[0]?.message.length).toBeLessThanOrEqual(2_001);
    expect(logs[100]).toMatchObject({
      level: "warn",
      message: "50 more log entries were dropped (limit 100)",
    });
  });
});

describe("long-running operators", () => {
  it("answers 202 running, then POSTs the final result to callback_url", async () => {
    const { response, json, settled, callbacks } = await call("/operators/report", invocation({ pages: 3 }));
    expect(response.status).toBe(202);
    expect(json).toEqual({ status: "running" });
    await settled();
    expect(callbacks).toEqual([
      { url: "https://updraft.test/callbacks/inv-1", body: { status: "success", output: { pages: 3 } } },
    ]);
  });

  it("reports a background error through the same result table", async () => {
    const { settled, callbacks } = await call("/operators/report", invocation({ pages: 1, fail: true }));
    await settled();
    expect(callbacks[0]?.body).toEqual({ status: "failure", error: "printer on fire", retryable: false });
  });
});

describe("connection settings and context", () => {
  it("hands the operator its checked connection and the run context", async () => {
    const context = { params: { p: 1 }, trigger: { body: {} }, tasks: {}, run: { id: "r" }, item: "x" };
    const { json } = await call("/operators/whoami", invocation({}, { context }));
    expect(json).toEqual({ status: "success", output: { workspace: "main", context } });
  });

  it("gives a context operator empty defaults when the platform sent none", async () => {
    const { json } = await call("/operators/whoami", invocation({}));
    expect(json.output).toMatchObject({ context: { params: {}, tasks: {}, run: {} } });
  });

  it("fails without retry when the connection violates the plugin's schema, without echoing secrets", async () => {
    const { json } = await call(
      "/operators/greet",
      invocation({ name: "A" }, { connection: { workspace: 7 } }),
    );
    expect(json).toMatchObject({ status: "failure", retryable: false });
    expect((json.issues as Array<{ path: string }>).map((i) => i.path).sort()).toEqual([
      "connection.token",
      "connection.workspace",
    ]);
  });

  it.each([
    [
      { workspace: "main", token: "valid" },
      { ok: true, detail: "workspace main" },
    ],
    [
      { workspace: "main", token: "wrong" },
      { ok: false, detail: "workspace main" },
    ],
    [
      { workspace: "main", token: "expired" },
      { ok: false, detail: "token expired" },
    ],
    [{ workspace: "main" }, { ok: false, detail: expect.stringContaining("token") }],
  ])("tests a connection %j → %j", async (connection, expected) => {
    const { response, json } = await call("/connection/test", { connection });
    expect(response.status).toBe(200);
    expect(json).toEqual(expected);
  });
});
