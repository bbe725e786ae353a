/**
 * "Send test delivery": signs a sample the way the trigger's sender would (the inverse of verify.ts,
 * built from its pieces), so the delivery goes through the real checks. Only the platform signs
 * here, with the trigger's own secret; a v1a trigger holds only the sender's public key and cannot.
 */
import { fromBase64, toBase64, toHex } from "../crypto/encoding";
import type { WebhookVerify } from "../engine";
import { concat, HMAC_ALGORITHMS, hmac, signedContent } from "./verify";

const utf8 = new TextEncoder();

/** The headers that make `body` verify under `verify` with `secret`, or a reason it cannot be signed. */
export async function signSample(
  verify: WebhookVerify,
  secret: string | null,
  body: Uint8Array,
  now: number,
): Promise<{ ok: true; headers: [string, string][] } | { ok: false; reason: string }> {
  const seconds = String(Math.floor(now / 1000));
  const id = crypto.randomUUID();
  const json: [string, string] = ["content-type", "application/json"];
  if (verify.scheme === "none") return { ok: true, headers: [json] };
  if (secret === null) return { ok: false, reason: "the trigger has no secret to sign with" };
  const sha256 = (key: Uint8Array, content: Uint8Array) => hmac("SHA-256", key, content);
  switch (verify.scheme) {
    case "standard": {
      if (secret.startsWith("whpk_"))
        return { ok: false, reason: "a v1a trigger holds the sender's public key; only the sender can sign" };
      const key = fromBase64(secret.startsWith("whsec_") ? secret.slice(6) : secret);
      const mac = await sha256(key, concat(utf8.encode(`msg_${id}.${seconds}.`), body));
      return {
        ok: true,
        headers: [
          json,
          ["webhook-id", `msg_${id}`],
          ["webhook-timestamp", seconds],
          ["webhook-signature", `v1,${toBase64(mac)}`],
        ],
      };
    }
    case "github": {
      const mac = await sha256(utf8.encode(secret), body);
      const headers: [string, string][] = [json, ["x-github-event", "ping"], ["x-github-delivery", id]];
      return { ok: true, headers: [...headers, ["x-hub-signature-256", `sha256=${toHex(mac)}`]] };
    }
    case "stripe": {
      const mac = await sha256(utf8.encode(secret), concat(utf8.encode(`${seconds}.`), body));
      return { ok: true, headers: [json, ["stripe-signature", `t=${seconds},v1=${toHex(mac)}`]] };
    }
    case "slack": {
      const mac = await sha256(utf8.encode(secret), concat(utf8.encode(`v0:${seconds}:`), body));
      const signature: [string, string] = ["x-slack-signature", `v0=${toHex(mac)}`];
      return { ok: true, headers: [json, ["x-slack-request-timestamp", seconds], signature] };
    }
    case "hmac": {
      // Headers the signed content names get a timestamp, the commonest thing a sender puts there.
      const named = [...(verify.signed_content ?? "").matchAll(/\{headers\.([a-z0-9-]+)\}/g)].map(
        (m) => m[1] ?? "",
      );
      const headers: [string, string][] = [json, ...named.map((n): [string, string] => [n, seconds])];
      const content = signedContent(verify.signed_content ?? "{body}", new Headers(headers), body);
      if (typeof content === "string") return { ok: false, reason: content };
      const mac = await hmac(HMAC_ALGORITHMS[verify.algorithm ?? "sha256"], utf8.encode(secret), content);
      const encoded = verify.encoding === "base64" ? toBase64(mac) : toHex(mac);
      return {
        ok: true,
        headers: [...headers, [verify.header ?? "x-signature", `${verify.prefix ?? ""}${encoded}`]],
      };
    }
    case "bearer":
      return { ok: true, headers: [json, ["authorization", `Bearer ${secret}`]] };
    case "basic":
      return { ok: true, headers: [json, ["authorization", `Basic ${toBase64(utf8.encode(secret))}`]] };
  }
}

/** The sample a test delivery sends when the person gives no body: ids where the schemes look for them. */
export function sampleBody(now: number): Record<string, unknown> {
  const id = crypto.randomUUID();
  return {
    type: "updraft.test",
    id: `evt_test_${id}`,
    event_id: `Ev_test_${id}`,
    created_at: new Date(now).toISOString(),
  };
}
