/**
 * The pipeline object's webhooks (worker/hooks): the desk that decides deliveries, the ledger, replays
 * and test deliveries, wired to the object's runs. What the desk needs of the object (identity,
 * versions, starting runs on admitted places, a run's finish, the live view) is the DeskHost here.
 */
import type { Quotas } from "../config";
import { type DeskHost, HookDesk } from "../hooks/desk";
import { DeliveryLedger, type DeliveryQuery } from "../hooks/ledger";
import { type Replayed, type ReplayRange, Replays, type ReplayVersion } from "../hooks/replay";
import { sampleBody, signSample } from "../hooks/sign";
import type {
  DeliveryAnswer,
  DeliveryDetail,
  DeliveryInput,
  DeliverySummary,
  HookConfig,
} from "../hooks/types";
import { admitRuns, createOnPlaces } from "./admission";
import type { Driver } from "./driver";
import type { Earlier, IdempotencyClaim, IdempotencyKeys } from "./idempotency";
import { defaultParams } from "./schedule";
import type { RunDetail } from "./types";
import { runDetail } from "./view";

export type TestDelivery =
  | { kind: "not_found" }
  | { kind: "unsigned"; detail: string }
  | { kind: "sent"; answer: DeliveryAnswer };

export class PipelineWebhooks {
  readonly desk: HookDesk;
  private readonly replays: Replays;
  /** A range replay under way: two at once could each re-drive the same deliveries. */
  private replaying = false;

  constructor(
    sql: SqlStorage,
    private readonly env: Env,
    private readonly driver: Driver,
    private readonly keys: IdempotencyKeys,
    /** The object's `continue`: arm the alarm, carry the new runs' work on after the answer. */
    private readonly carryOn: () => Promise<void>,
  ) {
    const host = this.host();
    this.desk = new HookDesk(new DeliveryLedger(sql), sql, env, host, driver.timers);
    this.replays = new Replays(this.desk.ledger, host, this.desk.sweeps);
  }

  sync(hooks: readonly HookConfig[]): void {
    this.desk.sync(hooks);
  }

  receive(input: DeliveryInput): Promise<DeliveryAnswer> {
    return this.desk.receive(input);
  }

  list(query: DeliveryQuery): { items: DeliverySummary[]; next_cursor: string | null } {
    const page = this.desk.ledger.list(query);
    return { items: page.items, next_cursor: page.next === null ? null : String(page.next) };
  }

  get(id: string): DeliveryDetail | null {
    return this.desk.ledger.get(id);
  }

  /** A webhook run's view says which delivery started it, and what that one replayed. */
  withDelivery(detail: RunDetail | null): (RunDetail & { delivery?: RunDelivery }) | null {
    if (detail?.trigger !== "webhook") return detail;
    const delivery = this.desk.ledger.ofRun(detail.id);
    return delivery ? { ...detail, delivery } : detail;
  }

  /** "Send test delivery": a sample signed with the trigger's own secret, through the real checks. */
  async test(triggerId: string, body: unknown, quotas: Quotas): Promise<TestDelivery> {
    const hook = this.desk.hooks.ofTrigger(triggerId);
    if (!hook) return { kind: "not_found" };
    const now = Date.now();
    const bytes = new TextEncoder().encode(JSON.stringify(body === undefined ? sampleBody(now) : body));
    const [secret] = await this.desk.openSecrets(hook);
    const signed = await signSample(hook.trigger.verify, secret ?? null, bytes, now);
    if (!signed.ok) return { kind: "unsigned", detail: signed.reason };
    const input = {
      hook_id: hook.hook_id,
      headers: signed.headers,
      query: {},
      body: bytes,
      too_large: false,
    };
    return { kind: "sent", answer: await this.desk.receive({ ...input, received_at: now, quotas }) };
  }

  async replayOne(id: string, version: ReplayVersion, quotas: Quotas): Promise<Replayed> {
    return this.replays.one(id, version, quotas);
  }

  /**
   * Webhook backfill: one run per verified, whole delivery of a time range (each once within the
   * request). One range at a time per pipeline; with an idempotency claim, a key seen within 24 hours
   * answers as it did then, and the key commits with the runs.
   */
  async replayRange(
    range: ReplayRange,
    quotas: Quotas,
    claim?: IdempotencyClaim,
  ): Promise<Replayed | Earlier> {
    if (range.dry_run) return this.replays.range(range, quotas);
    return this.keys.once(claim, async () => {
      if (this.replaying)
        return { kind: "conflict", detail: "A replay of this pipeline's deliveries is under way." };
      this.replaying = true;
      try {
        // The key commits with the runs: a retry after a crash answers them instead of replaying again.
        const remember = (items: unknown) => {
          if (claim) this.keys.remember(claim, items, Date.now());
        };
        const result = await this.replays.range(range, quotas, remember);
        // A range that created nothing answers the same the next time too.
        if (result.kind === "done" && !result.items.some((i) => i.status === "created"))
          remember(result.items);
        return result;
      } finally {
        this.replaying = false;
      }
    });
  }

  private host(): DeskHost {
    const { driver } = this;
    return {
      identity: () => driver.store.identity(),
      latestVersion: () => driver.store.latestVersion(),
      hasVersion: (version) => driver.store.specJson(version) !== null,
      start: async (identity, items, quotas, live, inTurn) => {
        const budget = live ? quotas.deliveries_per_minute : undefined;
        const places = await admitRuns(this.env, identity, items.length, quotas, "all", budget);
        if (places.kind !== "admitted") return places;
        const runs = await createOnPlaces(this.env, driver.store, identity.tenant_id, places.ids, () => {
          const created = items.map((item, i) => {
            const id = places.ids[i];
            if (id === undefined) throw new Error("the ledger admitted fewer runs than asked");
            const spec = driver.plans.spec(item.version);
            const trigger = { kind: "webhook" as const, payload: item.payload() };
            const params = defaultParams(spec);
            const run = driver.createRun({ ...identity, spec, version: item.version, params, trigger }, id);
            item.record(run.id);
            return run;
          });
          inTurn?.();
          return created;
        });
        // The runs are committed: whatever fails from here on must not turn their 2xx into an error.
        try {
          await this.carryOn();
        } catch (error) {
          console.error("runs created; their work is picked up by the watchdog", error);
        }
        return { kind: "created", runs };
      },
      finished: async (runId, ms) => {
        const outcome = () => {
          const detail = runDetail(driver, runId);
          if (!detail || detail.status === "queued" || detail.status === "running") return null;
          return { status: detail.status, output: leafOutputs(detail, driver.plans.spec(detail.version)) };
        };
        return outcome() ?? ((await driver.finished(runId, ms)) ? outcome() : null);
      },
      recorded: (delivery) => driver.live.broadcast([{ type: "delivery", delivery, at: Date.now() }]),
    };
  }
}

export type RunDelivery = { delivery_id: string; replayed_from: string | null };

/**
 * What a finished run answers a `respond: sync` delivery: the outputs of the tasks nothing needs; a
 * mapped task's are a list, in map order.
 */
function leafOutputs(
  detail: RunDetail,
  spec: { tasks: { id: string; needs?: string[] }[] },
): Record<string, unknown> {
  const needed = new Set(spec.tasks.flatMap((task) => task.needs ?? []));
  const out: Record<string, unknown> = {};
  const mapped: Record<string, unknown[]> = {};
  for (const task of detail.tasks) {
    if (needed.has(task.id) || task.status !== "success") continue;
    if (task.map_index < 0) out[task.id] = task.output;
    else {
      const outputs = mapped[task.id] ?? [];
      outputs[task.map_index] = task.output;
      mapped[task.id] = outputs;
    }
  }
  return { ...out, ...mapped };
}
