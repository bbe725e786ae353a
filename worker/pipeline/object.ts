/**
 * PipelineDO: one per (tenant, pipeline), named `${tenantId}:${pipelineId}`. A thin class: the
 * constructor migrates the schema, RPC methods delegate to the Driver and views, and every method that
 * starts work hands the rest of the chain to `waitUntil` and re-arms the alarm.
 */
import { DurableObject } from "cloudflare:workers";
import type { Quotas } from "../config";
import type { DispatchReport } from "../dispatcher/batch";
import type { RunEvent, RunStatus } from "../engine";
import type { DeliveryQuery } from "../hooks/ledger";
import type { Replayed, ReplayRange, ReplayVersion } from "../hooks/replay";
import type { DeliveryAnswer, DeliveryDetail, DeliveryInput, DeliverySummary } from "../hooks/types";
import type { Refusal, RunQuotas } from "../tenant/ledger";
import { admitRuns, createOnPlaces } from "./admission";
import type { AuditRecord } from "./audit";
import { Driver } from "./driver";
import { type Earlier, type IdempotencyClaim, IdempotencyKeys } from "./idempotency";
import { emptyDataTables, migrate } from "./migrations";
import { recordSkippedFires, scheduledPlaces } from "./quota";
import {
  type BackfillInput,
  type BackfillItem,
  Clock,
  type ScheduleState,
  type ScheduleSync,
} from "./schedule";
import type { Changed, CreateRunInput, LogLine, RunDetail, RunSummary } from "./types";
import { runDetail } from "./view";
import { Watchers } from "./watchers";
import { PipelineWebhooks, type RunDelivery, type TestDelivery } from "./webhooks";

/** What the tenant's ledger said when it did not admit every run asked for (admission.ts). */
export type NotAdmitted = { kind: "refused"; refused: Refusal } | { kind: "unavailable" };
export type RunStart = Earlier | NotAdmitted | { kind: "created"; answer: { id: string; status: string } };
export type BackfillStart = Earlier | NotAdmitted | { kind: "created"; answer: BackfillItem[] };

/** How soon an object comes back to write behind what D1 refused (summaries, audit entries). */
export const OUTBOX_RETRY_MS = 30_000;

/** How long a process death can delay the work it had in flight (see Timers.arm and Driver.recover). */
export const WATCHDOG_MS = 10_000;

/**
 * How long one alarm waits for the work it started. An alarm may run 15 minutes at most, and plugin
 * calls may run longer; work still in flight after this goes on in the object, and the watchdog
 * alarm (WATCHDOG_MS) comes back for it.
 */
export const ALARM_WAIT_MS = 60_000;

export class PipelineDO extends DurableObject<Env> {
  private readonly driver: Driver;
  private readonly clock: Clock;
  private readonly keys: IdempotencyKeys;
  private readonly watchers: Watchers;
  private readonly webhooks: PipelineWebhooks;
  /** The schedule fire under way, if any (fireSchedule runs one at a time). */
  private firing: Promise<void> = Promise.resolve();
  /** ALARM_WAIT_MS; tests shorten it. */
  private alarmWaitMs = ALARM_WAIT_MS;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.driver = new Driver(ctx, env);
    this.clock = new Clock(ctx, this.driver);
    this.keys = new IdempotencyKeys(ctx.storage.sql);
    this.watchers = new Watchers(this.driver.live, env.DB);
    this.webhooks = new PipelineWebhooks(ctx.storage.sql, env, this.driver, this.keys, () => this.continue());
    void ctx.blockConcurrencyWhile(async () => migrate(ctx.storage));
  }

  /**
   * Starts a run. With an idempotency claim, a key seen within 24 hours answers as it did then (or
   * refuses another body) and creates nothing; a new key is kept with the run, in the same turn.
   */
  async createRun(input: CreateRunInput, quotas: RunQuotas, claim?: IdempotencyClaim): Promise<RunStart> {
    return this.keys.once(claim, async () => {
      const places = await admitRuns(this.env, input, 1, quotas, "all");
      if (places.kind !== "admitted") return places;
      const [id] = places.ids;
      if (id === undefined) throw new Error("the ledger admitted no run and refused none");
      const created = await this.releasedUnless(input.tenant_id, places.ids, () => {
        const run = this.driver.createRun(input, id);
        // No await since the run's transaction: the object commits both writes together.
        if (claim) this.keys.remember(claim, run, Date.now());
        return run;
      });
      await this.continue();
      return { kind: "created", answer: created };
    });
  }

  /** Creates runs on admitted places; the places of runs that were not created go back (admission.ts). */
  private releasedUnless<T>(tenantId: string, admitted: readonly string[], create: () => T): Promise<T> {
    return createOnPlaces(this.env, this.driver.store, tenantId, admitted, create);
  }

  /** The answer an Idempotency-Key already has here, checked before quotas: a replay is never refused. */
  earlierAnswer(claim: IdempotencyClaim): Earlier | null {
    return this.keys.find(claim, Date.now());
  }

  getRun(id: string): (RunDetail & { delivery?: RunDelivery }) | null {
    return this.webhooks.withDelivery(runDetail(this.driver, id));
  }

  listRuns(query: { status?: RunStatus; limit: number; cursor?: string }): {
    items: RunSummary[];
    next_cursor: string | null;
  } {
    const before = query.cursor === undefined ? undefined : Number(query.cursor);
    const page = this.driver.store.list(
      query.status,
      query.limit,
      Number.isInteger(before) ? before : undefined,
    );
    return { items: page.items, next_cursor: page.next === null ? null : String(page.next) };
  }

  cancelRun(id: string, audit: AuditRecord): Promise<Changed<{ status: string }>> {
    return this.act(id, { type: "cancel", reason: "cancelled by a person" }, audit);
  }

  retryTask(
    id: string,
    task: string,
    downstream: boolean,
    audit: AuditRecord,
  ): Promise<Changed<{ status: string }>> {
    return this.act(id, { type: "retry_task", task, downstream }, audit);
  }

  markTask(
    id: string,
    task: string,
    status: "success" | "failed",
    audit: AuditRecord,
  ): Promise<Changed<{ status: string }>> {
    return this.act(id, { type: "mark", task, status }, audit);
  }

  taskLogs(id: string, task: string): Changed<LogLine[]> {
    const run = this.driver.store.run(id);
    if (!run) return { ok: false, error: "not_found", detail: "No such run." };
    if (!run.state.tasks[task]) return { ok: false, error: "not_found", detail: "No such task." };
    return { ok: true, value: this.driver.records.logs(id, task) };
  }

  async deliverCallback(token: string, body: unknown): Promise<Changed<null>> {
    const result = await this.driver.deliverCallback(token, body);
    await this.continue();
    return result;
  }

  /**
   * Before the pipeline (or its tenant) is deleted: the clock stops and its queued and running runs are
   * cancelled, so nothing of it calls a plugin or fires again. Its rows stay until purge().
   */
  async retire(reason: string): Promise<{ cancelled: number }> {
    this.clock.stop();
    // Its webhooks answer 404 from now on, also after a sync that was on its way.
    this.driver.store.retire();
    this.webhooks.sync([]);
    const cancelled = this.driver.cancelAll(reason);
    await this.continue();
    return { cancelled };
  }

  /** After the deletion reached D1: every row of the pipeline goes, and with no timer left, the alarm. */
  async purge(): Promise<void> {
    emptyDataTables(this.ctx.storage);
    this.driver.store.retire();
    this.driver.store.forget();
    await this.driver.timers.arm(this.watchdog());
  }

  /** Resolves once nothing is in flight and D1 has the summaries; with the peak concurrency seen so far. */
  async settled(): Promise<{ peak_in_flight: number }> {
    await this.driver.pump.idle();
    await this.flushSummaries();
    return { peak_in_flight: this.driver.pump.peak };
  }

  /**
   * Outcomes of plugin calls a Dispatcher made for this object (worker/dispatcher). Those no dispatch
   * here waits for (the object restarted since the hand-off) count through their callback token if
   * still unanswered; stale ones are ignored.
   */
  async reportResults(report: DispatchReport): Promise<{ delivered: number }> {
    const { delivered, unclaimed } = this.driver.pump.report(report);
    if (unclaimed.length === 0) return { delivered };
    const late = await this.driver.deliverReported(unclaimed);
    await this.continue();
    return { delivered: delivered + late };
  }

  override async alarm(): Promise<void> {
    try {
      this.driver.recover();
      await this.driver.timers.dispatch(Date.now(), {
        run: (timer) => this.driver.deliverTimer(timer),
        schedule: () => this.fireSchedule(),
        hooks: (timer, now) => this.webhooks.desk.sweeps.sweep(timer.id, now),
      });
      // After the due timers: their work is on its way while D1 answers the watchers' check.
      await this.watchers.recheck();
      let timer: ReturnType<typeof setTimeout> | null = null;
      const budget = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.alarmWaitMs);
      });
      await this.watchers.recheckWhile(Promise.race([this.driver.pump.idle(), budget]));
      clearTimeout(timer);
      await this.flushSummaries();
    } finally {
      await this.driver.timers.arm(this.watchdog());
    }
  }

  /**
   * The API saved, paused, unpaused or deleted the pipeline: keep the clock's one timer and the
   * webhooks (what verifying a delivery needs) in step.
   */
  async syncSchedule(input: ScheduleSync): Promise<ScheduleState | null> {
    // A deleted pipeline's object takes no sync that was on its way when it was retired.
    if (this.driver.store.retired()) return null;
    // Syncs may cross on their way: one read from D1 before the last one taken is late.
    if (!this.driver.store.takeRevision(input.revision)) return this.clock.state();
    const { hooks, plugins, data_key, revision: _revision, ...schedule } = input;
    if (plugins && data_key !== undefined) {
      this.driver.plugins.set(plugins, data_key);
      this.driver.plans.forget();
    }
    this.clock.sync(schedule, Date.now());
    if (hooks) this.webhooks.sync(hooks);
    await this.fireSchedule();
    await this.continue();
    return this.clock.state();
  }

  /** The Cron Trigger's safety net: fire what is overdue and re-arm a lost timer; "stale" asks for a sync. */
  async reconcile(version: number): Promise<"ok" | "stale" | "unscheduled"> {
    const state = this.clock.state();
    if (!state) return "unscheduled";
    await this.fireSchedule();
    await this.continue();
    // The cron only pokes unpaused pipelines: a paused clock here missed an unpause.
    return state.version === version && !state.paused ? "ok" : "stale";
  }

  /** A webhook delivery (worker/hooks/ingress.ts): the object decides and records it (hooks/desk.ts). */
  async receiveDelivery(input: DeliveryInput): Promise<DeliveryAnswer> {
    const answer = await this.webhooks.receive(input);
    // The ledger's sweeps may have a new first time (a delivery that started no run armed nothing else).
    await this.armQuietly();
    return answer;
  }

  listDeliveries(query: DeliveryQuery): { items: DeliverySummary[]; next_cursor: string | null } {
    return this.webhooks.list(query);
  }

  getDelivery(id: string): DeliveryDetail | null {
    return this.webhooks.get(id);
  }

  /** "Send test delivery": a sample signed with the trigger's own secret, through the real checks. */
  async testDelivery(triggerId: string, body: unknown, quotas: Quotas): Promise<TestDelivery> {
    const sent = await this.webhooks.test(triggerId, body, quotas);
    await this.armQuietly();
    return sent;
  }

  /** Replays one stored delivery as a new run (hooks/replay.ts). */
  async replayDelivery(id: string, version: ReplayVersion, quotas: Quotas): Promise<Replayed> {
    const result = await this.webhooks.replayOne(id, version, quotas);
    await this.continue();
    return result;
  }

  /** Webhook backfill (hooks/replay.ts): each delivery of the range once. */
  async replayRange(
    range: ReplayRange,
    quotas: Quotas,
    claim?: IdempotencyClaim,
  ): Promise<Replayed | Earlier> {
    const result = await this.webhooks.replayRange(range, quotas, claim);
    await this.continue();
    return result;
  }

  /** The runs a backfill would create (nothing is created). */
  planBackfill(input: BackfillInput): BackfillItem[] {
    return this.clock.backfill({ ...input, dry_run: true });
  }

  /**
   * Creates the runs a backfill asks for; its audit entry (target + run count) and its idempotency key
   * commit with them. A key seen within 24 hours answers as it did then and creates nothing.
   */
  async backfill(
    input: BackfillInput,
    quotas: RunQuotas,
    audit?: AuditRecord,
    claim?: IdempotencyClaim,
  ): Promise<BackfillStart> {
    return this.keys.once(claim, async () => {
      // The API synced the pipeline (and so the identity) before it plans a backfill.
      const identity = this.driver.store.identity();
      if (!identity) throw new Error("backfill of a pipeline whose object has no identity yet");
      const wanted = this.clock.backfill({ ...input, dry_run: true }).length;
      const places = await admitRuns(this.env, identity, wanted, quotas, "all");
      if (places.kind !== "admitted") return places;
      const items = await this.releasedUnless(identity.tenant_id, places.ids, () => {
        const made = this.clock.backfill({ ...input, dry_run: false, ids: places.ids });
        // No await since the runs were created: the entry and the key commit with them.
        const now = Date.now();
        if (audit)
          this.driver.summaries.audit({ ...audit, target: `${audit.target} (${made.length} runs)` }, now);
        if (claim) this.keys.remember(claim, made, now);
        return made;
      });
      await this.continue();
      return { kind: "created", answer: items };
    });
  }

  scheduleState(): { state: ScheduleState | null; runs: ReturnType<Clock["runs"]> } {
    return { state: this.clock.state(), runs: this.clock.runs() };
  }

  /**
   * Fires what the clock owes, within the tenant's daily runs quota (read from D1 only when a fire is
   * due); fires over it are skipped and audited. A fire never throws: one that fails comes back after
   * a growing backoff (Clock.failed), and the alarm's other timers go on.
   */
  private fireSchedule(): Promise<void> {
    // One fire at a time: two (alarm, cron, sync) interleaving at the ledger's answer could otherwise
    // each see the same owed dates, and the one refused would skip what the other was admitted for.
    const fire = this.firing.then(() => this.fireOnce());
    this.firing = fire;
    return fire;
  }

  private async fireOnce(): Promise<void> {
    // One `now` for the count and the fire: a fire that came due while the ledger answered waits for
    // the next alarm instead of being skipped for want of a place.
    const now = Date.now();
    try {
      const identity = this.driver.store.identity();
      const owed = this.clock.owed(now);
      // With nothing owed, fire() still keeps the clock's timer row in step.
      if (owed === 0 || !identity) {
        this.clock.fire(now, [], null);
        return;
      }
      const places = await scheduledPlaces(this.env, identity, owed);
      const fired = await this.releasedUnless(identity.tenant_id, places.ids, () =>
        this.clock.fire(now, places.ids, places.refused),
      );
      if (fired.skipped.length > 0) {
        console.warn("scheduled runs skipped: over a run quota", identity.pipeline_id, fired.skipped);
        await recordSkippedFires(this.env, identity, fired.skipped, places.refused, now);
      }
    } catch (error) {
      console.error("schedule fire failed", error);
      this.clock.failed(now);
    }
  }

  private async act(id: string, event: RunEvent, audit: AuditRecord): Promise<Changed<{ status: string }>> {
    const result = this.driver.change(id, event, audit);
    await this.continue();
    return result;
  }

  /** Drops the in-memory copies of runs and blobs after their tables were edited by hand (tests, repairs). */
  forgetCachedState(): void {
    this.driver.store.forget();
  }

  /** Re-arms the alarm; a failure is logged (the next entry or alarm arms it again). */
  private async armQuietly(): Promise<void> {
    try {
      await this.driver.timers.arm(this.watchdog());
    } catch (error) {
      console.error("alarm not armed", error);
    }
  }

  /** Timers of this transition are armed before answering; the chain continues after the answer. */
  private async continue(): Promise<void> {
    this.driver.recover();
    await this.driver.timers.arm(this.watchdog());
    this.ctx.waitUntil(
      this.driver.pump
        .idle()
        .then(() => this.flushSummaries())
        // After the flush: what D1 refused keeps the alarm coming back (watchdog).
        .then(() => this.driver.timers.arm(this.watchdog())),
    );
  }

  /**
   * While plugin calls or evaluations are in flight, the alarm comes back within WATCHDOG_MS; while
   * sockets are open, within the watchers' recheck interval.
   */
  private watchdog(): number | null {
    const now = Date.now();
    const busy = this.driver.busy ? now + WATCHDOG_MS : null;
    const recheck = this.watchers.recheckAt(now);
    // Summaries or audit entries D1 did not take yet: an idle object must come back for them too.
    const unsent = this.driver.summaries.waiting() ? now + OUTBOX_RETRY_MS : null;
    const times = [busy, recheck, unsent].filter((at) => at !== null);
    return times.length === 0 ? null : Math.min(...times);
  }

  /** Write-behind to D1 (summaries.ts); a failure is retried by the alarm (OUTBOX_RETRY_MS) or the next change. */
  private async flushSummaries(): Promise<void> {
    try {
      await this.driver.summaries.flush();
    } catch (error) {
      console.error("run summaries or audit entries not written to D1 yet", error);
    }
  }

  /** The live view: the Worker forwards an authorised WebSocket upgrade here, saying who watches. */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade", { status: 426 });
    }
    const accepted = this.driver.live.accept(request);
    // The alarm comes back to recheck the socket's access while it is open (watchers.ts).
    await this.driver.timers.arm(this.watchdog());
    return accepted;
  }

  /** Watchers only listen; a ping is answered so clients can tell a dead socket from a quiet one. */
  override async webSocketMessage(socket: WebSocket, message: string | ArrayBuffer): Promise<void> {
    if (message === "ping") socket.send(JSON.stringify({ type: "pong", at: Date.now() }));
  }

  override async webSocketClose(socket: WebSocket): Promise<void> {
    try {
      socket.close(1000, "closing");
    } catch {
      // Already closed from the other side.
    }
  }
}
