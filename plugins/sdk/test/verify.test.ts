import { afterEach, describe, expect, it, vi } from "vitest";
import { clearKeyCache, signInvocation, verifySignature } from "../src/index.ts";
import { type KeyRing, keyRingFor } from "../src/keys.ts";
import { keys, stranger } from "./fixtures.ts";

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
    expect(await verifySignature(headers, body, ring(keys.jwks))).toEqual({ ok: true });
    const changed = new TextEncoder().encode('{"hello":"World"}');
    expect(await verifySignature(headers, changed, ring(keys.jwks))).toMatchObject({ code: "bad_signature" });
  });

  it("trusts any key in the set, so the platform can rotate", async () => {
    const both = { keys: [...stranger.jwks.keys, ...keys.jwks.keys] };
    expect(await verifySignature(await headersFor(keys.privateJwk), body, ring(both))).toEqual({ ok: true });
  });

  it("judges staleness against the verifier's clock, 5 minutes either way", async () => {
    const headers = await headersFor(keys.privateJwk, { "webhook-timestamp": "1000000000" });
    const verdict = await verifySignature(headers, body, ring(keys.jwks), 1_000_000_000 + 301);
    expect(verdict).toMatchObject({ ok: false, code: "stale_timestamp" });
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
