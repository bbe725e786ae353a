/**
 * Rate limits on the marketplace actions that make the platform call a URL a tenant controls: a
 * publication fetches `{url}/manifest`, a connection test calls the plugin. A person does either a few
 * times in a sitting; a script in a loop could do it thousands of times and make the platform a relay
 * that hammers a host of the tenant's choosing. So the limits sit far above real use, far below a loop:
 *
 * - 30 publications per tenant per hour. A publisher releases a few versions a day; even fixing a
 *   manifest by trial and error is one publication every two minutes for an hour.
 * - 20 connection tests per installation per minute, and 60 per tenant per minute. A person clicks
 *   "Test" a few times while fixing a key; the tenant's cap bounds a loop over many installations of
 *   one plugin (a tenant may have MAX_INSTALLATIONS), which would all call the same host.
 *
 * Counted like sign-in attempts (auth/throttle.ts): in D1 (migration 0017), so every isolate counts in
 * the same window, and in the one batch that decides the call, so parallel calls cannot all slip under
 * a limit. A refused call is taken back from every count (it changes nothing) and is answered with the
 * seconds until its window ends. A window that has ended starts over; the cron sweeps ended ones.
 */
import type { Compilable } from "kysely";
import { batch, type Db, db } from "../db/client";
import type { ActionCountsTable } from "../db/schema";

const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;

export const PUBLICATIONS_PER_TENANT_PER_HOUR = 30;
export const TESTS_PER_INSTALLATION_PER_MINUTE = 20;
export const TESTS_PER_TENANT_PER_MINUTE = 60;

/** One count: at most `max` calls under `key` per window of `windowMs`; `what` words it for a person. */
export type Limit = { key: string; max: number; windowMs: number; what: string };

export type Turn = { kind: "allowed" } | { kind: "refused"; retryAfterSeconds: number; detail: string };

export function publicationLimits(tenantId: string): Limit[] {
  return [
    {
      key: `publish:${tenantId}`,
      max: PUBLICATIONS_PER_TENANT_PER_HOUR,
      windowMs: HOUR,
      what: "publications per tenant per hour",
    },
  ];
}

export function connectionTestLimits(tenantId: string, installationId: string): Limit[] {
  return [
    {
      key: `test:${installationId}`,
      max: TESTS_PER_INSTALLATION_PER_MINUTE,
      windowMs: MINUTE,
      what: "connection tests of one installation per minute",
    },
    {
      key: `test-tenant:${tenantId}`,
      max: TESTS_PER_TENANT_PER_MINUTE,
      windowMs: MINUTE,
      what: "connection tests per tenant per minute",
    },
  ];
}

/** Counts one call against every limit, or refuses it (and counts it nowhere) when one is past its max. */
export async function takeTurn(d1: D1Database, limits: readonly Limit[], now = Date.now()): Promise<Turn> {
  if (limits.length === 0) return { kind: "allowed" };
  const d = db(d1);
  const results = await batch(d1, [...limits.map((l) => countOne(d, l, now)), takeBackIfRefused(d, limits)]);
  let refused: { limit: Limit; wait: number } | null = null;
  for (const [i, limit] of limits.entries()) {
    // The row countOne's RETURNING names.
    const row = results[i]?.results[0] as Omit<ActionCountsTable, "key"> | undefined;
    if (!row) throw new Error(`action limits: no count returned for ${limit.key}`);
    if (row.count <= limit.max) continue;
    const wait = Math.max(1, Math.ceil((row.window_ends_at - now) / 1000));
    if (!refused || wait > refused.wait) refused = { limit, wait };
  }
  if (!refused) return { kind: "allowed" };
  return {
    kind: "refused",
    retryAfterSeconds: refused.wait,
    detail: `At most ${refused.limit.max} ${refused.limit.what}; try again in ${refused.wait} s.`,
  };
}

/** One more call under a limit's key, returning the new count; a window that has ended starts over at 1. */
function countOne(d: Db, limit: Limit, now: number) {
  const ends = now + limit.windowMs;
  return d
    .insertInto("action_counts")
    .values({ key: limit.key, count: 1, window_ends_at: ends })
    .onConflict((oc) =>
      oc.column("key").doUpdateSet((eb) => ({
        count: eb
          .case()
          .when("action_counts.window_ends_at", "<=", now)
          .then(1)
          .else(eb("action_counts.count", "+", 1))
          .end(),
        window_ends_at: eb
          .case()
          .when("action_counts.window_ends_at", "<=", now)
          .then(ends)
          .else(eb.ref("action_counts.window_ends_at"))
          .end(),
      })),
    )
    .returning(["count", "window_ends_at"]);
}

/** After the counts, in the same batch: a call one limit refuses is taken back from all of them. */
function takeBackIfRefused(d: Db, limits: readonly Limit[]) {
  return d
    .updateTable("action_counts")
    .set((eb) => ({ count: eb("count", "-", 1) }))
    .where(
      "key",
      "in",
      limits.map((l) => l.key),
    )
    .where(({ exists, selectFrom }) =>
      exists(
        selectFrom("action_counts as past")
          .select("past.key")
          .where(({ or, and, eb }) =>
            or(limits.map((l) => and([eb("past.key", "=", l.key), eb("past.count", ">", l.max)]))),
          ),
      ),
    );
}

/** The cron's sweep of windows that have ended (a later call would start them over anyway). */
export function endedWindows(d1: D1Database, now: number): Compilable {
  return db(d1).deleteFrom("action_counts").where("window_ends_at", "<=", now);
}
