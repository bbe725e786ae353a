/**
 * A delivery inside its pipeline's object, in DESIGN.md §4's order: the hook, the size limit, the
 * paused flag, verification, the payload's JSON Schema, the filter, the dedup key, then the run. Every
 * delivery is recorded in the ledger with its verdict; an accepted one is recorded in the same commit as
 * its run and its dedup key, before the answer leaves, so an acknowledged delivery is never lost.
 */
import { TenantVault } from "../crypto/envelope";
import { sha256Hex } from "../crypto/random";
import { parseDuration, type WebhookTrigger } from "../engine";
import { schemaMismatch } from "../engine/json-schema";
import type { Places } from "../pipeline/admission";
import { truthy } from "../pipeline/evaluate";
import { evaluate } from "../pipeline/render";
import type { PipelineIdentity } from "../pipeline/types";
import { type ProblemCode, ProblemError } from "../problem";
import { bodyValue, type DeliveryLedger } from "./ledger";
import type { DeliveryAnswer, DeliveryInput, HookConfig, Verdict } from "./types";
import { verifyDelivery } from "./verify";

/** Steps a filter or dedupe expression may take (a task instance gets 400,000 for all of its own). */
export const HOOK_STEP_BUDGET = 50_000;
/** Bytes of an unverified delivery's body kept in the ledger. */
export const REJECTED_BODY_BYTES = 16 * 1024;
/** Dedup keys longer than this are hashed: the key is stored with every accepted delivery. */
const MAX_KEY_CHARS = 200;

/** What `trigger` is to a webhook run's expressions, and the input of `filter` and `dedupe`. */
export type HookPayload = { headers: Record<string, string>; body: unknown; query: Record<string, string> };

/** What the object does for the desk: who it is, and starting one run (admitted, created, recorded). */
export type DeskHost = {
  identity(): PipelineIdentity | null;
  /** Asks the tenant's ledger for a place, then calls `create` in one synchronous turn with the id. */
  start(
    identity: PipelineIdentity,
    version: number,
    payload: HookPayload,
    record: (runId: string) => void,
  ): Promise<
    Exclude<Places, { kind: "admitted" }> | { kind: "created"; run: { id: string; status: string } }
  >;
  /** The run's status and its leaf tasks' outputs, for `respond: sync`. */
  outcome(runId: string): { status: string; output: Record<string, unknown> } | null;
};

type Context = {
  input: DeliveryInput;
  id: string;
  hook: HookConfig | null;
  started: number;
  replayed_from?: string;
};

const FINISHED = new Set(["success", "failed", "cancelled"]);

export class HookDesk {
  /** Dedup keys whose delivery is being admitted now: a duplicate arriving meanwhile waits for it. */
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Opened secrets per hook, kept while its config is unchanged (a settled value, never a promise). */
  private readonly opened = new Map<string, { config: string; secrets: string[] }>();

  constructor(
    private readonly ledger: DeliveryLedger,
    private readonly env: Env,
    private readonly host: DeskHost,
  ) {}

  /** The hooks of the latest version (the API syncs them on save, pause, rotation). */
  sync(hooks: readonly HookConfig[]): void {
    this.ledger.setHooks(hooks);
    this.opened.clear();
  }

  async receive(input: DeliveryInput): Promise<DeliveryAnswer> {
    const ctx: Context = {
      input,
      id: `dlv_${crypto.randomUUID().replaceAll("-", "")}`,
      hook: this.ledger.hook(input.hook_id),
      started: performance.now(),
    };
    // An unknown hook records nothing: there is no trigger to file it under.
    if (!ctx.hook) return problem(404, "not_found", "No such webhook.");
    try {
      return await this.decide(ctx, ctx.hook);
    } catch (error) {
      console.error("webhook delivery not handled", ctx.hook.trigger.id, error);
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
    if (hook.paused) return this.reject(ctx, "paused", 410, "gone", "The pipeline is paused.");
    const headers = new Headers(input.headers);
    const verdict = await verifyDelivery(trigger.verify, await this.secretsOf(hook), {
      headers,
      body: input.body,
      now: input.received_at,
    });
    if (!verdict.ok) {
      // The sender learns only that verification failed, never whether a secret exists or which part.
      return this.reject(
        ctx,
        "unverified",
        401,
        "unauthenticated",
        "The delivery could not be verified.",
        verdict.reason,
      );
    }
    const payload: HookPayload = {
      headers: Object.fromEntries([...headers].map(([k, v]) => [k.toLowerCase(), v])),
      body: bodyValue(input.body),
      query: input.query,
    };
    if (trigger.schema) {
      const mismatch = schemaMismatch(trigger.schema, payload.body);
      if (mismatch)
        return this.reject(
          ctx,
          "invalid",
          422,
          "validation",
          `The payload does not match the trigger's schema: ${mismatch.message}`,
        );
    }
    if (trigger.filter !== undefined) {
      const kept = await this.expression(trigger.filter, payload);
      if (!kept.ok)
        return this.reject(ctx, "failed", 422, "validation", `The trigger's filter failed: ${kept.message}`);
      if (!truthy(kept.value)) {
        const answer = { status: 200, body: { filtered: true, delivery_id: ctx.id } };
        this.record(ctx, "filtered", answer, null);
        return answer;
      }
    }
    const key = await this.dedupKey(trigger, headers, payload);
    if (key !== null && !key.ok) {
      return this.reject(ctx, "failed", 422, "validation", `The trigger's dedupe failed: ${key.message}`);
    }
    return key === null
      ? this.start(ctx, hook, payload, null)
      : this.startOnce(ctx, hook, payload, key.value);
  }

  /** One run per dedup key within the window, also when duplicates arrive while the first is admitted. */
  private async startOnce(
    ctx: Context,
    hook: HookConfig,
    payload: HookPayload,
    key: string,
  ): Promise<DeliveryAnswer> {
    const slot = `${hook.trigger.id}\u0000${key}`;
    for (;;) {
      const seen = this.ledger.seen(hook.trigger.id, key, Date.now());
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
      return await this.start(ctx, hook, payload, key);
    } finally {
      this.inFlight.delete(slot);
      done();
    }
  }

  private async start(
    ctx: Context,
    hook: HookConfig,
    payload: HookPayload,
    key: string | null,
  ): Promise<DeliveryAnswer> {
    const identity = this.host.identity();
    if (!identity) throw new Error("a webhook of an object that has no identity yet");
    const version = hook.version;
    let answer: DeliveryAnswer | null = null;
    const started = await this.host.start(identity, version, payload, (runId) => {
      const status_url = `${identity.origin}/api/tenants/${identity.tenant_slug}/pipelines/${identity.pipeline_slug}/runs/${runId}`;
      answer = { status: 202, body: { run_id: runId, delivery_id: ctx.id, status_url } };
      // In the run's turn: the delivery, its run and its key commit together.
      this.record(ctx, "accepted", answer, null, { run_id: runId });
      if (key !== null) {
        const window = parseDuration(hook.trigger.dedupe_window) ?? 24 * 3_600_000;
        this.ledger.rememberKey(hook.trigger.id, key, ctx.id, runId, ctx.input.received_at + window);
      }
    });
    if (started.kind === "refused") {
      const { refused } = started;
      const detail =
        refused.quota === "deliveries_per_minute"
          ? `The tenant's plan accepts ${refused.limit} webhook deliveries per minute.`
          : "The tenant is at a run quota; no run was started.";
      return this.reject(ctx, "over_quota", 429, "quota_exceeded", detail, undefined, refused.retry_after_s);
    }
    if (started.kind === "unavailable") {
      return this.reject(
        ctx,
        "failed",
        503,
        "unavailable",
        "Run quotas cannot be checked right now; send it again.",
        undefined,
        5,
      );
    }
    const accepted = answer ?? { status: 202, body: { run_id: started.run.id, delivery_id: ctx.id } };
    if (hook.trigger.respond.mode === "sync")
      return this.waitFor(started.run.id, hook.trigger.respond.deadline_ms, accepted);
    return accepted;
  }

  /** `respond: sync`: the run's output if it finishes within the deadline, else the 202. */
  private async waitFor(
    runId: string,
    deadlineMs: number,
    accepted: DeliveryAnswer,
  ): Promise<DeliveryAnswer> {
    const until = performance.now() + deadlineMs;
    for (;;) {
      const outcome = this.host.outcome(runId);
      if (outcome && FINISHED.has(outcome.status)) {
        return { status: 200, body: { run_id: runId, status: outcome.status, output: outcome.output } };
      }
      if (performance.now() >= until) return accepted;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  private async dedupKey(
    trigger: WebhookTrigger,
    headers: Headers,
    payload: HookPayload,
  ): Promise<{ ok: true; value: string } | { ok: false; message: string } | null> {
    let value: unknown;
    if (trigger.dedupe !== undefined) {
      const result = await this.expression(trigger.dedupe, payload);
      if (!result.ok) return result;
      value = result.value;
    } else value = schemeDeliveryId(trigger.verify.scheme, headers, payload.body);
    if (value === undefined || value === null || value === "") return null;
    const text = typeof value === "string" ? value : JSON.stringify(value);
    return { ok: true, value: text.length > MAX_KEY_CHARS ? `sha256:${await sha256Hex(text)}` : text };
  }

  private async expression(
    expr: string,
    payload: HookPayload,
  ): Promise<{ ok: true; value: unknown } | { ok: false; message: string }> {
    try {
      return { ok: true, value: await evaluate(expr, payload, { remaining: HOOK_STEP_BUDGET }) };
    } catch (error) {
      return { ok: false, message: error instanceof Error ? error.message : String(error) };
    }
  }

  private async secretsOf(hook: HookConfig): Promise<string[]> {
    const config = JSON.stringify(hook.secrets);
    const kept = this.opened.get(hook.hook_id);
    const now = Date.now();
    const live = hook.secrets.filter((s) => s.until === null || s.until > now);
    if (kept && kept.config === config && live.length === hook.secrets.length) return kept.secrets;
    if (live.length === 0) return [];
    const identity = this.host.identity();
    if (!identity) return [];
    const vault = await TenantVault.open(this.env.MASTER_KEY, identity.tenant_id, hook.data_key);
    const secrets = await Promise.all(live.map((s) => vault.decrypt(s.ciphertext, s.context)));
    this.opened.set(hook.hook_id, { config: JSON.stringify(live), secrets });
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
    this.ledger.record({
      id: ctx.id,
      trigger_id: ctx.hook?.trigger.id ?? "",
      received_at: ctx.input.received_at,
      verdict,
      status: answer.status,
      detail,
      headers: ctx.input.headers,
      query: ctx.input.query,
      // An unverified delivery keeps only the start of its body: anyone who knows the URL can send them.
      body:
        verdict === "unverified" || verdict === "paused"
          ? ctx.input.body.slice(0, REJECTED_BODY_BYTES)
          : ctx.input.body,
      run_id: links.run_id ?? null,
      duplicate_of: links.duplicate_of ?? null,
      replayed_from: ctx.replayed_from ?? null,
      elapsed_ms: performance.now() - ctx.started,
    });
  }

  private tryRecord(ctx: Context, verdict: Verdict, answer: DeliveryAnswer, detail: string): void {
    try {
      this.record(ctx, verdict, answer, detail);
    } catch (error) {
      console.error("webhook delivery not recorded", error);
    }
  }
}

/** The delivery id the scheme's sender puts in every delivery (retries keep it), or null. */
function schemeDeliveryId(
  scheme: WebhookTrigger["verify"]["scheme"],
  headers: Headers,
  body: unknown,
): unknown {
  const field = (name: string) =>
    typeof body === "object" && body !== null ? (body as Record<string, unknown>)[name] : undefined;
  switch (scheme) {
    case "standard":
      return headers.get("webhook-id");
    case "github":
      return headers.get("x-github-delivery");
    case "stripe":
      return field("id");
    case "slack":
      return field("event_id");
    default:
      return headers.get("idempotency-key");
  }
}

function problem(status: number, code: ProblemCode, detail: string, retryAfter?: number): DeliveryAnswer {
  return {
    status,
    body: new ProblemError(status, code, detail).toJSON(),
    ...(retryAfter === undefined ? {} : { retry_after: retryAfter }),
  };
}
