/**
 * A live socket is authorised once, at the upgrade; this keeps it honest while it stays open. The alarm
 * comes back every RECHECK_MS while any socket is open (and stops when none is), and one D1 batch asks,
 * for every distinct watcher, whether its session is still signed in, its API token unrevoked and its
 * person still a member of the tenant. Sockets whose access ended are closed with ACCESS_ENDED's codes.
 * A check that fails closes nobody: the next one tries again.
 */
import type { Compilable } from "kysely";
import { signedInSessions } from "../auth/sessions";
import { unrevokedTokens } from "../auth/tokens";
import { batch, type Db, db } from "../db/client";
import { ACCESS_ENDED, type AccessEnded, type Live, type Watcher } from "./live";

/** How often open sockets are rechecked: access that ended closes its socket within about this long. */
export const RECHECK_MS = 5_000;

/** D1 binds at most 100 parameters per statement; one is the tenant's id. */
const PER_STATEMENT = 90;

/** What D1 still allows, as the keys of standing(). */
type Standing = { sessions: Set<string>; tokens: Set<string>; members: Set<string> };
/** One statement of the batch, and where the one column it selects goes (batch() leaves rows untyped). */
type Ask = { statement: Compilable; column: string; keep: (value: string) => void };

export class Watchers {
  /** RECHECK_MS; tests shorten it. */
  intervalMs = RECHECK_MS;

  constructor(
    private readonly live: Live,
    private readonly d1: D1Database,
  ) {}

  /** When the alarm must come back for the next check; null with no socket open. */
  recheckAt(now: number): number | null {
    return this.live.watching().length > 0 ? now + this.intervalMs : null;
  }

  /** Closes the sockets whose access ended. Never throws: the alarm's other work goes on. */
  async recheck(now = new Date()): Promise<void> {
    try {
      const watching = this.live.watching();
      if (watching.length === 0) return;
      const known = watching.flatMap(({ watcher }) => (watcher ? [watcher] : []));
      const standing = await this.standing(known, now);
      for (const { socket, watcher } of watching) {
        const ended = watcher ? endedFor(watcher, standing) : ACCESS_ENDED.unattributed;
        if (ended) this.live.end(socket, ended);
      }
    } catch (error) {
      console.error("live sockets not rechecked; the next alarm tries again", error);
    }
  }

  /**
   * Resolves with `wait`, rechecking every interval meanwhile: an alarm that waits a minute for plugin
   * calls holds no check up.
   */
  async recheckWhile(wait: Promise<void>): Promise<void> {
    let done = false;
    const finished = wait.then(() => {
      done = true;
    });
    while (!done) {
      let tick: ReturnType<typeof setTimeout> | null = null;
      const interval = new Promise<void>((resolve) => {
        tick = setTimeout(resolve, this.intervalMs);
      });
      await Promise.race([finished, interval]);
      clearTimeout(tick);
      if (!done) await this.recheck();
    }
  }

  /** One D1 batch for every distinct session, token and membership the open sockets stand on. */
  private async standing(watchers: readonly Watcher[], now: Date): Promise<Standing> {
    const d = db(this.d1);
    const hashes = new Set<string>();
    const tokenIds = new Set<string>();
    const userIds = new Map<string, Set<string>>();
    for (const watcher of watchers) {
      if (watcher.kind === "token") tokenIds.add(watcher.tokenId);
      else {
        hashes.add(watcher.sessionHash);
        userIds.set(watcher.tenantId, (userIds.get(watcher.tenantId) ?? new Set()).add(watcher.userId));
      }
    }
    const standing: Standing = { sessions: new Set(), tokens: new Set(), members: new Set() };
    const asks: Ask[] = [
      ...chunks(hashes).map((part) => ({
        statement: signedInSessions(d, part, now),
        column: "token_hash",
        keep: (hash: string) => standing.sessions.add(hash),
      })),
      ...chunks(tokenIds).map((part) => ({
        statement: unrevokedTokens(d, part),
        column: "id",
        keep: (id: string) => standing.tokens.add(id),
      })),
      ...[...userIds].flatMap(([tenantId, ids]) =>
        chunks(ids).map((part) => ({
          statement: membersAmong(d, tenantId, part),
          column: "user_id",
          keep: (userId: string) => standing.members.add(memberKey(tenantId, userId)),
        })),
      ),
    ];
    const results = await batch(
      this.d1,
      asks.map((ask) => ask.statement),
    );
    asks.forEach((ask, i) => {
      for (const row of results[i]?.results ?? []) {
        const value = (row as Record<string, unknown>)[ask.column];
        if (typeof value === "string") ask.keep(value);
      }
    });
    return standing;
  }
}

function endedFor(watcher: Watcher, standing: Standing): AccessEnded | null {
  switch (watcher.kind) {
    case "session":
      if (!standing.sessions.has(watcher.sessionHash)) return ACCESS_ENDED.session;
      return standing.members.has(memberKey(watcher.tenantId, watcher.userId))
        ? null
        : ACCESS_ENDED.membership;
    case "token":
      return standing.tokens.has(watcher.tokenId) ? null : ACCESS_ENDED.token;
    default: {
      const unreachable: never = watcher;
      return unreachable;
    }
  }
}

/** Any role may watch (viewer is the least): a membership row is the whole rule. */
function membersAmong(d: Db, tenantId: string, userIds: readonly string[]) {
  return d
    .selectFrom("memberships")
    .select("user_id")
    .where("tenant_id", "=", tenantId)
    .where("user_id", "in", userIds);
}

function memberKey(tenantId: string, userId: string): string {
  return `${tenantId}\n${userId}`;
}

function chunks(items: ReadonlySet<string>): string[][] {
  const all = [...items];
  const out: string[][] = [];
  for (let i = 0; i < all.length; i += PER_STATEMENT) out.push(all.slice(i, i + PER_STATEMENT));
  return out;
}
