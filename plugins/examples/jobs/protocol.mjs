// Updraft plugin protocol v1 without the SDK: what any server must do to be called by the platform
// (plugins/sdk/PROTOCOL.md). Signatures are Standard Webhooks `v1a` (Ed25519 over
// "{webhook-id}.{webhook-timestamp}." + the raw body), checked with node:crypto against the
// platform's published keys; every answer is JSON in one result shape.
import { createPublicKey, verify } from "node:crypto";

export const HEADERS = { "content-type": "application/json", "updraft-protocol": "1" };
export const MAX_BODY_BYTES = 10 * 1024 * 1024;
const TOLERANCE_S = 300;
const KEYS_TTL_MS = 5 * 60_000;
const REFETCH_AFTER_MS = 30_000;
const MAX_SEEN_IDS = 10_000;

/**
 * An answer: status, extra headers and the JSON body.
 * @typedef {{ status: number, headers?: Record<string, string>, body: unknown }} Answer
 */

/**
 * A refusal in the protocol's result shape (§4): never retried by the platform except 503.
 * @param {number} status
 * @param {string} code
 * @param {string} error
 * @param {Array<{ path: string, message: string }>} [issues]
 * @returns {Answer}
 */
export function refusal(status, code, error, issues) {
  return {
    status,
    body: { status: "failure", error, retryable: false, code, ...(issues ? { issues } : {}) },
  };
}

/**
 * "Come back later": 429 or 503 with Retry-After in whole seconds, and the same wait in the body.
 * @param {429 | 503} status
 * @param {string} error
 * @param {number} waitMs
 * @returns {Answer}
 */
export function backOff(status, error, waitMs) {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  return {
    status,
    headers: { "retry-after": String(seconds) },
    body: { status: "failure", error, retryable: true, retry_after_ms: seconds * 1000 },
  };
}

/**
 * The platform's public keys: inline (`UPDRAFT_JWKS`) or fetched from `UPDRAFT_JWKS_URL` (the
 * platform's /.well-known/jwks.json), cached five minutes. A key id we do not know triggers a refetch,
 * at most once per 30 seconds, so forged hints cannot make us hammer the platform.
 * @param {{ jwks?: string, jwksUrl?: string }} source
 */
export function keyring({ jwks, jwksUrl }) {
  /** @type {Map<string, import("node:crypto").KeyObject> | undefined} */
  let keys = jwks ? parseJwks(jwks) : undefined;
  let fetchedAt = 0;
  let triedAt = 0;
  const refresh = async () => {
    if (!jwksUrl || Date.now() - triedAt < REFETCH_AFTER_MS) return;
    triedAt = Date.now();
    try {
      const response = await fetch(jwksUrl, { signal: AbortSignal.timeout(5_000), redirect: "error" });
      if (response.ok) {
        keys = parseJwks(await response.text());
        fetchedAt = Date.now();
      }
    } catch {
      // Keep what we had; with nothing, requests get 503 keys_unavailable and the platform retries.
    }
  };
  return {
    /**
     * The keys to try for a request hinting `kid`: only that key when we know it, else all of them.
     * @param {string | undefined} kid
     */
    async candidates(kid) {
      if (jwksUrl && (!keys || Date.now() - fetchedAt > KEYS_TTL_MS || (kid && !keys.has(kid)))) {
        await refresh();
      }
      if (!keys) return undefined;
      const hinted = kid ? keys.get(kid) : undefined;
      return hinted ? [hinted] : [...keys.values()];
    },
  };
}

/** @param {string} text */
function parseJwks(text) {
  const keys = new Map();
  const set = JSON.parse(text);
  for (const [index, jwk] of (Array.isArray(set?.keys) ? set.keys : []).entries()) {
    if (jwk?.kty !== "OKP" || jwk.crv !== "Ed25519" || typeof jwk.x !== "string") continue;
    const { d: _private, ...publicHalf } = jwk;
    keys.set(
      typeof jwk.kid === "string" ? jwk.kid : `key-${index}`,
      createPublicKey({ key: publicHalf, format: "jwk" }),
    );
  }
  return keys;
}

/**
 * Remembers verified webhook ids for the timestamp tolerance, so a captured request cannot be replayed
 * to us while its timestamp is still fresh (bounded: the oldest ids go first).
 */
export function replayGuard() {
  /** @type {Map<string, number>} */
  const seen = new Map();
  return {
    /** @param {string} id */
    firstTime(id) {
      const now = Date.now();
      for (const [old, at] of seen) {
        if (now - at <= TOLERANCE_S * 1000 && seen.size < MAX_SEEN_IDS) break;
        seen.delete(old);
      }
      if (seen.has(id)) return false;
      seen.set(id, now);
      return true;
    },
  };
}

/**
 * Checks a request's signature headers (§2, in the protocol's order); undefined when it verifies.
 * @param {import("node:http").IncomingHttpHeaders} headers
 * @param {Buffer} raw
 * @param {ReturnType<typeof keyring>} keys
 * @param {ReturnType<typeof replayGuard>} replays
 * @returns {Promise<Answer | undefined>}
 */
export async function checkSignature(headers, raw, keys, replays) {
  const header = (/** @type {string} */ name) => {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const signature = header("webhook-signature");
  if (!signature) return refusal(401, "unsigned", "The request is not signed.");
  const id = header("webhook-id");
  const timestamp = header("webhook-timestamp");
  const signatures = signature
    .split(" ")
    .filter((entry) => entry.startsWith("v1a,"))
    .slice(0, 8)
    .map((entry) => Buffer.from(entry.slice(4), "base64"))
    .filter((bytes) => bytes.length === 64);
  if (!id || id.length > 256 || !timestamp || !/^\d{1,12}$/.test(timestamp) || signatures.length === 0) {
    return refusal(401, "malformed_signature", "The signature headers are malformed.");
  }
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > TOLERANCE_S) {
    return refusal(401, "stale_timestamp", "The signature's timestamp is more than 5 minutes away.");
  }
  const candidates = await keys.candidates(header("webhook-key-id"));
  if (!candidates || candidates.length === 0) {
    return {
      status: 503,
      headers: { "retry-after": "5" },
      body: { status: "failure", error: "No platform keys.", retryable: true, code: "keys_unavailable" },
    };
  }
  const signed = Buffer.concat([Buffer.from(`${id}.${timestamp}.`), raw]);
  const valid = candidates.some((key) => signatures.some((bytes) => verify(null, signed, key, bytes)));
  if (!valid) return refusal(401, "bad_signature", "No signature matches the platform's keys.");
  if (!replays.firstTime(id)) return refusal(401, "replayed", "This request was already received.");
  return undefined;
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const isObject = (/** @type {unknown} */ value) =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const isId = (/** @type {unknown} */ value) =>
  typeof value === "string" && value.length > 0 && value.length <= 512;

/** The invocation's known fields (§3) and what each must be; unknown fields are ignored. */
const INVOCATION_FIELDS = {
  invocation_id: isId,
  idempotency_key: isId,
  attempt: (/** @type {unknown} */ v) => Number.isInteger(v) && /** @type {number} */ (v) >= 1,
  tenant: isId,
  pipeline: isId,
  run: isId,
  task: isId,
  map_index: (/** @type {unknown} */ v) =>
    v === null || (Number.isInteger(v) && /** @type {number} */ (v) >= -1),
  logical_date: (/** @type {unknown} */ v) => v === null || (typeof v === "string" && ISO_TIME.test(v)),
  input: isObject,
  connection: (/** @type {unknown} */ v) => v === null || isObject(v),
  callback_url: (/** @type {unknown} */ v) => typeof v === "string" && /^https?:\/\/[^\s]+$/.test(v),
  deadline: (/** @type {unknown} */ v) => typeof v === "string" && ISO_TIME.test(v),
  task_started_at: (/** @type {unknown} */ v) =>
    v === undefined || (typeof v === "string" && ISO_TIME.test(v)),
  plugin: (/** @type {unknown} */ v) => v === undefined || typeof v === "string",
};

/**
 * The paths of an invocation body that break §3, empty when it is well-formed.
 * @param {unknown} body
 */
export function invocationIssues(body) {
  if (!isObject(body)) return [{ path: "", message: "must be a JSON object" }];
  const fields = /** @type {Record<string, unknown>} */ (body);
  return Object.entries(INVOCATION_FIELDS)
    .filter(([name, valid]) => !valid(fields[name]))
    .map(([name]) => ({ path: name, message: "missing or malformed" }));
}

/**
 * The body as JSON, or a refusal: too large (413) or not JSON (400).
 * @param {import("node:http").IncomingMessage} request
 * @returns {Promise<{ raw: Buffer } | { refused: Answer }>}
 */
export async function readBody(request) {
  /** @type {Buffer[]} */
  const chunks = [];
  let size = 0;
  for await (const chunk of request) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return { refused: refusal(413, "too_large", "The body is over 10 MiB.") };
    chunks.push(chunk);
  }
  return { raw: Buffer.concat(chunks) };
}

/**
 * POSTs a long-running operator's final result to its callback URL (§5): network errors and 5xx are
 * retried four times over about 7.5 s; any other answer ends delivery (404: the platform no longer
 * waits for it, e.g. the attempt timed out).
 * @param {string} url
 * @param {string} invocationId
 * @param {unknown} result
 * @returns {Promise<number | undefined>} the platform's last status, undefined when never reached
 */
export async function deliverCallback(url, invocationId, result) {
  let status;
  for (const waitMs of [0, 500, 2_000, 5_000]) {
    if (waitMs > 0) await new Promise((done) => setTimeout(done, waitMs));
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", "updraft-invocation-id": invocationId },
        body: JSON.stringify(result),
        redirect: "error",
        signal: AbortSignal.timeout(10_000),
      });
      await response.arrayBuffer();
      status = response.status;
      if (status < 500) return status;
    } catch {
      // Retried below.
    }
  }
  return status;
}
