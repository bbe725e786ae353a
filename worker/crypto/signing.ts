/**
 * The platform's Ed25519 signing key (SIGNING_KEY, a private JWK). Plugins verify invocations with
 * the public half, published at /.well-known/jwks.json with its key id so keys can rotate.
 */
import { z } from "zod";

const PrivateJwk = z.object({
  kty: z.literal("OKP"),
  crv: z.literal("Ed25519"),
  x: z.string().min(1),
  d: z.string().min(1),
  kid: z.string().min(1),
});

export type PublicJwk = { kty: "OKP"; crv: "Ed25519"; x: string; kid: string; alg: "EdDSA"; use: "sig" };

export function publicJwks(signingKey: string): { keys: PublicJwk[] } {
  const jwk = PrivateJwk.parse(JSON.parse(signingKey));
  return { keys: [{ kty: jwk.kty, crv: jwk.crv, x: jwk.x, kid: jwk.kid, alg: "EdDSA", use: "sig" }] };
}
