import { env } from "cloudflare:workers";
import { NonRetriableError } from "@updraft/plugin-sdk";
import { describe, expect, it } from "vitest";
import { send } from "../src/http/send.ts";
import { invoke } from "./helpers.ts";

const target = (path: string) => `${env.TARGET_ORIGIN}${path}`;

describe("core/http against a local target (private network allowed)", () => {
  it("sends method, headers, query and a JSON body; parses a JSON response", async () => {
    const answer = await invoke("http", {
      method: "POST",
      url: target("/echo?fixed=1"),
      headers: { "x-trace": "abc" },
      query: { tag: ["a", "b"], n: 2 },
      body: { hello: "world" },
    });
    expect(answer.body.status).toBe("success");
    const output = answer.body.output as {
      status: number;
      headers: Record<string, string>;
      body: Record<string, unknown>;
    };
    expect(output.status).toBe(200);
    expect(output.headers["x-target"]).toBe("yes");
    expect(output.body).toMatchObject({
      method: "POST",
      query: "?fixed=1&tag=a&tag=b&n=2",
      body: '{"hello":"world"}',
    });
    expect(output.body.headers).toMatchObject({ "x-trace": "abc", "content-type": "application/json" });
    expect(answer.body.logs).toEqual([
      expect.objectContaining({ level: "info", message: expect.stringContaining("→ 200") }),
    ]);
  });

  it("sends a string body as text and returns a text response as a string", async () => {
    const echoed = await invoke("http", { method: "PUT", url: target("/echo"), body: "raw text" });
    const body = (echoed.body.output as { body: { body: string; headers: Record<string, string> } }).body;
    expect(body.body).toBe("raw text");
    expect(body.headers["content-type"]).toBe("text/plain; charset=utf-8");
    const text = await invoke("http", { url: target("/text") });
    expect((text.body.output as { body: unknown }).body).toBe("plain words");
  });

  it.each([
    [500, true],
    [502, true],
    [429, true],
    [404, false],
    [400, false],
    [422, false],
  ])("maps a %i answer to a failure with retryable=%s", async (code, retryable) => {
    const answer = await invoke("http", { url: target(`/status?code=${code}`) });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ status: "failure", retryable });
    expect(String(answer.body.error)).toContain(`answered ${code}`);
  });

  it("says only the status when the error answer has no body", async () => {
    const answer = await invoke("http", { url: target("/status?code=429&retry_after=1&empty=1") });
    expect(answer.body).toMatchObject({ error: "the server answered 429" });
  });

  it("turns 429 and 503 with Retry-After into a 503 with Retry-After", async () => {
    for (const code of [429, 503]) {
      const answer = await invoke("http", { url: target(`/status?code=${code}&retry_after=7`) });
      expect(answer.status).toBe(503);
      expect(answer.headers.get("retry-after")).toBe("7");
      expect(answer.body).toMatchObject({ status: "failure", retryable: true, retry_after_ms: 7000 });
    }
  });

  it("fails without retry when the response is larger than 1 MiB", async () => {
    const answer = await invoke("http", { url: target("/big") });
    expect(answer.body).toMatchObject({ status: "failure", retryable: false });
    expect(String(answer.body.error)).toContain("larger than");
  });

  it("fails without retry when a chunked or compressed response grows past 1 MiB", async () => {
    for (const path of ["/big-chunked", "/big-gzip"]) {
      const answer = await invoke("http", { url: target(path) });
      expect(answer.body, path).toMatchObject({ status: "failure", retryable: false });
      expect(String(answer.body.error), path).toContain("larger than");
    }
  });

  it("retries a timeout", async () => {
    const answer = await invoke("http", { url: target("/slow?ms=3000"), timeout: "200ms" });
    expect(answer.body).toMatchObject({ status: "failure", retryable: true });
    expect(String(answer.body.error)).toContain("timed out after 200ms");
  });

  it("retries a connection error", async () => {
    const answer = await invoke("http", { url: "http://127.0.0.1:1/" });
    expect(answer.body).toMatchObject({ status: "failure", retryable: true });
  });

  it("follows redirects, turning a POST into a GET on 303", async () => {
    const answer = await invoke("http", {
      method: "POST",
      url: target(`/redirect?code=303&to=/echo`),
      body: { a: 1 },
    });
    const output = answer.body.output as { status: number; body: { method: string; body: string } };
    expect(output.status).toBe(200);
    expect(output.body).toMatchObject({ method: "GET", body: "" });
  });

  it("checks the destination again on every redirect hop", async () => {
    const guard = (url: URL) => (url.pathname === "/echo" ? "private by test decree" : null);
    const options = {
      method: "GET",
      headers: new Headers(),
      body: undefined,
      signal: new AbortController().signal,
      guard,
    };
    const hop = send(new URL(target("/redirect?to=/echo")), options);
    await expect(hop).rejects.toBeInstanceOf(NonRetriableError);
    await expect(send(new URL(target("/redirect?to=/echo")), options)).rejects.toThrow(
      "private by test decree",
    );
  });

  it("sends the invocation's idempotency key as Idempotency-Key", async () => {
    const answer = await invoke("http", { url: target("/echo") }, { idempotency_key: "key-run-1-step" });
    const output = answer.body.output as { body: { headers: Record<string, string> } };
    expect(output.body.headers["idempotency-key"]).toBe("key-run-1-step");
  });

  it("keeps an Idempotency-Key the task sets itself, in any case", async () => {
    for (const name of ["Idempotency-Key", "idempotency-key", "IDEMPOTENCY-KEY"]) {
      const answer = await invoke(
        "http",
        { method: "POST", url: target("/echo"), headers: { [name]: "order-42" }, body: { a: 1 } },
        { idempotency_key: "key-from-platform" },
      );
      const output = answer.body.output as { body: { headers: Record<string, string> } };
      expect(output.body.headers["idempotency-key"]).toBe("order-42");
    }
  });

  it("refuses a body on GET as an input error", async () => {
    const answer = await invoke("http", { url: target("/echo"), body: { a: 1 } });
    expect(answer.body).toMatchObject({ status: "failure", retryable: false });
    expect(String(answer.body.error)).toContain("input.body");
  });

  it("refuses schemes other than http and https", async () => {
    const answer = await invoke("http", { url: "file:///etc/passwd" });
    expect(answer.body).toMatchObject({ status: "failure", retryable: false });
  });
});
