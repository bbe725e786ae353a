import { toBase64Url } from "./encoding";

export function randomBytes(length: number): Uint8Array<ArrayBuffer> {
  return crypto.getRandomValues(new Uint8Array(length));
}

/** An opaque identifier: 16 random bytes, base64url, with a readable prefix (`usr_…`, `tok_…`). */
export function newId(prefix: string): string {
  return `${prefix}_${toBase64Url(randomBytes(16))}`;
}

/** A bearer secret: 32 random bytes. Only its SHA-256 is stored. */
export function newSecretToken(prefix: string): string {
  return `${prefix}_${toBase64Url(randomBytes(32))}`;
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
