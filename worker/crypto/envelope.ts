/**
 * Envelope encryption: every tenant has its own AES-256-GCM data key, stored wrapped by the master
 * key (MASTER_KEY). Secrets are encrypted with the tenant's data key and bound to their name through
 * the additional data, so a ciphertext copied to another name or tenant does not decrypt.
 * Stored form: `v1.<base64(iv || ciphertext)>`; the version leaves room for master-key rotation.
 */
import { fromBase64, toBase64 } from "./encoding";
import { randomBytes } from "./random";

const IV_BYTES = 12;
/** Imported master keys, kept once settled: a pending import belongs to the request that started it. */
const masterKeys = new Map<string, CryptoKey>();

function importAesKey(raw: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
}

async function masterKey(masterKeyBase64: string): Promise<CryptoKey> {
  const kept = masterKeys.get(masterKeyBase64);
  if (kept) return kept;
  const raw = fromBase64(masterKeyBase64);
  if (raw.length !== 32) throw new Error("MASTER_KEY must be 32 bytes, base64-encoded");
  const key = await importAesKey(raw);
  masterKeys.set(masterKeyBase64, key);
  return key;
}

async function seal(key: CryptoKey, plaintext: Uint8Array<ArrayBuffer>, aad: string): Promise<string> {
  const iv = randomBytes(IV_BYTES);
  const additionalData = new TextEncoder().encode(aad);
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData }, key, plaintext),
  );
  const out = new Uint8Array(IV_BYTES + sealed.length);
  out.set(iv);
  out.set(sealed, IV_BYTES);
  return `v1.${toBase64(out)}`;
}

async function open(key: CryptoKey, stored: string, aad: string): Promise<Uint8Array<ArrayBuffer>> {
  if (!stored.startsWith("v1.")) throw new Error("unknown ciphertext version");
  const bytes = fromBase64(stored.slice(3));
  const additionalData = new TextEncoder().encode(aad);
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: bytes.slice(0, IV_BYTES), additionalData },
    key,
    bytes.slice(IV_BYTES),
  );
  return new Uint8Array(plain);
}

/** A new data key for a tenant, returned wrapped (ready to store). */
export async function newWrappedDataKey(masterKeyBase64: string, tenantId: string): Promise<string> {
  return seal(await masterKey(masterKeyBase64), randomBytes(32), `tenant:${tenantId}`);
}

export class TenantVault {
  private constructor(private readonly key: CryptoKey) {}

  static async open(masterKeyBase64: string, tenantId: string, wrappedDataKey: string): Promise<TenantVault> {
    const raw = await open(await masterKey(masterKeyBase64), wrappedDataKey, `tenant:${tenantId}`);
    return new TenantVault(await importAesKey(raw));
  }

  encrypt(plaintext: string, context: string): Promise<string> {
    return seal(this.key, new Uint8Array(new TextEncoder().encode(plaintext)), context);
  }

  async decrypt(stored: string, context: string): Promise<string> {
    return new TextDecoder().decode(await open(this.key, stored, context));
  }
}

/** Binds a tenant secret's ciphertext to its tenant and name (AES-GCM additional data). */
export function tenantSecretContext(tenantId: string, name: string): string {
  return `secret:${tenantId}:${name}`;
}

/** Binds an installation's sealed connection settings to it (AES-GCM additional data). */
export function installationContext(tenantId: string, installationId: string): string {
  return `installation:${tenantId}:${installationId}`;
}
