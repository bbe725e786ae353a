/**
 * Verifies a delivery by its trigger's scheme (DESIGN.md §4), over the raw bytes received, against
 * every secret that is valid now (two during a rotation). Signatures are compared in constant time
 * (`timingSafeEqual` over equal-length digests). A failed verdict says why, for the delivery ledger
 * the tenant reads; the sender only learns that verification failed (see ingress.ts).
 */
import { fromBase64 } from "../crypto/encoding";
import { parseDuration, type WebhookVerify } from "../engine";

export type Received = { headers: Headers; body: Uint8Array; now: number };
export type Verdict = { ok: true } | { ok: false; reason: string };

/** Stripe's and Slack's documented default; Standard Webhooks recommends the same five minutes. */
export const DEFAULT_TOLERANCE_MS = 300_000;

const OK: Verdict = { ok: true };
/**
 * Checked against when a trigger has no secret, so that failing takes as long as a real check. Its
 * verdict is thrown away, so it need not be secret.
 */
const NO_SECRET = `whsec_${"A".repeat(43)}=`;
const refuse = (reason: string): Verdict => ({ ok: false, reason });
const utf8 = new TextEncoder();

export async function verifyDelivery(
  verify: WebhookVerify,
  secrets: readonly string[],
  received: Received,
): Promise<Verdict> {
  if (verify.scheme === "none") return OK;
  const toleranceMs =
    verify.tolerance === undefined
      ? DEFAULT_TOLERANCE_MS
      : (parseDuration(verify.tolerance) ?? DEFAULT_TOLERANCE_MS);
  if (secrets.length === 0) {
    // As long as a real check: the answer's timing must not tell whether the trigger has a secret.
    await SCHEMES[verify.scheme](verify, NO_SECRET, received, toleranceMs);
    return refuse("the trigger has no secret to verify with");
  }
  let last: Verdict = refuse("no secret matched");
  for (const secret of secrets) {
    last = await SCHEMES[verify.scheme](verify, secret, received, toleranceMs);
    if (last.ok) return last;
  }
  return last;
}

type Check = (
  verify: WebhookVerify,
  secret: string,
  received: Received,
  toleranceMs: number,
) => Promise<Verdict>;

const SCHEMES: Record<WebhookVerify["scheme"], Check> = {
  none: async () => OK,
  standard: verifyStandard,
  github: async (_verify, secret, { headers, body }) => {
    const header = headers.get("x-hub-signature-256");
    if (!header) return refuse("missing X-Hub-Signature-256 header");
    if (!header.startsWith("sha256=")) return refuse("X-Hub-Signature-256 does not start with sha256=");
    return matchesAny(await hmac("SHA-256", utf8.encode(secret), body), [fromHex(header.slice(7))]);
  },
  stripe: async (_verify, secret, { headers, body, now }, toleranceMs) => {
    const header = headers.get("stripe-signature");
    if (!header) return refuse("missing Stripe-Signature header");
    const pairs = header.split(",").map((part) => part.trim().split("="));
    const t = pairs.find(([k]) => k === "t")?.[1];
    const v1 = pairs.filter(([k]) => k === "v1").map(([, v]) => fromHex(v ?? ""));
    if (t === undefined || v1.length === 0) return refuse("Stripe-Signature has no t= or no v1= signature");
    const stale = outsideTolerance(t, now, toleranceMs);
    if (stale) return stale;
    return matchesAny(await hmac("SHA-256", utf8.encode(secret), concat(utf8.encode(`${t}.`), body)), v1);
  },
  slack: async (_verify, secret, { headers, body, now }, toleranceMs) => {
    const timestamp = headers.get("x-slack-request-timestamp");
    const signature = headers.get("x-slack-signature");
    if (!timestamp || !signature)
      return refuse("missing X-Slack-Request-Timestamp or X-Slack-Signature header");
    if (!signature.startsWith("v0=")) return refuse("X-Slack-Signature does not start with v0=");
    const stale = outsideTolerance(timestamp, now, toleranceMs);
    if (stale) return stale;
    const base = concat(utf8.encode(`v0:${timestamp}:`), body);
    return matchesAny(await hmac("SHA-256", utf8.encode(secret), base), [fromHex(signature.slice(3))]);
  },
  hmac: verifyGenericHmac,
  bearer: async (_verify, secret, { headers }) => {
    const header = headers.get("authorization") ?? "";
    if (!/^bearer /i.test(header)) return refuse("missing Authorization: Bearer header");
    return (await sameText(header.slice(7).trim(), secret)) ? OK : refuse("the bearer token does not match");
  },
  basic: async (_verify, secret, { headers }) => {
    const header = headers.get("authorization") ?? "";
    if (!/^basic /i.test(header)) return refuse("missing Authorization: Basic header");
    let credentials: string;
    try {
      credentials = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(
        fromBase64(header.slice(6).trim()),
      );
    } catch {
      return refuse("Authorization: Basic is not base64 of user:password");
    }
    return (await sameText(credentials, secret)) ? OK : refuse("the user or password does not match");
  },
};

/**
 * Standard Webhooks: `webhook-signature` holds space-separated `v1,<base64>` (HMAC-SHA256 with a
 * `whsec_` secret) and `v1a,<base64>` (Ed25519, verified with a `whpk_` public key) signatures over
 * `{webhook-id}.{webhook-timestamp}.{body}`.
 */
async function verifyStandard(
  _verify: WebhookVerify,
  secret: string,
  { headers, body, now }: Received,
  toleranceMs: number,
): Promise<Verdict> {
  const id = headers.get("webhook-id");
  const timestamp = headers.get("webhook-timestamp");
  const header = headers.get("webhook-signature");
  if (!id || !timestamp || !header)
    return refuse("missing webhook-id, webhook-timestamp or webhook-signature header");
  const stale = outsideTolerance(timestamp, now, toleranceMs);
  if (stale) return stale;
  const content = concat(utf8.encode(`${id}.${timestamp}.`), body);
  const signatures = header.split(" ").map((part) => {
    const comma = part.indexOf(",");
    return { version: part.slice(0, comma), value: fromBase64Safe(part.slice(comma + 1)) };
  });
  if (secret.startsWith("whpk_")) {
    const key = fromBase64Safe(secret.slice(5));
    if (!key) return refuse("the public key is not base64");
    let publicKey: CryptoKey;
    try {
      publicKey = await crypto.subtle.importKey("raw", key, "Ed25519", false, ["verify"]);
    } catch {
      return refuse("the public key is not an Ed25519 key");
    }
    for (const { version, value } of signatures) {
      if (version === "v1a" && value && (await crypto.subtle.verify("Ed25519", publicKey, value, content)))
        return OK;
    }
    return refuse("no v1a signature matches");
  }
  const key = fromBase64Safe(secret.startsWith("whsec_") ? secret.slice(6) : secret);
  if (!key) return refuse("the secret is not a Standard Webhooks secret (whsec_ and base64)");
  const v1 = signatures.filter((s) => s.version === "v1").map((s) => s.value);
  if (v1.length === 0) return refuse("no v1 signature in webhook-signature");
  return matchesAny(await hmac("SHA-256", key, content), v1);
}

export const HMAC_ALGORITHMS = { sha1: "SHA-1", sha256: "SHA-256", sha512: "SHA-512" } as const;

/** Generic HMAC: the options say the algorithm, header, prefix, encoding and what is signed. */
async function verifyGenericHmac(
  verify: WebhookVerify,
  secret: string,
  { headers, body }: Received,
): Promise<Verdict> {
  const name = verify.header ?? "x-signature";
  const header = headers.get(name);
  if (!header) return refuse(`missing ${name} header`);
  const prefix = verify.prefix ?? "";
  if (!header.startsWith(prefix)) return refuse(`${name} does not start with "${prefix}"`);
  const encoded = header.slice(prefix.length).trim();
  const signature = verify.encoding === "base64" ? fromBase64Safe(encoded) : fromHex(encoded);
  const content = signedContent(verify.signed_content ?? "{body}", headers, body);
  if (typeof content === "string") return refuse(content);
  const algorithm = HMAC_ALGORITHMS[verify.algorithm ?? "sha256"];
  return matchesAny(await hmac(algorithm, utf8.encode(secret), content), [signature]);
}

/** The bytes a generic HMAC signs: text, `{body}` (raw) and `{headers.name}`; a missing header is a refusal. */
export function signedContent(template: string, headers: Headers, body: Uint8Array): Uint8Array | string {
  const parts: Uint8Array[] = [];
  for (const piece of template.split(/(\{body\}|\{headers\.[a-z0-9-]+\})/)) {
    if (piece === "{body}") parts.push(body);
    else if (piece.startsWith("{headers.")) {
      const name = piece.slice(9, -1);
      const value = headers.get(name);
      if (value === null) return `missing ${name} header (signed_content names it)`;
      parts.push(utf8.encode(value));
    } else parts.push(utf8.encode(piece));
  }
  return concat(...parts);
}

function outsideTolerance(seconds: string, now: number, toleranceMs: number): Verdict | null {
  if (!/^\d{1,12}$/.test(seconds)) return refuse("the timestamp is not a number of seconds");
  return Math.abs(now - Number(seconds) * 1000) > toleranceMs
    ? refuse("the timestamp is outside the tolerance (a replayed or delayed delivery)")
    : null;
}

export async function hmac(
  hash: "SHA-1" | "SHA-256" | "SHA-512",
  key: Uint8Array,
  content: Uint8Array,
): Promise<Uint8Array> {
  const imported = await crypto.subtle.importKey("raw", copy(key), { name: "HMAC", hash }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", imported, copy(content)));
}

function matchesAny(expected: Uint8Array, candidates: readonly (Uint8Array | null)[]): Verdict {
  for (const candidate of candidates) {
    if (
      candidate &&
      candidate.length === expected.length &&
      crypto.subtle.timingSafeEqual(candidate, expected)
    )
      return OK;
  }
  return refuse("the signature does not match");
}

/** Equal strings, compared as SHA-256 digests in constant time (their lengths stay hidden too). */
async function sameText(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([a, b].map((s) => crypto.subtle.digest("SHA-256", utf8.encode(s))));
  return crypto.subtle.timingSafeEqual(x as ArrayBuffer, y as ArrayBuffer);
}

export function fromHex(text: string): Uint8Array | null {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return null;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function fromBase64Safe(text: string): Uint8Array<ArrayBuffer> | null {
  try {
    return text.length > 0 ? fromBase64(text) : null;
  } catch {
    return null;
  }
}

export function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function copy(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes);
}
