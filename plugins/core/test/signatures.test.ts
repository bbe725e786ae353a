import { env } from "cloudflare:workers";
import { signInvocation } from "@updraft/plugin-sdk";
import { describe, expect, it } from "vitest";
import { BASE, invocationBody, send, signedPost } from "./helpers.ts";

const path = "/operators/noop";
const now = () => Math.floor(Date.now() / 1000);

async function post(body: string, headers: Record<string, string>) {
  return send(new Request(`${BASE}${path}`, { method: "POST", headers, body }));
}

describe("signature verification", () => {
  it("accepts a request signed with the platform's key", async () => {
    const answer = await signedPost(path, invocationBody({ value: 1 }));
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ status: "success", output: { value: 1 } });
  });

  it("refuses an unsigned request with 401 in result shape", async () => {
    const answer = await post(JSON.stringify(invocationBody({})), { "content-type": "application/json" });
    expect(answer.status).toBe(401);
    expect(answer.body).toMatchObject({ status: "failure", retryable: false, code: "unsigned" });
  });

  it("refuses a timestamp more than five minutes old or ahead", async () => {
    for (const timestamp of [now() - 301, now() + 301]) {
      const answer = await signedPost(path, invocationBody({}), { timestamp });
      expect(answer.status).toBe(401);
      expect(answer.body.code).toBe("stale_timestamp");
    }
    const withinTolerance = await signedPost(path, invocationBody({}), { timestamp: now() - 240 });
    expect(withinTolerance.status).toBe(200);
  });

  it("refuses a body changed after signing", async () => {
    const body = JSON.stringify(invocationBody({ value: "original" }));
    const headers = await signInvocation({ privateJwk: env.TEST_SIGNING_JWK, body });
    const answer = await post(body.replace("original", "tampered"), headers);
    expect(answer.status).toBe(401);
    expect(answer.body.code).toBe("bad_signature");
  });

  it("refuses a request signed with a key the platform does not publish", async () => {
    const answer = await signedPost(path, invocationBody({}), { jwk: env.TEST_STRANGER_JWK });
    expect(answer.status).toBe(401);
    expect(answer.body.code).toBe("bad_signature");
  });

  it("refuses a signature signed for another webhook-id", async () => {
    const body = JSON.stringify(invocationBody({}));
    const headers = await signInvocation({ privateJwk: env.TEST_SIGNING_JWK, body, id: "msg_one" });
    const answer = await post(body, { ...headers, "webhook-id": "msg_two" });
    expect(answer.status).toBe(401);
  });

  it.each([
    ["no v1a entry", { "webhook-signature": "v1,c2lnbmF0dXJl" }],
    ["not base64", { "webhook-signature": "v1a,@@@not-base64@@@" }],
    ["wrong length", { "webhook-signature": "v1a,c2hvcnQ=" }],
    ["timestamp not in seconds", { "webhook-timestamp": "2026-11-24T10:00:00Z" }],
    ["missing webhook-id", { "webhook-id": "" }],
  ])("refuses a malformed header (%s)", async (_label, override) => {
    const body = JSON.stringify(invocationBody({}));
    const headers = await signInvocation({ privateJwk: env.TEST_SIGNING_JWK, body });
    const answer = await post(body, { ...headers, ...override });
    expect(answer.status).toBe(401);
    expect(answer.body.code).toBe("malformed_signature");
  });

  it("accepts when any one of several signatures is valid, whatever the key-id hint", async () => {
    const body = JSON.stringify(invocationBody({ value: "rotated" }));
    const good = await signInvocation({
      privateJwk: env.TEST_SIGNING_JWK,
      body,
      id: "msg_rot",
      timestamp: now(),
    });
    const bad = await signInvocation({
      privateJwk: env.TEST_STRANGER_JWK,
      body,
      id: "msg_rot",
      timestamp: Number(good["webhook-timestamp"]),
    });
    const both = `${bad["webhook-signature"]} v1,aG1hYw== ${good["webhook-signature"]}`;
    const answer = await post(body, { ...good, "webhook-signature": both, "webhook-key-id": "unknown-kid" });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ status: "success", output: { value: "rotated" } });
  });

  it("checks the signature before revealing whether an operator exists", async () => {
    const unsigned = await send(new Request(`${BASE}/operators/missing`, { method: "POST", body: "{}" }));
    expect(unsigned.status).toBe(401);
    const signed = await signedPost("/operators/missing", invocationBody({}));
    expect(signed.status).toBe(404);
    expect(signed.body.code).toBe("unknown_operator");
  });
});
