/**
 * One state transition, synchronously: load the run, step the planner, and write the new state with
 * the rows that belong to it (timers, callback tokens, output blobs, logs) in one transactionSync.
 * Nothing awaits in here, so no other event can interleave between reading and writing the run.
 */

import { toBase64Url } from "../crypto/encoding";
import { randomBytes } from "../crypto/random";
import { type Effect, type RunEvent, type RunState, stepAll } from "../engine";
import type { PluginLog } from "../runner/outcome";
import type { Live } from "./live";
import type { Plans } from "./plans";
import type { Records } from "./records";
import type { Slots } from "./slots";
import type { Store } from "./store";
import type { Summaries } from "./summaries";
import type { DueTimer, Timers } from "./timers";

export type DispatchJob = Extract<Effect, { type: "dispatch" }> & {
  run: string;
  version: number;
  token: string;
};
export type EvaluateJob = Extract<Effect, { type: "evaluate" }> & { run: string; version: number };
export type Job = { kind: "dispatch"; job: DispatchJob } | { kind: "evaluate"; job: EvaluateJob };

/** Rows written with the transition, only when the planner applies the event. */
export type Attachments = {
  blobs?: { ref: string; value: unknown }[];
  logs?: { key: string; attempt: number; lines: PluginLog[] };
  /** A due timer row to consume whatever the planner says (alarms are at-least-once). */
  timer?: DueTimer;
  /** The callback token of the dispatch a result answers: only its first result counts. */
  answered?: { key: string; dispatch: number };
};

/** An event for the planner and the rows that go with it. */
export type Delivery = { event: RunEvent; attach: Attachments };

export type Applied =
  | { kind: "applied"; state: RunState; jobs: Job[]; finished: boolean }
  | { kind: "ignored"; reason: string }
  | { kind: "rejected"; rejected: "conflict" | "invalid"; detail: string }
  | { kind: "not_found" };

export class Transitions {
  constructor(
    private readonly store: Store,
    private readonly timers: Timers,
    private readonly records: Records,
    private readonly plans: Plans,
    /** The DO's id, so the Worker can route a callback token back to this object. */
    private readonly objectId: string,
    private readonly summaries: Summaries,
    private readonly live: Live,
    private readonly slots: Slots,
  ) {}

  apply(runId: string, event: RunEvent, now: number, attach: Attachments = {}): Applied {
    return this.applyAll(runId, [{ event, attach }], now);
  }

  /**
   * Several events of one run as one transition: the planner folds them in order (stepAll) and the run
   * is written once. Attachments of events the planner ignored are not written; their `always` part is.
   * With one event, a refusal comes back as is; with several, the first one's when none applied.
   */
  applyAll(runId: string, items: readonly Delivery[], now: number): Applied {
    const stored = this.store.run(runId);
    if (!stored) {
      // A timer or callback of a run that is gone: drop its row so it does not fire forever.
      this.store.transaction(() => this.alwaysAll(runId, items));
      return { kind: "not_found" };
    }
    const plan = this.plans.plan(stored.version);
    const events = items.map((item) => item.event);
    const capacity = this.slots.capacityFor(runId, stored.version);
    const context = capacity === undefined ? { now } : { now, capacity };
    const { state, effects, skipped } = stepAll(plan, stored.state, events, context);
    if (skipped.length === items.length) {
      this.store.transaction(() => this.alwaysAll(runId, items));
      return skipped[0]?.result ?? { kind: "ignored", reason: "no events" };
    }
    const ignored = new Set(skipped.map((s) => s.index));
    const jobs: Job[] = [];
    let finished = false;
    this.store.transaction(() => {
      this.alwaysAll(runId, items);
      this.store.updateRun(state);
      if (state.status !== stored.state.status) this.summaries.mark(runId);
      for (const [index, { attach }] of items.entries()) {
        if (ignored.has(index)) continue;
        for (const blob of attach.blobs ?? []) this.store.putBlob(blob.ref, runId, blob.value);
        if (attach.logs)
          this.records.log(runId, attach.logs.key, attach.logs.attempt, attach.logs.lines, now);
      }
      for (const effect of effects) {
        if (effect.type === "run_finished") finished = true;
        const job = this.perform(runId, stored.version, effect);
        if (job) jobs.push(job);
      }
    });
    // Watchers hear of a change only once it is committed.
    this.live.broadcast(effects.flatMap((e) => (e.type === "publish" ? [e.event] : [])));
    return { kind: "applied", state, jobs, finished };
  }

  private alwaysAll(runId: string, items: readonly Delivery[]): void {
    for (const { attach } of items) this.always(runId, attach);
  }

  private always(runId: string, attach: Attachments): void {
    if (attach.timer) this.timers.consume(attach.timer);
    if (attach.answered) this.records.dropCallback(runId, attach.answered.key, attach.answered.dispatch);
  }

  /** Writes the effect's rows; returns the work it asks for after the commit. */
  private perform(run: string, version: number, effect: Effect): Job | null {
    switch (effect.type) {
      case "set_timer":
        this.timers.set(run, effect.id, effect.at, effect.timer);
        return null;
      case "clear_timer":
        this.timers.clear(run, effect.id);
        return null;
      case "dispatch": {
        const { key, attempt, dispatch } = effect;
        // A redelivery is the same invocation, so it keeps the dispatch's callback token.
        const kept = effect.redelivery ? this.records.callbackOf(run, key, dispatch)?.token : undefined;
        const token = kept ?? `cb_${this.objectId}_${toBase64Url(randomBytes(24))}`;
        if (!kept) this.records.addCallback({ token, run, key, attempt, dispatch });
        return { kind: "dispatch", job: { ...effect, run, version, token } };
      }
      case "evaluate":
        return { kind: "evaluate", job: { ...effect, run, version } };
      case "run_finished":
      case "publish":
        // Broadcast after the commit (apply); D1 summaries follow the status change (summaries.ts).
        return null;
      default: {
        const never: never = effect;
        throw new Error(`unknown effect ${JSON.stringify(never)}`);
      }
    }
  }
}
