import { afterEach, describe, expect, it, vi } from "vitest";
import {
  clearKeyCache,
  clearSeenDeliveries,
  firstDelivery,
  handlePluginRequest,
  MAX_SEEN_IDS,
  signInvocation,
  verifySignature,
} from "../src/index.ts";
import { type KeyRing, keyRingFor } from "../src/keys.ts";
import { hello, invocation, keys, stranger } from "./fixtures.ts";

const ring = (jwks: unknown): KeyRing => keyRingFor({ UPDRAFT_JWKS: JSON.stringify(jwks) }, fetch);
const body = new TextEncoder().encode('{"hello":"world"}');

async function headersFor(jwk: JsonWebKey, overrides: Record<string, string> = {}) {
  return new Headers({ ...(await signInvocation({ privateJwk: jwk, body })), ...overrides });
}

afterEach(() => {
  clearKeyCache();
  vi.useRealTimers();
});

describe("verifySignature", () => {
  it("accepts the bytes that were signed and nothing else", async () => {
    const headers = await headersFor(keys.privateJwk);
    expect(await verifySignature(headers, body, ring(keys.jwks))).toEqual({
      ok: true,
      id: headers.get("webhook-id"),
      timestamp: Number(headers.get("webhook-timestamp")),
    });
    const changed = new TextEncoder().encode('{"hello":"World"}');
    expect(await verifySignature(headers, changed, ring(keys.jwks))).toMatchObject({ code: "bad_signature" });
  });

  it("trusts any key in the set, so the platform can rotate", async () => {
    const both = { keys: [...stranger.jwks.keys, ...keys.jwks.keys] };
    const verdict = await verifySignature(await headersFor(keys.privateJwk), body, ring(both));
    expect(verdict.ok).toBe(true);
  });

  it("judges staleness against the verifier's clock, 5 minutes either way", async () => {
    const headers = await headersFor(keys.privateJwk, { "webhook-timestamp": "1000000000" });
    const verdict = await verifySignature(headers, body, ring(keys.jwks), 1_000_000_000 + 301);
    expect(verdict).toMatchObject({ ok: false, code: "stale_timestamp" });
  });
});

describe("who a signed request may reach", () => {
  const host = {
    env: { UPDRAFT_JWKS: JSON.stringify(keys.jwks) },
    waitUntil: () => {},
    platformFetch: () => Promise.resolve(new Response(null, { status: 204 })),
  };
  const post = async (path: string, text: string, headers: Record<string, string>) => {
    const request = new Request(`https://hello.plugin${path}`, { method: "POST", headers, body: text });
    const response = await handlePluginRequest(hello, request, host);
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  };
  const signedPost = async (path: string, body: unknown) => {
    const text = JSON.stringify(body);
    return post(path, text, await signInvocation({ privateJwk: keys.privateJwk, body: text }));
  };

  afterEach(() => clearSeenDeliveries());

  it("refuses a webhook-id it has already accepted, signature valid or not", async () => {
    const text = JSON.stringify(invocation({ name: "Ada" }));
    const headers = await signInvocation({ privateJwk: keys.privateJwk, body: text });
    expect((await post("/operators/greet", text, headers)).status).toBe(200);
    const again = await post("/operators/greet", text, headers);
    expect(again).toEqual({
      status: 401,
      json: {
        status: "failure",
        error: expect.stringContaining("already"),
        retryable: false,
        code: "replayed",
      },
    });
    // Only verified requests are remembered: a forged one cannot use up an id the platform will send.
    const fresh = await signInvocation({ privateJwk: keys.privateJwk, body: text });
    const forged = { ...fresh, "webhook-signature": headers["webhook-signature"] ?? "" };
    expect((await post("/operators/greet", text, forged)).json.code).toBe("bad_signature");
    expect((await post("/operators/greet", text, fresh)).status).toBe(200);
  });

  it("refuses a request addressed to another plugin, for operators and connection tests alike", async () => {
    const operator = await signedPost("/operators/greet", invocation({ name: "Ada" }, { plugin: "slack" }));
    expect(operator).toEqual({
      status: 401,
      json: {
        status: "failure",
        error: 'the request is addressed to plugin "slack", not hello',
        retryable: false,
        code: "wrong_recipient",
      },
    });
    const test = await signedPost("/connection/test", { connection: {}, plugin: "slack" });
    expect(test).toMatchObject({ status: 401, json: { code: "wrong_recipient" } });
    // Before anything else is revealed: an operator this plugin lacks is not a 404 to another's request.
    const missing = await signedPost("/operators/post-message", invocation({}, { plugin: "slack" }));
    expect(missing).toMatchObject({ status: 401, json: { code: "wrong_recipient" } });
  });

  it("accepts a request naming this plugin, or naming none (an older platform)", async () => {
    const named = await signedPost("/operators/greet", invocation({ name: "Ada" }, { plugin: "hello" }));
    expect(named).toMatchObject({ status: 200, json: { status: "success" } });
    const unnamed = await signedPost("/operators/greet", invocation({ name: "Ada" }));
    expect(unnamed).toMatchObject({ status: 200, json: { status: "success" } });
    const test = await signedPost("/connection/test", {
      connection: { workspace: "main", token: "valid" },
      plugin: "hello",
    });
    expect(test).toEqual({ status: 200, json: { ok: true, detail: "workspace main" } });
  });

  it("refuses a recipient that is not a plugin name as an invalid body", async () => {
    const answer = await signedPost("/operators/greet", invocation({ name: "Ada" }, { plugin: 7 }));
    expect(answer).toMatchObject({ status: 400, json: { code: "invalid_invocation" } });
  });
});

describe("firstDelivery", () => {
  afterEach(() => clearSeenDeliveries());

  it("remembers an id until its timestamp is stale anyway", () => {
    expect(firstDelivery("msg_a", 1_000, 1_000)).toBe(true);
    expect(firstDelivery("msg_a", 1_000, 1_300)).toBe(false);
    // At 1,301 a request signed at 1,000 is refused as stale, so its id need not be kept.
    expect(firstDelivery("msg_a", 1_301, 1_301)).toBe(true);
  });

  it("keeps at most MAX_SEEN_IDS ids, forgetting the oldest first", () => {
    for (let i = 0; i <= MAX_SEEN_IDS; i++) expect(firstDelivery(`msg_${i}`, 1_000, 1_000)).toBe(true);
    expect(firstDelivery(`msg_${MAX_SEEN_IDS}`, 1_000, 1_000)).toBe(false);
    expect(firstDelivery("msg_1", 1_000, 1_000)).toBe(false);
    expect(firstDelivery("msg_0", 1_000, 1_000)).toBe(true);
  });
});

describe("key sources", () => {
  const jwksResponse = (jwks: unknown) =>
    new Response(JSON.stringify(jwks), { headers: { "content-type": "application/json" } });

  it("fetches the JWKS through the PLATFORM binding and caches it", async () => {
    const platform = { fetch: vi.fn(async (_request: Request) => jwksResponse(keys.jwks)) };
    const env = { PLATFORM: platform };
    const source = keyRingFor(env, (request) => platform.fetch(request));
    await source.lookup("sdk-test");
    await source.lookup(undefined);
    expect(platform.fetch).toHaveBeenCalledTimes(1);
    expect(new URL(String(platform.fetch.mock.calls[0]?.[0].url)).pathname).toBe("/.well-known/jwks.json");
  });

  it("refetches for an unknown key id, but at most every 30 seconds", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    let served: unknown = keys.jwks;
    const fetcher = vi.fn(async (_request: Request) => jwksResponse(served));
    const source = keyRingFor({ PLATFORM: {} }, fetcher);
    await source.lookup("sdk-test");
    served = { keys: [...keys.jwks.keys, ...stranger.jwks.keys] };
    await source.lookup("stranger");
    expect(fetcher).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(31_000);
    const found = await source.lookup("stranger");
    expect(fetcher).toHaveBeenCalledTimes(2);
    expect(found.map((k) => k.kid)).toEqual(["stranger"]);
    vi.advanceTimersByTime(5 * 60_000);
    await source.lookup(undefined);
    expect(fetcher).toHaveBeenCalledTimes(3);
  });

  it("uses UPDRAFT_JWKS_URL when there is no inline set and no binding", async () => {
    const spy = vi.spyOn(globalThis, "fetch").mockResolvedValue(jwksResponse(keys.jwks));
    const found = await keyRingFor(
      { UPDRAFT_JWKS_URL: "https://updraft.test/.well-known/jwks.json" },
      fetch,
    ).lookup(undefined);
    expect(found).toHaveLength(1);
    expect(spy).toHaveBeenCalledOnce();
    spy.mockRestore();
  });

  it("does not cache a failed fetch", async () => {
    const fetcher = vi
      .fn<(request: Request) => Promise<Response>>()
      .mockResolvedValueOnce(new Response("down", { status: 502 }))
      .mockResolvedValueOnce(jwksResponse(keys.jwks));
    const source = keyRingFor({ PLATFORM: {} }, fetcher);
    await expect(source.lookup(undefined)).rejects.toThrow("answered 502");
    await expect(source.lookup(undefined)).resolves.toHaveLength(1);
  });

  it.each([
    ["nothing configured", {}, "set UPDRAFT_JWKS"],
    ["inline JSON that is not JSON", { UPDRAFT_JWKS: "{" }, "not valid JSON"],
    ["a set without Ed25519 keys", { UPDRAFT_JWKS: '{"keys":[{"kty":"RSA"}]}' }, "no usable Ed25519 keys"],
  ])("explains %s", async (_label, env, message) => {
    await expect(keyRingFor(env, fetch).lookup(undefined)).rejects.toThrow(message);
  });
});
