import { describe, expect, it } from "vitest";
import { invocationBody, invoke, signedPost } from "./helpers.ts";

describe("invocation bodies", () => {
  it("answers 400 with paths when required fields are missing or mistyped", async () => {
    const { invocation_id: _dropped, ...rest } = invocationBody({});
    const answer = await signedPost("/operators/noop", { ...rest, attempt: 0 });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ status: "failure", retryable: false, code: "invalid_invocation" });
    const paths = (answer.body.issues as Array<{ path: string }>).map((issue) => issue.path);
    expect(paths).toEqual(expect.arrayContaining(["invocation_id", "attempt"]));
  });

  it("answers 400 to a body that is not JSON", async () => {
    const answer = await signedPost("/operators/noop", "{not json");
    expect(answer.status).toBe(400);
    expect(answer.body.code).toBe("malformed_json");
  });

  it("tolerates unknown top-level fields from a newer platform", async () => {
    const answer = await invoke("noop", {}, { priority: "high", trace: { id: "t" } });
    expect(answer.body).toEqual({ status: "success", output: {} });
  });

  it("accepts an unmapped task as map_index null and a null connection", async () => {
    const answer = await invoke("noop", { value: [1, 2] }, { map_index: null, connection: null });
    expect(answer.body).toEqual({ status: "success", output: { value: [1, 2] } });
  });

  it("fails without retry when the input violates the operator's schema, naming the paths", async () => {
    const answer = await invoke("http", { url: "not a url", method: "FETCH", extra: true });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ status: "failure", retryable: false });
    const paths = (answer.body.issues as Array<{ path: string }>).map((issue) => issue.path).sort();
    expect(paths).toEqual(["input", "input.method", "input.url"]);
    expect(String(answer.body.error)).toContain("input.url");
  });

  it("fails without retry, not with a crash, when the input is nested absurdly deep", async () => {
    const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    const text = JSON.stringify(invocationBody({ value: "DEEP" })).replace('"DEEP"', deep);
    const answer = await signedPost("/operators/noop", text);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ status: "failure", retryable: false });
  });

  it("fails retryably, without running the operator, once the deadline has passed", async () => {
    const answer = await invoke("noop", {}, { deadline: new Date(Date.now() - 1000).toISOString() });
    expect(answer.body).toMatchObject({ status: "failure", retryable: true });
  });
});

describe("noop and fail", () => {
  it("noop succeeds with an empty output and ignores unknown fields", async () => {
    const answer = await invoke("noop", { anything: "goes" });
    expect(answer.body).toEqual({ status: "success", output: {} });
  });

  it("fail is non-retryable by default with its message", async () => {
    const answer = await invoke("fail", { message: "boom" });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ status: "failure", error: "boom", retryable: false });
  });

  it("fail can be retryable", async () => {
    const answer = await invoke("fail", { retryable: true });
    expect(answer.body).toEqual({ status: "failure", error: "failed on purpose", retryable: true });
  });

  it("fail with retry_after answers 503 and Retry-After in seconds", async () => {
    const answer = await invoke("fail", { message: "slow down", retry_after: "90s" });
    expect(answer.status).toBe(503);
    expect(answer.headers.get("retry-after")).toBe("90");
    expect(answer.body).toEqual({
      status: "failure",
      error: "slow down",
      retryable: true,
      retry_after_ms: 90_000,
    });
  });
});
