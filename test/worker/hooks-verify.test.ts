/**
 * The verification schemes (worker/hooks/verify.ts) against signatures made by the providers' own
 * libraries where one exists (stripe, standardwebhooks), by Slack's published recipe, and by WebCrypto
 * for Standard Webhooks v1a (no library signs it) and generic HMAC.
 */
import { Webhook } from "standardwebhooks";
import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import type { WebhookVerify } from "../../worker/engine";
import { verifyDelivery } from "../../worker/hooks/verify";

const body = new TextEncoder().encode(JSON.stringify({ id: "evt_1", n: 1 }));
const text = new TextDecoder().decode(body);
const nowS = () => Math.floor(Date.now() / 1000);

const check = (verify: WebhookVerify, secrets: string[], headers: Record<string, string>, bytes = body) =>
  verifyDelivery(verify, secrets, { headers: new Headers(headers), body: bytes, now: Date.now() });

async function hmacHex(hash: string, key: string, content: string): Promise<string> {
  const k = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(key),
    { name: "HMAC", hash },
    false,
    ["sign"],
  );
  const sig = new Uint8Array(await crypto.subtle.sign("HMAC", k, new TextEncoder().encode(content)));
  return [...sig].map((b) => b.toString(16).padStart(2, "0")).join("");
}

describe("verification schemes", () => {
  it("Stripe: a header from stripe.webhooks.generateTestHeaderStringAsync verifies; a stale or foreign one does not", async () => {
    const stripe = new Stripe("sk_test_unused");
    const secret = "whsec_test_secret";
    const header = await stripe.webhooks.generateTestHeaderStringAsync({ payload: text, secret });
    expect(await check({ scheme: "stripe" }, [secret], { "stripe-signature": header })).toEqual({ ok: true });
    const stale = await stripe.webhooks.generateTestHeaderStringAsync({
      payload: text,
      secret,
      timestamp: nowS() - 600,
    });
    expect((await check({ scheme: "stripe" }, [secret], { "stripe-signature": stale })).ok).toBe(false);
    // Accepted with a tolerance longer than its age.
    expect(
      await check({ scheme: "stripe", tolerance: "15m" }, [secret], { "stripe-signature": stale }),
    ).toEqual({
      ok: true,
    });
    expect((await check({ scheme: "stripe" }, ["whsec_other"], { "stripe-signature": header })).ok).toBe(
      false,
    );
    // The old secret of a rotation still verifies beside the new one.
    expect(await check({ scheme: "stripe" }, ["whsec_new", secret], { "stripe-signature": header })).toEqual({
      ok: true,
    });
  });

  it("Slack v0: the published recipe (v0:{timestamp}:{body}, HMAC-SHA256) verifies; a changed body does not", async () => {
    const secret = "8f742231b10e8888abcd99yyyzzz85a5";
    const ts = String(nowS());
    const headers = {
      "x-slack-request-timestamp": ts,
      "x-slack-signature": `v0=${await hmacHex("SHA-256", secret, `v0:${ts}:${text}`)}`,
    };
    expect(await check({ scheme: "slack" }, [secret], headers)).toEqual({ ok: true });
    const other = new TextEncoder().encode(`${text} `);
    expect((await check({ scheme: "slack" }, [secret], headers, other)).ok).toBe(false);
  });

  it("Standard Webhooks: several signatures in one header, and v1a with an Ed25519 public key", async () => {
    const secret = `whsec_${btoa("0123456789abcdef0123456789abcdef")}`;
    const at = new Date();
    const v1 = new Webhook(secret).sign("msg_1", at, text);
    const base = { "webhook-id": "msg_1", "webhook-timestamp": String(Math.floor(at.getTime() / 1000)) };
    const several = `v1,${btoa("x".repeat(32))} ${v1}`;
    expect(await check({ scheme: "standard" }, [secret], { ...base, "webhook-signature": several })).toEqual({
      ok: true,
    });
    const pair = (await crypto.subtle.generateKey("Ed25519", true, ["sign", "verify"])) as CryptoKeyPair;
    const raw = new Uint8Array((await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer);
    const content = new TextEncoder().encode(`msg_1.${base["webhook-timestamp"]}.${text}`);
    const sig = new Uint8Array(await crypto.subtle.sign("Ed25519", pair.privateKey, content));
    const publicKey = `whpk_${btoa(String.fromCharCode(...raw))}`;
    const v1a = `v1a,${btoa(String.fromCharCode(...sig))}`;
    expect(await check({ scheme: "standard" }, [publicKey], { ...base, "webhook-signature": v1a })).toEqual({
      ok: true,
    });
    expect((await check({ scheme: "standard" }, [publicKey], { ...base, "webhook-signature": v1 })).ok).toBe(
      false,
    );
  });

  it("generic HMAC: algorithm, header, prefix, encoding and signed content as configured", async () => {
    const secret = "s3cret";
    const verify: WebhookVerify = {
      scheme: "hmac",
      algorithm: "sha512",
      header: "x-sig",
      prefix: "sha512=",
      signed_content: "{headers.x-ts}.{body}",
    };
    const sig = await hmacHex("SHA-512", secret, `42.${text}`);
    expect(await check(verify, [secret], { "x-sig": `sha512=${sig}`, "x-ts": "42" })).toEqual({ ok: true });
    expect((await check(verify, [secret], { "x-sig": `sha512=${sig}`, "x-ts": "43" })).ok).toBe(false);
    expect((await check(verify, [secret], { "x-sig": `sha512=${sig}` })).ok).toBe(false);
  });

  it("bearer and basic compare whole credentials; none accepts anything", async () => {
    expect(await check({ scheme: "bearer" }, ["tok"], { authorization: "Bearer tok" })).toEqual({ ok: true });
    expect((await check({ scheme: "bearer" }, ["tok"], { authorization: "Bearer to" })).ok).toBe(false);
    expect((await check({ scheme: "bearer" }, ["tok"], {})).ok).toBe(false);
    const basic = `Basic ${btoa("user:pass")}`;
    expect(await check({ scheme: "basic" }, ["user:pass"], { authorization: basic })).toEqual({ ok: true });
    expect((await check({ scheme: "basic" }, ["user:other"], { authorization: basic })).ok).toBe(false);
    expect((await check({ scheme: "basic" }, ["user:pass"], { authorization: "Basic !!!" })).ok).toBe(false);
    expect(await check({ scheme: "none" }, [], {})).toEqual({ ok: true });
    // Without a secret nothing verifies (a referenced tenant secret that does not exist).
    expect((await check({ scheme: "github" }, [], {})).ok).toBe(false);
  });
});
