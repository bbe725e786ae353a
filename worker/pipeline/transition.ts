/**
 * One state transition, synchronously: load the run, step the planner, and write the new state with
 * the rows that belong to it (timers, callback tokens, output blobs, logs) in one transactionSync.
 * Nothing awaits in here, so no other event can interleave between reading and writing the run.
 */

import { toBase64Url } from "../crypto/encoding";
import { randomBytes } from "../crypto/random";
import { type Effect, type RunEvent, type RunState, stepAll, type TimerRef } from "../engine";
import type { PluginLog } from "../runner/outcome";
import type { AuditRecord } from "./audit";
import type { Live } from "./live";
import type { Plans } from "./plans";
import type { AttemptLines, CallbackRow, Records } from "./records";
import type { Slots } from "./slots";
import type { Store } from "./store";
import type { Summaries } from "./summaries";
import type { RunTimer, Timers } from "./timers";

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
  timer?: RunTimer;
  /** The callback token of the dispatch a result answers: only its first result counts. */
  answered?: { key: string; dispatch: number };
  /** A person's action: its audit entry, written when the planner applies or ignores it (not refuses). */
  audit?: AuditRecord;
};

/** An event for the planner and the rows that go with it. */
export type Delivery = { event: RunEvent; attach: Attachments };

export type Applied =
  | { kind: "applied"; state: RunState; jobs: Job[]; finished: boolean }
  | { kind: "ignored"; reason: string }
  | { kind: "rejected"; rejected: "conflict" | "invalid"; detail: string }
  | { kind: "not_found" };

/** Rows the effects of one transition write, in as few statements as fit (rows.ts). */
type EffectRows = {
  /** The last change per timer id wins: a timer set, or null for cleared. */
  timers: Map<string, { at: number; ref: TimerRef } | null>;
  callbacks: CallbackRow[];
};

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
    const plan = this.plans.planOfRun(runId, stored.version);
    const events = items.map((item) => item.event);
    const capacity = this.slots.capacityFor(runId, stored.version);
    const context = capacity === undefined ? { now } : { now, capacity };
    const { state, effects, skipped } = stepAll(plan, stored.state, events, context);
    // Audited: what the planner applied or ignored (a cancel of a finished run); not what it refused.
    const refused = new Set(skipped.filter((s) => s.result.kind !== "ignored").map((s) => s.index));
    const audited = items.filter((_, index) => !refused.has(index));
    if (skipped.length === items.length) {
      this.store.transaction(() => {
        this.alwaysAll(runId, items);
        this.auditAll(audited, now);
      });
      return skipped[0]?.result ?? { kind: "ignored", reason: "no events" };
    }
    const ignored = new Set(skipped.map((s) => s.index));
    const jobs: Job[] = [];
    let finished = false;
    this.store.transaction(() => {
      this.alwaysAll(runId, items);
      this.store.updateRun(state);
      if (state.status !== stored.state.status) this.summaries.mark(runId);
      const applied = items.filter((_, index) => !ignored.has(index));
      this.auditAll(audited, now);
      this.store.putBlobs(
        runId,
        applied.flatMap(({ attach }) => attach.blobs ?? []),
      );
      const logs: AttemptLines[] = applied.flatMap(({ attach }) => (attach.logs ? [attach.logs] : []));
      this.records.logAll(runId, logs, now);
      const rows: EffectRows = { timers: new Map(), callbacks: [] };
      for (const effect of effects) {
        if (effect.type === "run_finished") finished = true;
        const job = this.perform(runId, stored.version, effect, rows);
        if (job) jobs.push(job);
      }
      this.timers.write(runId, rows.timers);
      this.records.addCallbacks(rows.callbacks);
    });
    // Watchers hear of a change only once it is committed.
    this.live.broadcast(effects.flatMap((e) => (e.type === "publish" ? [e.event] : [])));
    return { kind: "applied", state, jobs, finished };
  }

  private auditAll(items: readonly Delivery[], now: number): void {
    for (const { attach } of items) if (attach.audit) this.summaries.audit(attach.audit, now);
  }

  /** Whatever the planner says: due timer rows are consumed, answered dispatches' tokens dropped. */
  private alwaysAll(runId: string, items: readonly Delivery[]): void {
    for (const { attach } of items) if (attach.timer) this.timers.consume(attach.timer);
    this.records.dropCallbacks(
      runId,
      items.flatMap(({ attach }) => (attach.answered ? [attach.answered] : [])),
    );
  }

  /** Collects the effect's rows (written together after the loop); returns the work it asks for. */
  private perform(run: string, version: number, effect: Effect, rows: EffectRows): Job | null {
    switch (effect.type) {
      case "set_timer":
        rows.timers.set(effect.id, { at: effect.at, ref: effect.timer });
        return null;
      case "clear_timer":
        rows.timers.set(effect.id, null);
        return null;
      case "dispatch": {
        const { key, attempt, dispatch } = effect;
        // A redelivery is the same invocation, so it keeps the dispatch's callback token.
        const kept = effect.redelivery ? this.records.callbackOf(run, key, dispatch)?.token : undefined;
        const token = kept ?? `cb_${this.objectId}_${toBase64Url(randomBytes(24))}`;
        if (!kept) rows.callbacks.push({ token, run, key, attempt, dispatch });
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
