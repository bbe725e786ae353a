/**
 * Signs plugin requests the Standard Webhooks way (asymmetric `v1a`, Ed25519) with the platform's
 * SIGNING_KEY, as plugins/sdk/PROTOCOL.md §2 specifies. The key is imported once per isolate.
 */
import { z } from "zod";
import { toBase64 } from "../crypto/encoding";
import { newId } from "../crypto/random";

const PrivateJwk = z.object({
  kty: z.literal("OKP"),
  crv: z.literal("Ed25519"),
  x: z.string(),
  d: z.string(),
  kid: z.string(),
});

type Signer = { key: CryptoKey; kid: string };
/** Imported keys, kept once settled: a pending import belongs to the request that started it. */
const signers = new Map<string, Signer>();

async function signerFor(signingKey: string): Promise<Signer> {
  const kept = signers.get(signingKey);
  if (kept) return kept;
  const jwk = PrivateJwk.parse(JSON.parse(signingKey));
  const key = await crypto.subtle.importKey(
    "jwk",
    { kty: jwk.kty, crv: jwk.crv, x: jwk.x, d: jwk.d },
    { name: "Ed25519" },
    false,
    ["sign"],
  );
  const signer = { key, kid: jwk.kid };
  signers.set(signingKey, signer);
  return signer;
}

export type SignedHeaders = {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
  "webhook-key-id": string;
};

export async function signRequest(signingKey: string, body: string, now: Date): Promise<SignedHeaders> {
  const { key, kid } = await signerFor(signingKey);
  const id = newId("msg");
  const timestamp = String(Math.floor(now.getTime() / 1000));
  const bytes = new TextEncoder().encode(`${id}.${timestamp}.${body}`);
  const signature = new Uint8Array(await crypto.subtle.sign("Ed25519", key, bytes));
  return {
    "webhook-id": id,
    "webhook-timestamp": timestamp,
    "webhook-signature": `v1a,${toBase64(signature)}`,
    "webhook-key-id": kid,
  };
}
