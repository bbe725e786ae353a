/**
 * Replay (issue 12 §5): a stored delivery, or every delivery of a time range (a webhook backfill),
 * starts a run through the same admission and run creation as a live delivery: the tenant's run
 * quotas, each run created in one turn with a new ledger row that records it (`replayed_from` names
 * the original). A replay is a person's decision, so what guarded the sender's side is not asked
 * again: the signature (only deliveries that were verified replay), the filter and the dedup window.
 * "original" runs the version the delivery was for, "latest" the newest the object has. Only whole
 * bodies replay: one the ledger cut (a duplicate, a filtered or unverified delivery) does not.
 */
import type { Quotas } from "../config";
import type { Refusal } from "../tenant/ledger";
import type { DeskHost, StartItem } from "./desk";
import { newDeliveryId, payloadOf } from "./desk";
import type { DeliveryLedger, Stored } from "./ledger";
import type { HookSweeps } from "./sweeps";
import type { Verdict } from "./types";

/** Deliveries one range replay may re-drive (issue 12: up to 1,000), and their bodies' bytes in all. */
export const MAX_REPLAY = 1_000;
export const MAX_REPLAY_BYTES = 64 * 1024 * 1024;

export type ReplayVersion = "original" | "latest";
/**
 * `delivery_id`: the delivery replayed; `replay_id`: the new one that records the replay; `reason`:
 * why a delivery is skipped.
 */
export type ReplayItem = {
  delivery_id: string;
  replay_id: string | null;
  run_id: string | null;
  status: "planned" | "created" | "skipped";
  reason: string | null;
  version: number | null;
};
export type ReplayRange = {
  from: number;
  to: number;
  verdict: Verdict;
  version: ReplayVersion;
  dry_run: boolean;
};
export type Replayed =
  | { kind: "not_found" }
  | { kind: "conflict"; detail: string }
  | { kind: "too_many"; detail: string }
  | { kind: "refused"; refused: Refusal; asked: number }
  | { kind: "unavailable"; asked: number }
  | { kind: "done"; items: ReplayItem[] };

export class Replays {
  constructor(
    private readonly ledger: DeliveryLedger,
    private readonly host: DeskHost,
    private readonly sweeps: HookSweeps,
  ) {}

  async one(id: string, version: ReplayVersion, quotas: Quotas): Promise<Replayed> {
    const stored = this.ledger.stored(id);
    if (!stored) return { kind: "not_found" };
    const result = await this.replay([stored], version, quotas, false);
    const item = result.kind === "done" ? result.items[0] : undefined;
    if (item?.status === "skipped")
      return { kind: "conflict", detail: `The delivery cannot be replayed: ${item.reason}.` };
    return result;
  }

  /** `inTurn` runs in the turn that creates the runs (the caller's idempotency key commits with them). */
  async range(query: ReplayRange, quotas: Quotas, inTurn?: (items: ReplayItem[]) => void): Promise<Replayed> {
    const found = this.ledger.range({ ...query, limit: MAX_REPLAY + 1 });
    if (found.length > MAX_REPLAY)
      return {
        kind: "too_many",
        detail: `Replay at most ${MAX_REPLAY} deliveries per request; narrow the range.`,
      };
    const bytes = found.reduce((n, d) => n + d.body_bytes, 0);
    if (bytes > MAX_REPLAY_BYTES) {
      const mib = MAX_REPLAY_BYTES / 1024 / 1024;
      return {
        kind: "too_many",
        detail: `Replay at most ${mib} MiB of deliveries per request; narrow the range.`,
      };
    }
    return this.replay(found, query.version, quotas, query.dry_run, inTurn);
  }

  private async replay(
    deliveries: readonly Stored[],
    version: ReplayVersion,
    quotas: Quotas,
    dryRun: boolean,
    inTurn?: (items: ReplayItem[]) => void,
  ): Promise<Replayed> {
    const latest = this.host.latestVersion();
    const items: ReplayItem[] = [];
    const starts: StartItem[] = [];
    const now = Date.now();
    for (const stored of deliveries) {
      const chosen = version === "original" ? stored.version : latest;
      const item = itemOf(stored, chosen, this.skipReason(stored, chosen));
      items.push(item);
      if (!dryRun && item.status === "planned" && chosen !== null)
        starts.push(this.startItem(stored, chosen, item, now));
    }
    if (dryRun || starts.length === 0) return { kind: "done", items };
    const identity = this.host.identity();
    if (!identity) throw new Error("a replay in an object that has no identity yet");
    const started = await this.host.start(identity, starts, quotas, false, () => inTurn?.(items));
    if (started.kind !== "created") return { ...started, asked: starts.length };
    return { kind: "done", items };
  }

  private skipReason(stored: Stored, version: number | null): string | null {
    if (!stored.verified) return "it was never verified";
    if (stored.truncated) return "its body was not kept whole";
    if (version === null || !this.host.hasVersion(version))
      return `version ${version ?? "?"} is no longer kept`;
    return null;
  }

  /** The body is read in the run's turn and let go after it: a range holds one at a time. */
  private startItem(stored: Stored, version: number, item: ReplayItem, now: number): StartItem {
    let body: Uint8Array | null = null;
    const read = () => {
      body ??= this.ledger.body(stored.id);
      return body;
    };
    return {
      version,
      payload: () => payloadOf(stored.headers, read(), stored.query),
      record: (runId) => {
        const id = newDeliveryId();
        const summary = this.ledger.record({
          id,
          trigger_id: stored.trigger_id,
          version,
          verified: true,
          received_at: now,
          verdict: "accepted",
          status: 201,
          detail: null,
          headers: stored.headers,
          query: stored.query,
          body: read(),
          truncated: false,
          run_id: runId,
          duplicate_of: null,
          replayed_from: stored.id,
          elapsed_ms: 0,
        });
        body = null;
        Object.assign(item, { run_id: runId, replay_id: id, status: "created" });
        this.sweeps.recorded(now, now);
        this.host.recorded(summary);
      },
    };
  }
}

function itemOf(stored: Stored, version: number | null, reason: string | null): ReplayItem {
  const status = reason === null ? "planned" : "skipped";
  return { delivery_id: stored.id, replay_id: null, run_id: null, status, reason, version };
}
