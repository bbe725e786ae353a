/**
 * `Idempotency-Key` of POST …/runs, the way Stripe's API treats it: the same key with the same body
 * within 24 hours answers what the first request answered, and creates nothing; the same key with
 * another body is refused. Keys are per pipeline (one object) and per route (the API prefixes them);
 * this module owns `idempotency_keys`. An answer is kept as JSON; the API parses it with its schema.
 */

export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

/** The caller's key and a fingerprint (hash) of the request body it came with. */
export type IdempotencyClaim = { key: string; fingerprint: string };

/** What the first request with the key answered (JSON), or that it is still being answered. */
export type Earlier = { kind: "replay"; answer: unknown } | { kind: "mismatch" } | { kind: "in_progress" };

export class IdempotencyKeys {
  /** Keys whose request is being answered now (see once()). */
  private readonly claiming = new Set<string>();

  constructor(private readonly sql: SqlStorage) {}

  /**
   * Runs `create` once per key at a time, unless the key already has an answer: `create` awaits the
   * tenant's ledger, so a second request with the same key could otherwise pass the check before the
   * first one remembers its key. Without a claim, `create` just runs.
   */
  async once<T>(claim: IdempotencyClaim | undefined, create: () => Promise<T>): Promise<T | Earlier> {
    if (!claim) return create();
    const earlier = this.find(claim, Date.now());
    if (earlier) return earlier;
    if (this.claiming.has(claim.key)) return { kind: "in_progress" };
    this.claiming.add(claim.key);
    try {
      return await create();
    } finally {
      this.claiming.delete(claim.key);
    }
  }

  /** The earlier answer for this key within the window, or null when the key is new (or expired). */
  find(claim: IdempotencyClaim, now: number): Earlier | null {
    const row = this.sql
      .exec<{ fingerprint: string; answer: string }>(
        "SELECT fingerprint, answer FROM idempotency_keys WHERE key = ? AND at > ?",
        claim.key,
        now - IDEMPOTENCY_WINDOW_MS,
      )
      .toArray()[0];
    if (!row) return null;
    if (row.fingerprint !== claim.fingerprint) return { kind: "mismatch" };
    return { kind: "replay", answer: JSON.parse(row.answer) as unknown };
  }

  /** Keeps the answer for the window; expired keys go in the same write (an indexed range delete). */
  remember(claim: IdempotencyClaim, answer: unknown, now: number): void {
    this.sql.exec("DELETE FROM idempotency_keys WHERE at <= ?", now - IDEMPOTENCY_WINDOW_MS);
    this.sql.exec(
      "INSERT OR REPLACE INTO idempotency_keys (key, fingerprint, answer, at) VALUES (?, ?, ?, ?)",
      claim.key,
      claim.fingerprint,
      JSON.stringify(answer),
      now,
    );
  }
}
