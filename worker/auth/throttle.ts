/**
 * Sign-in throttling: attempts are counted inside a fixed window per (account, client address), per
 * client address, and per account across all addresses. An attempt is counted before its password is
 * checked, in one write that also decides it, so parallel guesses cannot all pass a check made before any
 * of them failed. Past a limit, sign-in answers 429 with Retry-After until the window ends — even for the
 * right password, so guessing cannot continue by luck. A success gives its count back, so what stays
 * counted is failures (the table's name). The per-account limit is high on purpose: a low one would let
 * anyone lock out anyone else.
 */
import type { Compilable } from "kysely";
import { batch, type Db, db } from "../db/client";
import type { SignInFailuresTable } from "../db/schema";

const WINDOW_MS = 15 * 60 * 1000;
const LIMITS = { client: 5, ip: 50, account: 100 } as const;

export type ThrottleKey = { kind: keyof typeof LIMITS; value: string };

function keyOf(k: ThrottleKey): string {
  return `${k.kind}:${k.value}`;
}

function clientKey(email: string, ip: string | null): ThrottleKey {
  return { kind: "client", value: `${email}|${ip ?? "unknown"}` };
}

export function signInKeys(email: string, ip: string | null): ThrottleKey[] {
  return [
    clientKey(email, ip),
    { kind: "account", value: email },
    ...(ip ? [{ kind: "ip" as const, value: ip }] : []),
  ];
}

/** An attempt refused before its password was checked, or counted against each key in its window. */
export type Attempt =
  | { kind: "refused"; retryAfterSeconds: number }
  | { kind: "counted"; counted: { key: ThrottleKey; windowStartedAt: string }[] };

/** One more attempt on a key, returning the new count; a window that has ended starts over at 1. */
function countOne(d: Db, k: ThrottleKey, now: Date) {
  const windowStart = new Date(now.getTime() - WINDOW_MS).toISOString();
  return d
    .insertInto("sign_in_failures")
    .values({ key: keyOf(k), failures: 1, window_started_at: now.toISOString() })
    .onConflict((oc) =>
      oc.column("key").doUpdateSet((eb) => ({
        failures: eb
          .case()
          .when("sign_in_failures.window_started_at", "<=", windowStart)
          .then(1)
          .else(eb("sign_in_failures.failures", "+", 1))
          .end(),
        window_started_at: eb
          .case()
          .when("sign_in_failures.window_started_at", "<=", windowStart)
          .then(now.toISOString())
          .else(eb.ref("sign_in_failures.window_started_at"))
          .end(),
      })),
    )
    .returning(["failures", "window_started_at"]);
}

/**
 * Takes the attempt back from every key when one of them is now past its limit. It runs after the counts,
 * in the same batch, so a refused attempt never counts anywhere, not even for a moment: an address already
 * refused on an account cannot, by hammering it, push the account's own limit up and lock its owner out.
 */
function takeBackIfRefused(d: Db, keys: ThrottleKey[]) {
  return d
    .updateTable("sign_in_failures")
    .set((eb) => ({ failures: eb("failures", "-", 1) }))
    .where("key", "in", keys.map(keyOf))
    .where(({ or, exists, selectFrom }) =>
      exists(
        selectFrom("sign_in_failures as past")
          .select("past.key")
          .where(({ and, eb }) =>
            or(
              keys.map((k) => and([eb("past.key", "=", keyOf(k)), eb("past.failures", ">", LIMITS[k.kind])])),
            ),
          ),
      ),
    );
}

/**
 * Counts one sign-in attempt against every key before its password is checked, all in one D1 batch (one
 * transaction): of any number of parallel attempts, at most each key's limit get through.
 */
export async function countAttempt(d1: D1Database, keys: ThrottleKey[], now: Date): Promise<Attempt> {
  if (keys.length === 0) return { kind: "counted", counted: [] };
  const d = db(d1);
  const results = await batch(d1, [...keys.map((k) => countOne(d, k, now)), takeBackIfRefused(d, keys)]);
  let wait = 0;
  const counted = keys.map((key, i) => {
    // The row countOne's RETURNING names.
    const row = results[i]?.results[0] as
      | Pick<SignInFailuresTable, "failures" | "window_started_at">
      | undefined;
    if (!row) throw new Error(`sign-in throttle: no count returned for ${keyOf(key)}`);
    const endsAt = Date.parse(row.window_started_at) + WINDOW_MS;
    if (row.failures > LIMITS[key.kind]) {
      wait = Math.max(wait, Math.ceil((endsAt - now.getTime()) / 1000));
    }
    return { key, windowStartedAt: row.window_started_at };
  });
  return wait > 0 ? { kind: "refused", retryAfterSeconds: wait } : { kind: "counted", counted };
}

/**
 * A successful sign-in: it forgets that client's own failures and gives its count back to the others
 * (in the window it was counted in), so successes never count towards a limit.
 */
export function forgiveAttempt(d: Db, attempt: Extract<Attempt, { kind: "counted" }>): Compilable[] {
  return attempt.counted.map(({ key, windowStartedAt }) =>
    key.kind === "client"
      ? d.deleteFrom("sign_in_failures").where("key", "=", keyOf(key))
      : d
          .updateTable("sign_in_failures")
          .set((eb) => ({ failures: eb("failures", "-", 1) }))
          .where("key", "=", keyOf(key))
          .where("window_started_at", "=", windowStartedAt)
          .where("failures", ">", 0),
  );
}

export function expiredFailures(db: Db, now: Date) {
  return db
    .deleteFrom("sign_in_failures")
    .where("window_started_at", "<", new Date(now.getTime() - WINDOW_MS).toISOString());
}
