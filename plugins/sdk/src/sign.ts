/**
 * The signing side of the protocol, for tests, conformance checks and local tooling. The platform
 * has its own signer (the Worker may not import plugins); both follow PROTOCOL.md.
 */
import { concatBytes, toBase64, utf8 } from "./encoding.ts";
import { SIGNATURE_HEADERS } from "./verify.ts";

export interface SignOptions {
  /** Ed25519 private key as a JWK (`{kty:"OKP", crv:"Ed25519", x, d, kid?}`) or its JSON text. */
  privateJwk: JsonWebKey | string;
  /** The exact body bytes that will be sent. */
  body: string | Uint8Array;
  /** Defaults to a random `msg_…` id. */
  id?: string;
  /** Unix seconds; defaults to now. */
  timestamp?: number;
  /** Sent as `webhook-key-id`; defaults to the JWK's `kid`. */
  keyId?: string;
}

function parseJwk(jwk: JsonWebKey | string): JsonWebKey & { kid?: string } {
  return typeof jwk === "string" ? JSON.parse(jwk) : jwk;
}

/**
 * Signs a request body; returns the headers to send with it.
 *
 * @example
 * const body = JSON.stringify(invocation);
 * const headers = await signInvocation({ privateJwk: process.env.SIGNING_KEY ?? "", body });
 * await fetch(`${base}/operators/http`, { method: "POST", headers, body });
 */
export async function signInvocation(options: SignOptions): Promise<Record<string, string>> {
  const jwk = parseJwk(options.privateJwk);
  const key = await crypto.subtle.importKey(
    "jwk",
    { kty: jwk.kty, crv: jwk.crv, x: jwk.x, d: jwk.d },
    { name: "Ed25519" },
    false,
    ["sign"],
  );
  const id = options.id ?? `msg_${crypto.randomUUID().replaceAll("-", "")}`;
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const body = typeof options.body === "string" ? utf8(options.body) : options.body;
  const signed = concatBytes(utf8(`${id}.${timestamp}.`), body);
  const signature = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, key, signed));
  const headers: Record<string, string> = {
    "content-type": "application/json",
    [SIGNATURE_HEADERS.id]: id,
    [SIGNATURE_HEADERS.timestamp]: timestamp,
    [SIGNATURE_HEADERS.signature]: `v1a,${toBase64(signature)}`,
  };
  const keyId = options.keyId ?? jwk.kid;
  if (keyId) headers[SIGNATURE_HEADERS.keyId] = keyId;
  return headers;
}

export interface SigningKeyPair {
  /** Keep secret: signs invocations. */
  privateJwk: JsonWebKey & { kid: string };
  /** Publish as `/.well-known/jwks.json` or `UPDRAFT_JWKS`. */
  jwks: { keys: Array<{ kty: "OKP"; crv: "Ed25519"; x: string; kid: string; alg: "EdDSA"; use: "sig" }> };
}

/**
 * A fresh Ed25519 key pair in the JWK shapes the protocol uses.
 *
 * @example
 * const { privateJwk, jwks } = await generateSigningKeyPair("test-key");
 */
export async function generateSigningKeyPair(kid = `k${Date.now().toString(36)}`): Promise<SigningKeyPair> {
  const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
  const jwk = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as JsonWebKey;
  const x = jwk.x ?? "";
  return {
    privateJwk: { kty: "OKP", crv: "Ed25519", x, d: jwk.d, kid },
    jwks: { keys: [{ kty: "OKP", crv: "Ed25519", x, kid, alg: "EdDSA", use: "sig" }] },
  };
}
