/**
 * Everything a PipelineDO does, behind its thin class: create and change runs (one transition each),
 * then let the pump carry the chain on; deliver due timers and plugin callbacks.
 */
import { createRun, parseTaskKey, type RunEvent, type RunState } from "../engine";
import { type Outcome, PluginResult, toOutcome } from "../runner/outcome";
import { tenantStub } from "../tenant/address";
import type { AuditRecord } from "./audit";
import { answer, dispatch, secretsOfAnswer } from "./dispatch";
import { evaluateGate } from "./evaluate";
import { Inbox } from "./inbox";
import { Live } from "./live";
import { Plans } from "./plans";
import { PluginTable, pinsRef } from "./plugins";
import { Pump } from "./pump";
import { type CallbackRow, Records } from "./records";
import { Slots } from "./slots";
import { Store, type StoredRun } from "./store";
import { Summaries } from "./summaries";
import { type RunTimer, Timers } from "./timers";
import { type Applied, type Attachments, type Delivery, type Job, Transitions } from "./transition";
import type { Changed, CreateRunInput } from "./types";

/** How soon a run whose recovery threw is tried again. */
export const RECOVER_RETRY_MS = 5_000;

export class Driver {
  readonly store: Store;
  readonly records: Records;
  readonly timers: Timers;
  readonly plans: Plans;
  readonly plugins: PluginTable;
  readonly pump: Pump;
  readonly live: Live;
  readonly summaries: Summaries;
  private readonly transitions: Transitions;
  private readonly slots: Slots;
  private sharing = false;
  private readonly inbox = new Inbox((run, items) => this.applyAnswers(run, items));
  /** Who waits for a run to finish (a `respond: sync` delivery), by run. */
  private readonly finishWaiters = new Map<string, Set<() => void>>();
  /** Runs whose recovery is still owed (null until the first recover()); see recover(). */
  private unrecovered: Set<string> | null = null;
  private recoverAfter = 0;

  constructor(
    ctx: DurableObjectState,
    private readonly env: Env,
  ) {
    const sql = ctx.storage.sql;
    this.store = new Store(ctx.storage);
    this.records = new Records(sql);
    this.timers = new Timers(sql, ctx.storage);
    this.plugins = new PluginTable(sql);
    this.plans = new Plans(this.store, (plugin, operator) => this.plugins.operator(plugin, operator));
    this.live = new Live(ctx);
    this.summaries = new Summaries(
      sql,
      env.DB,
      () => this.store.identity(),
      (tenantId, marks) => tenantStub(env, tenantId).sync(marks),
    );
    this.slots = new Slots(this.store, this.plans);
    this.transitions = new Transitions(
      this.store,
      this.timers,
      this.records,
      this.plans,
      ctx.id.toString(),
      this.summaries,
      this.live,
      this.slots,
    );
    this.pump = new Pump((job) => this.handle(job));
  }

  /** `id` is the one the tenant's ledger admitted (admission.ts). */
  createRun(input: CreateRunInput, id: string): { id: string; status: string } {
    this.recover();
    const { spec, version, params, trigger, logical_date, audit, ...identity } = input;
    const now = Date.now();
    const state = createRun(this.plans.remember(version, spec), {
      id,
      now,
      params: params as RunState["params"],
      trigger_ref: trigger.payload === undefined ? null : `trigger:${id}`,
      logical_date: logical_date ?? null,
    });
    this.store.transaction(() => {
      this.store.setIdentity(identity);
      this.store.putVersion(version, JSON.stringify(spec));
      this.store.insertRun({ version, trigger: trigger.kind, seq: this.store.nextSeq(), state });
      if (trigger.payload !== undefined) this.store.putBlob(`trigger:${id}`, id, trigger.payload);
      // The plugin versions and connections the run calls, as the object holds them now (plugins.ts).
      this.store.putBlob(pinsRef(id), id, this.plugins.pinFor(spec));
      this.summaries.mark(id);
      if (audit) this.summaries.audit({ ...audit, target: `${audit.target}/${id}` }, now);
    });
    this.live.broadcast([{ type: "run", run: id, status: state.status, at: now }]);
    this.startQueued();
    return { id, status: this.store.run(id)?.state.status ?? "queued" };
  }

  /** A person's action on a run: the planner decides whether it is allowed now. */
  change(runId: string, event: RunEvent, audit?: AuditRecord): Changed<{ status: string }> {
    this.recover();
    const result = this.step(runId, event, audit ? { audit } : {});
    switch (result.kind) {
      case "not_found":
        return { ok: false, error: "not_found", detail: "No such run." };
      case "rejected":
        return { ok: false, error: result.rejected, detail: result.detail };
      case "ignored":
      case "applied":
        return { ok: true, value: { status: this.store.run(runId)?.state.status ?? "unknown" } };
    }
  }

  /** The pipeline is being deleted: nothing of it may run any more. Returns how many runs were stopped. */
  cancelAll(reason: string): number {
    this.recover();
    let cancelled = 0;
    for (const id of [...this.store.queued(), ...this.store.running()]) {
      if (this.step(id, { type: "cancel", reason }).kind === "applied") cancelled++;
    }
    return cancelled;
  }

  /** A run's due timer (Timers.dispatch): one transition, which consumes the row whatever it decides. */
  deliverTimer(timer: RunTimer): void {
    this.step(timer.run, { type: "timer", timer: timer.ref }, { timer });
  }

  async deliverCallback(token: string, body: unknown): Promise<Changed<null>> {
    this.recover();
    const row = this.records.callback(token);
    if (!row) return { ok: false, error: "not_found", detail: "Unknown or already answered callback." };
    if (!this.awaits(row)) {
      // Its attempt timed out, was cancelled or the run ended: the result is late, and counts for nothing.
      this.records.dropCallbacks(row.run, [row]);
      return { ok: false, error: "not_found", detail: "This attempt no longer waits for a result." };
    }
    const parsed = PluginResult.safeParse(body);
    if (!parsed.success || parsed.data.status === "running") {
      return { ok: false, error: "invalid", detail: "The body is not a final protocol v1 result." };
    }
    await this.deliverOutcome(row, toOutcome(parsed.data));
    return { ok: true, value: null };
  }

  /** Whether the callback's dispatch is still the one its task instance waits for. */
  private awaits(row: CallbackRow): boolean {
    const stored = this.store.run(row.run);
    const key = parseTaskKey(row.key);
    if (!stored || !key) return false;
    const instance = stored.state.tasks[key.task]?.instances.find((i) => i.map_index === key.map_index);
    if (!instance || (instance.status !== "scheduled" && instance.status !== "running")) return false;
    return instance.dispatch === row.dispatch;
  }

  /**
   * Outcomes a Dispatcher reported for calls this object no longer waits for in memory (it restarted
   * since the hand-off): each still counts once if its dispatch is unanswered; returns how many did.
   */
  async deliverReported(results: readonly { token: string; outcome: Outcome }[]): Promise<number> {
    let delivered = 0;
    for (const { token, outcome } of results) {
      const row = this.records.callback(token);
      if (!row) continue;
      await this.deliverOutcome(row, outcome);
      delivered++;
    }
    return delivered;
  }

  /** An answer that arrived outside a dispatch job: redact with the task's secrets, then one transition. */
  private async deliverOutcome(row: CallbackRow, outcome: Outcome): Promise<void> {
    const stored = this.store.run(row.run);
    const identity = this.store.identity();
    const key = parseTaskKey(row.key);
    const deps = { env: this.env, store: this.store, plans: this.plans, plugins: this.plugins };
    const secrets =
      stored && identity && key
        ? await secretsOfAnswer({ ...deps, identity }, row.run, stored.version, key.task)
        : [];
    await this.inbox.deliver(row.run, answer(row, outcome, secrets));
  }

  /**
   * Once per object lifetime, before any new work (every entry that can dispatch calls it first):
   * what was in flight when the previous instance died (a crash, a deploy, an eviction) is lost, and
   * nothing else would answer it. Evaluations are asked again, and plugin calls sent but not yet
   * answered are sent again as the same invocations (the planner's "redeliver"). Whichever answer
   * arrives first counts.
   */
  recover(now = Date.now()): void {
    this.unrecovered ??= new Set(this.store.running());
    if (this.unrecovered.size === 0 || now < this.recoverAfter) return;
    // A run that throws (storage trouble) must not keep the others from recovering; it is tried
    // again RECOVER_RETRY_MS later, by the next entry or the watchdog alarm that `busy` keeps coming.
    for (const id of [...this.unrecovered]) {
      try {
        const stored = this.store.run(id);
        if (stored?.state.status === "running") {
          this.step(id, { type: "redeliver" });
          this.pump.push(lostEvaluations(stored));
        }
        this.unrecovered.delete(id);
      } catch (error) {
        if (this.recoverAfter === 0) console.error("run not recovered; tried again later", id, error);
      }
    }
    this.recoverAfter = this.unrecovered.size > 0 ? now + RECOVER_RETRY_MS : 0;
  }

  /** Work in flight, answers waiting to be recorded, or runs waiting to be recovered. */
  get busy(): boolean {
    return this.pump.busy || this.inbox.retrying > 0 || (this.unrecovered?.size ?? 0) > 0;
  }

  /** Lets queued runs start while max_active_runs allows (the oldest first). */
  startQueued(): void {
    for (const id of this.store.queued()) {
      const version = this.store.run(id)?.version;
      if (version === undefined) continue;
      const limit = this.plans.spec(version).concurrency?.max_active_runs ?? Number.POSITIVE_INFINITY;
      if (this.store.countRunning() >= limit) return;
      this.step(id, { type: "start" });
    }
  }

  private step(runId: string, event: RunEvent, attach: Attachments = {}): Applied {
    const result = this.transitions.apply(runId, event, Date.now(), attach);
    this.after(runId, result);
    return result;
  }

  /** Resolves true when the run finishes within `ms`, false after it (the run's status is not read). */
  finished(runId: string, ms: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const waiters = this.finishWaiters.get(runId) ?? new Set();
      this.finishWaiters.set(runId, waiters);
      const done = (finished: boolean) => {
        clearTimeout(timer);
        waiters.delete(wake);
        if (waiters.size === 0) this.finishWaiters.delete(runId);
        resolve(finished);
      };
      const wake = () => done(true);
      const timer = setTimeout(() => done(false), ms);
      waiters.add(wake);
    });
  }

  /** The work an applied transition asks for, and the slots or run places it may have freed. */
  private after(runId: string, result: Applied): void {
    if (result.kind !== "applied") return;
    if (result.finished) for (const wake of [...(this.finishWaiters.get(runId) ?? [])]) wake();
    this.pump.push(result.jobs);
    if (result.finished) this.startQueued();
    this.shareSlots(runId);
  }

  /** Under a pipeline-wide max_active_tasks, runs blocked on slots get a tick, the oldest first. */
  private shareSlots(runId: string): void {
    const version = this.store.run(runId)?.version;
    if (this.sharing || version === undefined || !this.slots.capped(version)) return;
    this.sharing = true;
    try {
      for (const other of this.slots.blocked(runId, Date.now())) this.step(other, { type: "tick" });
    } finally {
      this.sharing = false;
    }
  }

  private async handle(job: Job): Promise<Job[]> {
    const identity = this.store.identity();
    if (!identity) return [];
    const deps = {
      env: this.env,
      store: this.store,
      plans: this.plans,
      plugins: this.plugins,
      identity,
      now: Date.now,
    };
    const result =
      job.kind === "dispatch" ? await dispatch(deps, job.job) : await evaluateGate(deps, job.job);
    if (result) await this.inbox.deliver(job.job.run, result);
    return [];
  }

  /** Answers gathered by the inbox: one transition per run. */
  private applyAnswers(runId: string, items: readonly Delivery[]): void {
    this.after(runId, this.transitions.applyAll(runId, items, Date.now()));
  }
}

/** Gates whose evaluation only an object alive now can answer. */
function lostEvaluations({ state, version }: StoredRun): Job[] {
  const jobs: Job[] = [];
  for (const [task, { instances }] of Object.entries(state.tasks)) {
    for (const i of instances) {
      if (i.status !== "pending" || (i.gate !== "when" && i.gate !== "for_each")) continue;
      const job = {
        type: "evaluate",
        task,
        kind: i.gate,
        map_index: i.map_index,
        run: state.id,
        version,
      } as const;
      jobs.push({ kind: "evaluate", job });
    }
  }
  return jobs;
}
