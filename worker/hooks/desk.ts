/**
 * A delivery inside its pipeline's object, in DESIGN.md §4's order: the hook, the size limit,
 * verification, the paused flag, the payload's JSON Schema, the filter, the dedup key, then the run.
 * Every delivery is recorded in the ledger with its verdict; an accepted one is recorded in the same
 * commit as its run and its dedup key, before the answer leaves, so an acknowledged delivery is never
 * lost, and an error after that commit still answers 202.
 */
import type { Quotas } from "../config";
import { TenantVault } from "../crypto/envelope";
import { parseDuration } from "../engine";
import { schemaMismatch } from "../engine/json-schema";
import { truthy } from "../engine/render";
import { type ProblemCode, ProblemError } from "../problem";
import type { Refusal } from "../tenant/ledger";
import { redact } from "./headers";
import { graceEnd, HookTable } from "./hook-table";
import { dedupKey, evaluateHook, type HookPayload } from "./keys";
import { bodyValue, type DeliveryLedger, isExpendable } from "./ledger";
import { HookSweeps } from "./sweeps";
import type {
  DeliveryAnswer,
  DeliveryInput,
  DeliverySummary,
  HookConfig,
  HookIdentity,
  HookTimers,
  Verdict,
} from "./types";
import { verifyDelivery } from "./verify";

export type { HookPayload } from "./keys";

/** Bytes of the body kept for a delivery that anyone could send again or that started nothing. */
export const REJECTED_BODY_BYTES = 16 * 1024;
/** `trigger` as a run stores it (headers, body as JSON or text, query) may not exceed this. */
export const MAX_TRIGGER_BYTES = 1536 * 1024;
/** Deliveries anyone who knows the URL can make us record (unverified, too large), per minute. */
export const UNVERIFIED_RECORDS_PER_MINUTE = 120;
/** Verified deliveries that start no run (filtered, duplicate, invalid, over quota), per minute. */
export const IDLE_RECORDS_PER_MINUTE = 1_200;
const DEFAULT_DEDUP_WINDOW_MS = 24 * 3_600_000;

/**
 * One run to start for a delivery: its version, its `trigger` (read in the run's turn, so a replay of
 * many holds one body at a time), and what to record in that turn.
 */
export type StartItem = { version: number; payload: () => HookPayload; record: (runId: string) => void };
export type Started =
  | { kind: "refused"; refused: Refusal }
  | { kind: "unavailable" }
  | { kind: "created"; runs: { id: string; status: string }[] };

/** What the object does for the desk. */
export type DeskHost = {
  identity(): HookIdentity | null;
  /** The latest version the object has, and whether it still has a given one (replay). */
  latestVersion(): number | null;
  hasVersion(version: number): boolean;
  /**
   * Asks the tenant's ledger for one place per item (a live delivery also spends the deliveries-per-
   * minute budget), then creates the runs in one synchronous turn, each item's `record` in it, then
   * `inTurn` (what must commit with them, such as an idempotency key).
   */
  start(
    identity: HookIdentity,
    items: readonly StartItem[],
    quotas: Quotas,
    live: boolean,
    inTurn?: () => void,
  ): Promise<Started>;
  /** The run's status and leaf outputs once it finishes within `ms`, else null (`respond: sync`). */
  finished(runId: string, ms: number): Promise<{ status: string; output: Record<string, unknown> } | null>;
  /** A delivery was recorded (the live view shows it). */
  recorded(summary: DeliverySummary): void;
};

type Context = { input: DeliveryInput; id: string; hook: HookConfig; started: number; verified: boolean };

export class HookDesk {
  readonly sweeps: HookSweeps;
  readonly hooks: HookTable;
  /** Dedup keys whose delivery is being admitted now: a duplicate arriving meanwhile waits for it. */
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Opened secrets per hook, kept while its live secrets are unchanged (settled values, never promises). */
  private readonly opened = new Map<string, { config: string; secrets: string[] }>();
  private readonly unverifiedBudget = new MinuteBudget(UNVERIFIED_RECORDS_PER_MINUTE);
  private readonly idleBudget = new MinuteBudget(IDLE_RECORDS_PER_MINUTE);

  constructor(
    readonly ledger: DeliveryLedger,
    sql: SqlStorage,
    private readonly env: Env,
    private readonly host: DeskHost,
    timers: HookTimers,
  ) {
    this.hooks = new HookTable(sql);
    this.sweeps = new HookSweeps(ledger, this.hooks, timers, () => this.opened.clear());
  }

  /** The hooks of the latest version (the API syncs them on save, pause, rotation). */
  sync(hooks: readonly HookConfig[]): void {
    this.hooks.set(hooks);
    this.opened.clear();
    this.sweeps.graceEnds(graceEnd(hooks));
  }

  async receive(input: DeliveryInput): Promise<DeliveryAnswer> {
    const hook = this.hooks.hook(input.hook_id);
    // An unknown hook records nothing: there is no trigger to file it under.
    if (!hook) return problem(404, "not_found", "No such webhook.");
    const ctx: Context = {
      input,
      hook,
      id: newDeliveryId(),
      started: performance.now(),
      verified: false,
    };
    try {
      return await this.decide(ctx, hook);
    } catch (error) {
      console.error("webhook delivery not handled", hook.trigger.id, error);
      const answer = problem(503, "unavailable", "The delivery could not be recorded; send it again.", 5);
      this.tryRecord(ctx, "failed", answer, String(error instanceof Error ? error.message : error));
      return answer;
    }
  }

  private async decide(ctx: Context, hook: HookConfig): Promise<DeliveryAnswer> {
    const { input } = ctx;
    const trigger = hook.trigger;
    if (input.too_large) {
      return this.reject(ctx, "too_large", 413, "payload_too_large", "The delivery is larger than 1 MiB.");
    }
    const headers = new Headers(input.headers);
    const verdict = await verifyDelivery(trigger.verify, await this.openSecrets(hook), {
      headers,
      body: input.body,
      now: input.received_at,
    });
    if (!verdict.ok) {
      // The sender learns only that verification failed, never whether a secret exists or which part;
      // the paused flag is told only to a sender that verified.
      const detail = "The delivery could not be verified.";
      return this.reject(ctx, "unverified", 401, "unauthenticated", detail, verdict.reason);
    }
    ctx.verified = true;
    // What the run sees of the headers is what the ledger shows: credentials never reach a run's view.
    const payload = payloadOf(redact([...headers], signatureHeaders(hook)), input.body, input.query);
    // Before the paused flag: a paused delivery is kept whole to be replayed, so it must fit in a run.
    if (tooLargeForRun(payload)) {
      const detail = "The delivery's headers and body, as the run's trigger data, are larger than 1.5 MiB.";
      return this.reject(ctx, "too_large", 413, "payload_too_large", detail);
    }
    if (hook.paused) return this.reject(ctx, "paused", 410, "gone", "The pipeline is paused.");
    if (trigger.schema) {
      const mismatch = schemaMismatch(trigger.schema, payload.body);
      if (mismatch) {
        const detail = `The payload does not match the trigger's schema: ${mismatch.message}`;
        return this.reject(ctx, "invalid", 422, "validation", detail);
      }
    }
    if (trigger.filter !== undefined) {
      const kept = await evaluateHook(trigger.filter, payload);
      if (!kept.ok)
        return this.reject(ctx, "failed", 422, "validation", `The trigger's filter failed: ${kept.message}`);
      if (!truthy(kept.value)) {
        const answer = { status: 200, body: { filtered: true, delivery_id: ctx.id } };
        this.record(ctx, "filtered", answer, null);
        return answer;
      }
    }
    const key = await dedupKey(trigger, headers, payload);
    if (key !== null && !key.ok) {
      return this.reject(ctx, "failed", 422, "validation", `The trigger's dedupe failed: ${key.message}`);
    }
    const accepted =
      key === null ? await this.start(ctx, payload, null) : await this.startOnce(ctx, payload, key.value);
    if (accepted.status !== 202 || trigger.respond.mode !== "sync") return accepted;
    // After the dedup slot is free: a duplicate need not wait for this run to finish.
    return this.waitFor(String(accepted.body.run_id), trigger.respond.deadline_ms, accepted);
  }

  /** One run per dedup key within the window, also when duplicates arrive while the first is admitted. */
  private async startOnce(ctx: Context, payload: HookPayload, key: string): Promise<DeliveryAnswer> {
    const triggerId = ctx.hook.trigger.id;
    const slot = `${triggerId}\u0000${key}`;
    for (;;) {
      const seen = this.ledger.seen(triggerId, key, Date.now());
      if (seen) {
        const answer = { status: 200, body: { run_id: seen.run, delivery_id: ctx.id, duplicate: true } };
        this.record(ctx, "duplicate", answer, null, { run_id: seen.run, duplicate_of: seen.delivery });
        return answer;
      }
      const pending = this.inFlight.get(slot);
      if (!pending) break;
      await pending;
    }
    let done = () => {};
    this.inFlight.set(slot, new Promise<void>((resolve) => (done = resolve)));
    try {
      return await this.start(ctx, payload, key);
    } finally {
      this.inFlight.delete(slot);
      done();
    }
  }

  private async start(ctx: Context, payload: HookPayload, key: string | null): Promise<DeliveryAnswer> {
    const identity = this.host.identity();
    if (!identity) throw new Error("a webhook of an object that has no identity yet");
    const { hook } = ctx;
    let answer: DeliveryAnswer | null = null;
    const record = (runId: string) => {
      answer = {
        status: 202,
        body: { run_id: runId, delivery_id: ctx.id, status_url: statusUrl(identity, runId) },
      };
      // In the run's turn: the delivery, its run and its key commit together.
      this.record(ctx, "accepted", answer, null, { run_id: runId });
      if (key !== null) {
        const window = parseDuration(hook.trigger.dedupe_window) ?? DEFAULT_DEDUP_WINDOW_MS;
        const expiresAt = ctx.input.received_at + window;
        this.ledger.rememberKey(hook.trigger.id, key, ctx.id, runId, expiresAt);
        this.sweeps.keyRemembered(expiresAt);
      }
    };
    let started: Started;
    try {
      const item = { version: hook.version, payload: () => payload, record };
      started = await this.host.start(identity, [item], ctx.input.quotas, true);
    } catch (error) {
      // The run and its delivery committed before the error: the sender must not send it again.
      if (answer) {
        console.error("webhook run started, then an error", hook.trigger.id, error);
        return answer;
      }
      throw error;
    }
    if (started.kind === "refused") {
      const { refused } = started;
      const detail =
        refused.quota === "deliveries_per_minute"
          ? `The tenant's plan accepts ${refused.limit} webhook deliveries per minute.`
          : "The tenant is at a run quota; no run was started.";
      return this.reject(ctx, "over_quota", 429, "quota_exceeded", detail, undefined, refused.retry_after_s);
    }
    if (started.kind === "unavailable") {
      const detail = "Run quotas cannot be checked right now; send it again.";
      return this.reject(ctx, "failed", 503, "unavailable", detail, undefined, 5);
    }
    const run = started.runs[0];
    return answer ?? { status: 202, body: { run_id: run?.id, delivery_id: ctx.id } };
  }

  /** `respond: sync`: the run's output if it finishes within the deadline, else the 202 as it was. */
  private async waitFor(
    runId: string,
    deadlineMs: number,
    accepted: DeliveryAnswer,
  ): Promise<DeliveryAnswer> {
    try {
      const outcome = await this.host.finished(runId, deadlineMs);
      if (!outcome) return accepted;
      return { status: 200, body: { run_id: runId, status: outcome.status, output: outcome.output } };
    } catch (error) {
      console.error("webhook run started; its outcome could not be read", runId, error);
      return accepted;
    }
  }

  /** The secrets that verify now (two during a rotation's grace), opened once while they stay the same. */
  async openSecrets(hook: HookConfig): Promise<string[]> {
    const now = Date.now();
    const live = hook.secrets.filter((s) => s.until === null || s.until > now);
    if (live.length === 0) return [];
    const config = JSON.stringify(live);
    const kept = this.opened.get(hook.hook_id);
    if (kept && kept.config === config) return kept.secrets;
    const identity = this.host.identity();
    if (!identity) return [];
    const vault = await TenantVault.open(this.env.MASTER_KEY, identity.tenant_id, hook.data_key);
    const secrets = await Promise.all(live.map((s) => vault.decrypt(s.ciphertext, s.context)));
    this.opened.set(hook.hook_id, { config, secrets });
    return secrets;
  }

  private reject(
    ctx: Context,
    verdict: Verdict,
    status: number,
    code: ProblemCode,
    detail: string,
    reason?: string,
    retryAfter?: number,
  ): DeliveryAnswer {
    const answer = problem(status, code, detail, retryAfter);
    this.record(ctx, verdict, answer, reason ?? detail);
    return answer;
  }

  private record(
    ctx: Context,
    verdict: Verdict,
    answer: DeliveryAnswer,
    detail: string | null,
    links: { run_id?: string; duplicate_of?: string } = {},
  ): void {
    // Beyond a minute's budget, what starts no run is answered but not kept: a flood of bad or idle
    // deliveries must not fill the object's storage.
    if (verdict !== "accepted") {
      const budget = ctx.verified ? this.idleBudget : this.unverifiedBudget;
      if (!budget.take(ctx.input.received_at)) return;
    }
    // Expendable deliveries (unverified, or verified ones that started nothing and cannot be replayed)
    // keep a bounded part of their body; paused, over-quota and failed ones keep it whole, to be replayed.
    const cut =
      isExpendable({ verified: ctx.verified, verdict }) && ctx.input.body.length > REJECTED_BODY_BYTES;
    const summary = this.ledger.record({
      id: ctx.id,
      trigger_id: ctx.hook.trigger.id,
      version: ctx.hook.version,
      verified: ctx.verified,
      received_at: ctx.input.received_at,
      verdict,
      status: answer.status,
      detail,
      headers: redact(ctx.input.headers, signatureHeaders(ctx.hook)),
      query: ctx.input.query,
      body: cut ? ctx.input.body.slice(0, REJECTED_BODY_BYTES) : ctx.input.body,
      truncated: cut,
      run_id: links.run_id ?? null,
      duplicate_of: links.duplicate_of ?? null,
      replayed_from: null,
      elapsed_ms: performance.now() - ctx.started,
    });
    this.sweeps.recorded(ctx.input.received_at, Date.now());
    this.host.recorded(summary);
  }

  private tryRecord(ctx: Context, verdict: Verdict, answer: DeliveryAnswer, detail: string): void {
    try {
      this.record(ctx, verdict, answer, detail);
    } catch (error) {
      console.error("webhook delivery not recorded", error);
    }
  }
}

/** At most `limit` per minute of the object's clock (a fixed window; in memory, per object). */
class MinuteBudget {
  private window = 0;
  private used = 0;
  constructor(private readonly limit: number) {}

  take(now: number): boolean {
    const window = Math.floor(now / 60_000);
    if (window !== this.window) {
      this.window = window;
      this.used = 0;
    }
    if (this.used >= this.limit) return false;
    this.used++;
    return true;
  }
}

/** Headers a trigger's own options make secret-bearing (generic HMAC's signature header). */
function signatureHeaders(hook: HookConfig): string[] {
  return hook.trigger.verify.scheme === "hmac" ? [hook.trigger.verify.header ?? "x-signature"] : [];
}

export function newDeliveryId(): string {
  return `dlv_${crypto.randomUUID().replaceAll("-", "")}`;
}

export function payloadOf(
  headers: Headers | readonly [string, string][],
  body: Uint8Array,
  query: Record<string, string>,
): HookPayload {
  const entries = headers instanceof Headers ? [...headers] : headers;
  return {
    headers: Object.fromEntries(entries.map(([k, v]) => [k.toLowerCase(), v])),
    body: bodyValue(body),
    query,
  };
}

export function statusUrl(identity: HookIdentity, runId: string): string {
  return `${identity.origin}/api/tenants/${identity.tenant_slug}/pipelines/${identity.pipeline_slug}/runs/${runId}`;
}

/**
 * Whether `trigger` would be too large to store with its run: a body that is not UTF-8 text or JSON
 * grows as text (each bad byte is a 3-byte replacement character, and JSON escapes grow too).
 */
export function tooLargeForRun(payload: HookPayload): boolean {
  const json = JSON.stringify(payload);
  // A UTF-16 unit is at most 3 bytes of UTF-8: only a long text needs encoding to know.
  return json.length * 3 > MAX_TRIGGER_BYTES && new TextEncoder().encode(json).length > MAX_TRIGGER_BYTES;
}

export function problem(
  status: number,
  code: ProblemCode,
  detail: string,
  retryAfter?: number,
): DeliveryAnswer {
  return {
    status,
    body: new ProblemError(status, code, detail).toJSON(),
    ...(retryAfter === undefined ? {} : { retry_after: retryAfter }),
  };
}
