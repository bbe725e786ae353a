/**
 * Sign-in throttling: failures are counted inside a fixed window per (account, client address), per
 * client address, and per account across all addresses. Past a limit, sign-in answers 429 with
 * Retry-After until the window ends — even for the right password, so guessing cannot continue by luck.
 * The per-account limit is high on purpose: a low one would let anyone lock out anyone else.
 */
import type { Db } from "../db/client";

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

/** Seconds until sign-in may be tried again, or 0 when it may be tried now. */
export async function retryAfterSeconds(db: Db, keys: ThrottleKey[], now: Date): Promise<number> {
  if (keys.length === 0) return 0;
  const rows = await db
    .selectFrom("sign_in_failures")
    .selectAll()
    .where("key", "in", keys.map(keyOf))
    .execute();
  let wait = 0;
  for (const row of rows) {
    const kind = row.key.slice(0, row.key.indexOf(":")) as ThrottleKey["kind"];
    const endsAt = Date.parse(row.window_started_at) + WINDOW_MS;
    if (row.failures >= LIMITS[kind] && endsAt > now.getTime()) {
      wait = Math.max(wait, Math.ceil((endsAt - now.getTime()) / 1000));
    }
  }
  return wait;
}

export function recordFailures(db: Db, keys: ThrottleKey[], now: Date) {
  const windowStart = new Date(now.getTime() - WINDOW_MS).toISOString();
  return keys.map((k) =>
    db
      .insertInto("sign_in_failures")
      .values({ key: keyOf(k), failures: 1, window_started_at: now.toISOString() })
      .onConflict((oc) =>
        oc.column("key").doUpdateSet((eb) => ({
          // A window that has ended starts over at 1.
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
      ),
  );
}

/** A successful sign-in forgets that client's own failures. */
export function clearFailures(db: Db, email: string, ip: string | null) {
  return db.deleteFrom("sign_in_failures").where("key", "=", keyOf(clientKey(email, ip)));
}

export function expiredFailures(db: Db, now: Date) {
  return db
    .deleteFrom("sign_in_failures")
    .where("window_started_at", "<", new Date(now.getTime() - WINDOW_MS).toISOString());
}
