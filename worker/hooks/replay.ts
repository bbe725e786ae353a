/**
 * Replay (issue 12 §5): a stored delivery, or every delivery of a time range (a webhook backfill),
 * re-driven through the same run creation as a live one: admitted by the tenant's run quotas, each run
 * created in one turn with a new ledger row that records it (`replayed_from` names the original). A
 * replay is a person's decision: it is not verified again (the delivery was, when it arrived; only
 * verified deliveries replay), nor filtered, nor deduplicated. "original" runs the version the delivery
 * was for, "latest" the newest the object has.
 */
import type { Quotas } from "../config";
import type { Refusal } from "../tenant/ledger";
import type { DeskHost, StartItem } from "./desk";
import { newDeliveryId, payloadOf } from "./desk";
import type { DeliveryLedger, Stored } from "./ledger";
import type { HookSweeps } from "./sweeps";
import type { Verdict } from "./types";

/** Deliveries one range replay may re-drive (issue 12: up to 1,000). */
export const MAX_REPLAY = 1_000;

export type ReplayVersion = "original" | "latest";
/** `delivery_id`: the delivery replayed; `replay_id`: the new one that records the replay. */
export type ReplayItem = {
  delivery_id: string;
  replay_id: string | null;
  run_id: string | null;
  status: string;
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
  | { kind: "too_many"; limit: number }
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
    if (!stored.verified)
      return { kind: "conflict", detail: "The delivery was never verified, so it cannot be replayed." };
    const result = await this.replay([stored], version, quotas, false);
    if (result.kind === "done" && result.items[0]?.run_id === null)
      return { kind: "conflict", detail: `The delivery cannot be replayed: ${result.items[0]?.status}.` };
    return result;
  }

  async range(query: ReplayRange, quotas: Quotas): Promise<Replayed> {
    const found = this.ledger.range({ ...query, limit: MAX_REPLAY + 1 });
    if (found.length > MAX_REPLAY) return { kind: "too_many", limit: MAX_REPLAY };
    return this.replay(found, query.version, quotas, query.dry_run);
  }

  private async replay(
    deliveries: readonly Stored[],
    version: ReplayVersion,
    quotas: Quotas,
    dryRun: boolean,
  ): Promise<Replayed> {
    const latest = this.host.latestVersion();
    const items: ReplayItem[] = [];
    const starts: StartItem[] = [];
    const now = Date.now();
    for (const stored of deliveries) {
      const chosen = version === "original" ? stored.version : latest;
      if (!stored.verified) {
        items.push(skipped(stored, "skipped: never verified", null));
      } else if (chosen === null || !this.host.hasVersion(chosen)) {
        items.push(skipped(stored, `skipped: version ${chosen ?? "?"} is no longer kept`, chosen));
      } else {
        const item = skipped(stored, "planned", chosen);
        items.push(item);
        if (!dryRun) starts.push(this.startItem(stored, chosen, item, now));
      }
    }
    if (dryRun || starts.length === 0) return { kind: "done", items };
    const identity = this.host.identity();
    if (!identity) throw new Error("a replay in an object that has no identity yet");
    const started = await this.host.start(identity, starts, quotas, false);
    if (started.kind !== "created") return { ...started, asked: starts.length };
    return { kind: "done", items };
  }

  private startItem(stored: Stored, version: number, item: ReplayItem, now: number): StartItem {
    return {
      version,
      payload: payloadOf(stored.headers, stored.body, stored.query),
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
          body: stored.body,
          run_id: runId,
          duplicate_of: null,
          replayed_from: stored.id,
          elapsed_ms: 0,
        });
        Object.assign(item, { run_id: runId, replay_id: id, status: "created" });
        this.sweeps.recorded(now);
        this.host.recorded(summary);
      },
    };
  }
}

function skipped(stored: Stored, status: string, version: number | null): ReplayItem {
  return { delivery_id: stored.id, replay_id: null, run_id: null, status, version };
}
