/** The Node host adapter over real HTTP, with signed requests and a real callback receiver. */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runConformance } from "../src/conformance.ts";
import { type NodePluginServer, serveNode } from "../src/node.ts";
import { hello, invocation, keys, signedRequest } from "./fixtures.ts";

let plugin: NodePluginServer;
let callbackUrl: string;
const received: unknown[] = [];
let closeReceiver: () => Promise<void>;

beforeAll(async () => {
  const receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      received.push({
        path: request.url,
        id: request.headers["updraft-invocation-id"],
        body: JSON.parse(Buffer.concat(chunks).toString()),
      });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  callbackUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/callbacks/abc`;
  closeReceiver = () => new Promise((resolve) => receiver.close(() => resolve()));
  plugin = await serveNode(hello, {
    basePath: "/hello",
    env: () => ({ UPDRAFT_JWKS: JSON.stringify(keys.jwks) }),
  });
});

afterAll(async () => {
  await plugin.close();
  await closeReceiver();
});

describe("serveNode", () => {
  it("serves the manifest under its base path", async () => {
    expect(plugin.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/hello$/);
    const response = await fetch(`${plugin.url}/manifest`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ protocol: 1, name: "hello", version: "1.2.3" });
  });

  it("runs an operator for a signed request", async () => {
    const response = await fetch(
      await signedRequest(`${plugin.url}/operators/greet`, invocation({ name: "Lin", shout: true })),
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "success", output: { greeting: "HELLO, LIN" } });
  });

  it("refuses an unsigned request with 401", async () => {
    const response = await fetch(`${plugin.url}/operators/greet`, {
      method: "POST",
      body: JSON.stringify(invocation({})),
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ status: "failure", retryable: false, code: "unsigned" });
  });

  it("answers HEAD on the manifest without a body", async () => {
    const response = await fetch(`${plugin.url}/manifest`, { method: "HEAD" });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("");
  });

  it("delivers a background result to callback_url and waits for it on close", async () => {
    const body = invocation({ pages: 12 }, { invocation_id: "inv-bg", callback_url: callbackUrl });
    const response = await fetch(await signedRequest(`${plugin.url}/operators/report`, body));
    expect(response.status).toBe(202);
    await expect.poll(() => received.length).toBe(1);
    expect(received[0]).toEqual({
      path: "/callbacks/abc",
      id: "inv-bg",
      body: { status: "success", output: { pages: 12 } },
    });
  });

  it("passes the SDK's own conformance check, every operator included", async () => {
    // Callbacks of the sample calls go to a stand-in platform, so closing does not wait on their retries.
    const platform = { fetch: async () => new Response(null, { status: 204 }) };
    const served = await serveNode(hello, {
      env: { UPDRAFT_JWKS: JSON.stringify(keys.jwks), PLATFORM: platform },
    });
    try {
      const results = await runConformance(served.url, { privateJwk: keys.privateJwk });
      expect(results.filter((r) => r.status !== "passed")).toEqual([]);
      expect(results.map((r) => r.check)).toEqual([
        "manifest is valid protocol 1",
        "unsigned request is refused with 401",
        "stale timestamp is refused with 401",
        "tampered body is refused with 401",
        "a request addressed to another plugin is refused with 401",
        "a replayed request is refused with 401",
        "malformed invocation is refused with 4xx (not 401)",
        "input violating the schema fails without retry",
        ...hello.manifest.operators.map((op) => `operator ${op.name} answers a sample call`),
        "connection test answers {ok, detail}",
      ]);
    } finally {
      await served.close();
    }
  });

  it("answers 503 keys_unavailable, retryable, when no key source is configured", async () => {
    const bare = await serveNode(hello, { env: {} });
    try {
      const response = await fetch(
        await signedRequest(`${bare.url}/operators/greet`, invocation({ name: "x" })),
      );
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({
        status: "failure",
        retryable: true,
        code: "keys_unavailable",
      });
    } finally {
      await bare.close();
    }
  });
});

describe("runConformance against a plugin that skips verification", () => {
  it("flags the signature checks", async () => {
    const manifest = hello.manifest;
    const naive = createServer((request, response) => {
      request.resume();
      response.writeHead(200, { "content-type": "application/json" });
      response.end(
        JSON.stringify(request.url === "/manifest" ? manifest : { status: "success", output: {} }),
      );
    });
    await new Promise<void>((resolve) => naive.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(naive.address() as AddressInfo).port}`;
      const results = await runConformance(url, { privateJwk: keys.privateJwk });
      expect(results.filter((r) => r.status !== "passed").map((r) => r.check)).toEqual([
        "unsigned request is refused with 401",
        "stale timestamp is refused with 401",
        "tampered body is refused with 401",
        "a request addressed to another plugin is refused with 401",
        "a replayed request is refused with 401",
        "malformed invocation is refused with 4xx (not 401)",
        "input violating the schema fails without retry",
        "connection test answers {ok, detail}",
      ]);
    } finally {
      await new Promise((resolve) => naive.close(resolve));
    }
  });

  it("reports a check it cannot run as skipped, not passed", async () => {
    // Every operator takes any object: no input can violate its schema.
    const manifest = {
      ...hello.manifest,
      operators: hello.manifest.operators.map((op) => ({ ...op, input: { type: "object" } })),
    };
    const open = createServer((request, response) => {
      request.resume();
      response.writeHead(200, { "content-type": "application/json" });
      response.end(
        JSON.stringify(request.url === "/manifest" ? manifest : { status: "success", output: {} }),
      );
    });
    await new Promise<void>((resolve) => open.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(open.address() as AddressInfo).port}`;
      const results = await runConformance(url, { privateJwk: keys.privateJwk });
      expect(results.find((r) => r.check === "input violating the schema fails without retry")).toEqual({
        check: "input violating the schema fails without retry",
        status: "skipped",
        detail: "every operator accepts any input",
      });
    } finally {
      await new Promise((resolve) => open.close(resolve));
    }
  });

  it("reports an unreachable plugin as a failed manifest check instead of throwing", async () => {
    const results = await runConformance("http://127.0.0.1:1", { privateJwk: keys.privateJwk });
    expect(results).toEqual([
      {
        check: "manifest is valid protocol 1",
        status: "failed",
        detail: expect.stringContaining("request failed"),
      },
    ]);
  });
});
