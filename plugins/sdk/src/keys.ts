/**
 * Where the platform's public keys come from, read from the environment on every request:
 * `UPDRAFT_JWKS` (inline JWKS JSON) wins, then the `PLATFORM` service binding, then `UPDRAFT_JWKS_URL`.
 * Fetched key sets are cached per isolate and refetched early when a request names an unknown key.
 */
import type { FetchLike } from "./callback.ts";

export interface VerificationKey {
  kid: string | undefined;
  key: CryptoKey;
}

export interface KeyRing {
  /** Keys to try; with a `kid` hint that is not cached, the set is refetched (at most every 30 s). */
  lookup(kid: string | undefined): Promise<VerificationKey[]>;
}

export class KeysUnavailableError extends Error {
  override readonly name = "KeysUnavailableError";
}

const TTL_MS = 5 * 60_000;
const REFETCH_MIN_MS = 30_000;
// The binding's host is never resolved; only the path matters to the platform Worker.
const PLATFORM_JWKS_URL = "https://platform.internal/.well-known/jwks.json";

interface CacheEntry {
  // Settled keys only: a fetch started by one request must never be awaited by another (a cancelled
  // request's pending fetch would hold every later one). Concurrent first requests each fetch once.
  keys: VerificationKey[];
  fetchedAt: number;
}

const cache = new Map<string, CacheEntry>();

async function importKeys(jwks: unknown): Promise<VerificationKey[]> {
  const list = typeof jwks === "object" && jwks !== null && "keys" in jwks ? jwks.keys : undefined;
  if (!Array.isArray(list)) throw new KeysUnavailableError("the JWKS has no keys array");
  const keys: VerificationKey[] = [];
  for (const jwk of list) {
    if (typeof jwk !== "object" || jwk === null) continue;
    const { kty, crv, x, kid, use } = jwk as Record<string, unknown>;
    if (kty !== "OKP" || crv !== "Ed25519" || typeof x !== "string" || (use !== undefined && use !== "sig"))
      continue;
    try {
      const key = await crypto.subtle.importKey("jwk", { kty, crv, x }, { name: "Ed25519" }, false, [
        "verify",
      ]);
      keys.push({ kid: typeof kid === "string" ? kid : undefined, key });
    } catch {
      // One malformed key must not take the others down with it.
    }
  }
  if (keys.length === 0) throw new KeysUnavailableError("the JWKS has no usable Ed25519 keys");
  return keys;
}

async function fetchJwks(fetcher: FetchLike, url: string): Promise<unknown> {
  let response: Response;
  try {
    response = await fetcher(new Request(url, { headers: { accept: "application/json" } }));
  } catch (thrown) {
    throw new KeysUnavailableError(`could not fetch the platform's keys: ${String(thrown)}`);
  }
  if (!response.ok) throw new KeysUnavailableError(`the platform's JWKS answered ${response.status}`);
  try {
    return await response.json();
  } catch {
    throw new KeysUnavailableError("the platform's JWKS is not JSON");
  }
}

/** Fetches the key set for this request; a failure is not cached, so the next request tries again. */
async function refresh(source: string, load: () => Promise<unknown>, now: number): Promise<CacheEntry> {
  const entry: CacheEntry = { keys: await importKeys(await load()), fetchedAt: now };
  cache.set(source, entry);
  return entry;
}

function cachedRing(source: string, load: () => Promise<unknown>): KeyRing {
  return {
    async lookup(kid) {
      const now = Date.now();
      let entry = cache.get(source);
      if (!entry || now - entry.fetchedAt >= TTL_MS) entry = await refresh(source, load, now);
      let keys = entry.keys;
      const known = kid === undefined || keys.some((k) => k.kid === kid);
      if (!known && now - entry.fetchedAt >= REFETCH_MIN_MS) keys = (await refresh(source, load, now)).keys;
      const hinted = kid === undefined ? [] : keys.filter((k) => k.kid === kid);
      // An unknown hint falls back to every key: the header is a hint, the signature is the proof.
      return hinted.length > 0 ? hinted : keys;
    },
  };
}

/**
 * The key ring configured by this request's environment; its lookups reject with
 * KeysUnavailableError saying what to configure when nothing usable is set.
 *
 * @example
 * const keys = await keyRingFor({ UPDRAFT_JWKS: jwksJson }, fetch).lookup("key-2026-11");
 */
export function keyRingFor(env: Record<string, unknown>, platformFetch: FetchLike): KeyRing {
  const inline = env.UPDRAFT_JWKS;
  if (typeof inline === "string" && inline.trim() !== "") {
    return cachedRing(`inline:${inline}`, async () => {
      try {
        return JSON.parse(inline);
      } catch {
        throw new KeysUnavailableError("UPDRAFT_JWKS is not valid JSON");
      }
    });
  }
  if (typeof env.PLATFORM === "object" && env.PLATFORM !== null) {
    return cachedRing("binding:PLATFORM", () => fetchJwks(platformFetch, PLATFORM_JWKS_URL));
  }
  const url = env.UPDRAFT_JWKS_URL;
  if (typeof url === "string" && url !== "") return cachedRing(`url:${url}`, () => fetchJwks(fetch, url));
  return {
    lookup: () =>
      Promise.reject(new KeysUnavailableError("set UPDRAFT_JWKS, UPDRAFT_JWKS_URL or a PLATFORM binding")),
  };
}

/**
 * Forgets cached key sets; for tests that rotate keys.
 *
 * @example
 * afterEach(() => clearKeyCache());
 */
export function clearKeyCache(): void {
  cache.clear();
}
