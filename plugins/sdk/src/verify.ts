/**
 * Standard Webhooks verification, asymmetric flavour: `webhook-signature: v1a,<base64 Ed25519>` over
 * `${webhook-id}.${webhook-timestamp}.${body}`. Several space-separated signatures are allowed (key
 * rotation); any valid one passes. `webhook-key-id` optionally names the key that signed.
 */
import { concatBytes, fromBase64, utf8 } from "./encoding.ts";
import type { KeyRing } from "./keys.ts";

export const SIGNATURE_HEADERS = {
  id: "webhook-id",
  timestamp: "webhook-timestamp",
  signature: "webhook-signature",
  keyId: "webhook-key-id",
} as const;

/** How far the signer's clock may be from ours, either way. */
export const TOLERANCE_SECONDS = 5 * 60;

export type Verdict =
  | { ok: true; id: string; timestamp: number }
  | {
      ok: false;
      code: "unsigned" | "malformed_signature" | "stale_timestamp" | "bad_signature";
      error: string;
    };

const MAX_SIGNATURES = 8;
const ED25519_SIGNATURE_BYTES = 64;

function signaturesIn(header: string): Uint8Array<ArrayBuffer>[] | null {
  const entries = header.split(" ").filter((part) => part !== "");
  const v1a = entries.filter((entry) => entry.startsWith("v1a,")).slice(0, MAX_SIGNATURES);
  const decoded = v1a.map((entry) => fromBase64(entry.slice(4)));
  const valid = decoded.filter(
    (bytes): bytes is Uint8Array<ArrayBuffer> => bytes?.length === ED25519_SIGNATURE_BYTES,
  );
  return valid.length > 0 ? valid : null;
}

/**
 * Checks one signed request's headers against the raw body bytes and the platform's keys. A pass names
 * the request's `webhook-id` and timestamp, for the replay check (replay.ts) that follows it.
 *
 * @example
 * const verdict = await verifySignature(request.headers, bytes, keyRingFor(env, fetch));
 * if (!verdict.ok) return new Response(verdict.error, { status: 401 });
 */
export async function verifySignature(
  headers: Headers,
  body: Uint8Array,
  keys: KeyRing,
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<Verdict> {
  const id = headers.get(SIGNATURE_HEADERS.id);
  const timestamp = headers.get(SIGNATURE_HEADERS.timestamp);
  const signature = headers.get(SIGNATURE_HEADERS.signature);
  if (signature === null) return { ok: false, code: "unsigned", error: "the request is not signed" };
  if (id === null || id === "" || id.length > 256 || timestamp === null) {
    return { ok: false, code: "malformed_signature", error: "webhook-id and webhook-timestamp are required" };
  }
  if (!/^\d{1,12}$/.test(timestamp)) {
    return { ok: false, code: "malformed_signature", error: "webhook-timestamp must be unix seconds" };
  }
  if (Math.abs(nowSeconds - Number(timestamp)) > TOLERANCE_SECONDS) {
    return { ok: false, code: "stale_timestamp", error: "webhook-timestamp is more than 5 minutes off" };
  }
  const signatures = signaturesIn(signature);
  if (signatures === null) {
    return {
      ok: false,
      code: "malformed_signature",
      error: "no well-formed v1a signature in webhook-signature",
    };
  }
  const candidates = await keys.lookup(headers.get(SIGNATURE_HEADERS.keyId) ?? undefined);
  const signed = concatBytes(utf8(`${id}.${timestamp}.`), body);
  for (const bytes of signatures) {
    for (const { key } of candidates) {
      if (await crypto.subtle.verify({ name: "Ed25519" }, key, bytes, signed))
        return { ok: true, id, timestamp: Number(timestamp) };
    }
  }
  return { ok: false, code: "bad_signature", error: "no signature matches the platform's keys" };
}
