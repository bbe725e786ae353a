/**
 * Replay protection: a verified request's `webhook-id` is remembered until its timestamp leaves the
 * tolerance window, and a second request with the same id is refused (`401 replayed`). The platform
 * signs every request, attempt and re-poke with a fresh id, so only a copy ever repeats one.
 *
 * Per isolate and bounded: a Map in insertion order holds at most MAX_SEEN_IDS ids, evicting the oldest.
 * An isolate that sees more than that within the window forgets ids early, and another isolate of the
 * same plugin never saw them; operators with side effects still dedupe on `idempotency_key`.
 */
import { TOLERANCE_SECONDS } from "./verify.ts";

/** At most this many ids are remembered per isolate. */
export const MAX_SEEN_IDS = 10_000;

/** webhook-id → unix second after which its timestamp is stale anyway, in the order they arrived. */
const seen = new Map<string, number>();

/**
 * Records a verified request's id; false when the id was already delivered within the window.
 *
 * @example
 * if (!firstDelivery(id, Number(timestamp))) return reject(401, "replayed", "already delivered");
 */
export function firstDelivery(
  id: string,
  timestampSeconds: number,
  nowSeconds = Math.floor(Date.now() / 1000),
): boolean {
  // Ids arrive roughly in timestamp order, so expired ones gather at the front.
  for (const [oldest, expires] of seen) {
    if (expires >= nowSeconds) break;
    seen.delete(oldest);
  }
  const expires = seen.get(id);
  if (expires !== undefined && expires >= nowSeconds) return false;
  seen.delete(id);
  while (seen.size >= MAX_SEEN_IDS) {
    const oldest = seen.keys().next();
    if (oldest.done) break;
    seen.delete(oldest.value);
  }
  seen.set(id, timestampSeconds + TOLERANCE_SECONDS);
  return true;
}

/**
 * Forgets every remembered id; for tests.
 *
 * @example
 * afterEach(() => clearSeenDeliveries());
 */
export function clearSeenDeliveries(): void {
  seen.clear();
}
