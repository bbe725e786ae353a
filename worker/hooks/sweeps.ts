/**
 * The webhook ledger's timers (kind "hooks" in the object's one timer table, timers.ts): retention of
 * recorded deliveries, the dedup window of keys, and the grace of rotated-out secrets. Each is armed
 * at the earliest moment it has work (an upsert that keeps an earlier time), and each sweep deletes a
 * bounded batch, then sets its next time from what is left: no scan per request.
 */
import type { HookTable } from "./hook-table";
import type { DeliveryLedger } from "./ledger";
import type { HookTimers } from "./types";

/** How long recorded deliveries are kept (issue 12: default 7 days). */
export const DELIVERY_RETENTION_MS = 7 * 24 * 3_600_000;
/** Rows one sweep deletes at most; more left comes back a second later. */
export const SWEEP_BATCH = 1_000;
const AGAIN_MS = 1_000;

export type SweepId = "retention" | "dedup" | "grace";

export class HookSweeps {
  constructor(
    private readonly ledger: DeliveryLedger,
    private readonly hooks: HookTable,
    private readonly timers: HookTimers,
    /** Called when the grace sweep dropped a secret (the desk forgets what it opened). */
    private readonly secretsChanged: () => void,
  ) {}

  /** A delivery was recorded: its retention, or at once when the ledger is over one of its caps. */
  recorded(receivedAt: number, now: number): void {
    const full = this.ledger.full();
    this.timers.set("hooks", "retention", full ? now : receivedAt + DELIVERY_RETENTION_MS, {
      earliest: true,
    });
  }

  keyRemembered(expiresAt: number): void {
    this.timers.set("hooks", "dedup", expiresAt, { earliest: true });
  }

  graceEnds(at: number | null): void {
    if (at !== null) this.timers.set("hooks", "grace", at, { earliest: true });
  }

  /** The due timer `id` (Timers.dispatch); an unknown id is dropped. */
  sweep(id: string, now: number): void {
    if (id === "retention") {
      const oldest = this.ledger.forgetBefore(now - DELIVERY_RETENTION_MS, SWEEP_BATCH);
      // Over its caps, the ledger is a ring: the oldest expendable deliveries go first, then the oldest
      // of the rest, only as many as bring it back under, at most a batch a second (ledger.ts evict).
      const over = this.ledger.evict(SWEEP_BATCH);
      this.next(id, now, over ? now : oldest === null ? null : oldest + DELIVERY_RETENTION_MS);
    } else if (id === "dedup") {
      this.next(id, now, this.ledger.forgetKeys(now, SWEEP_BATCH));
    } else if (id === "grace") {
      const next = this.hooks.dropExpiredSecrets(now);
      this.secretsChanged();
      this.next(id, now, next);
    } else console.warn("unknown webhook timer dropped", id);
  }

  /** `due`: when the sweep next has work, or null when it has none. */
  private next(id: SweepId, now: number, due: number | null): void {
    if (due === null) this.timers.clear("hooks", id);
    else this.timers.set("hooks", id, Math.max(due, now + AGAIN_MS));
  }
}
