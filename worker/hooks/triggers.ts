/**
 * The trigger registry: each webhook trigger of a pipeline gets an opaque, unguessable hook id that
 * stays the same across versions, and a generated signing secret when the spec names none (kept across
 * saves while its form fits the scheme).
 */
import type { TriggerView } from "../contracts/api";
import { toBase64, toBase64Url } from "../crypto/encoding";
import type { TenantVault } from "../crypto/envelope";
import { tenantSecretContext } from "../crypto/envelope";
import { randomBytes } from "../crypto/random";
import { type Db, db as dbOf } from "../db/client";
import { listTriggers } from "../db/pipelines";
import { type PipelineSpec, secretReferenceName } from "../engine";
import { isRoutableHookId, newHookId } from "./hook-id";
import type { HookConfig } from "./types";

type Webhook = NonNullable<PipelineSpec["triggers"]>[number]["webhook"];
type TriggerRow = {
  hook_id: string;
  trigger_id: string;
  secret: string | null;
  previous_secret?: string | null;
  previous_until?: string | null;
  secret_name?: string | null;
};

export function webhooksOf(spec: PipelineSpec): Webhook[] {
  return (spec.triggers ?? []).map((t) => t.webhook);
}

export function needsGeneratedSecret(hook: Webhook): boolean {
  return hook.verify.scheme !== "none" && hook.verify.secret === undefined;
}

export function secretContext(pipelineId: string, triggerId: string): string {
  return `trigger:${pipelineId}:${triggerId}`;
}

/**
 * A new signing secret: for `basic`, the `user:password` a sender's client is configured with; for
 * the others the Standard Webhooks form, which every HMAC scheme and bearer accept as text.
 */
export function generateSecret(scheme: string): string {
  return scheme === "basic"
    ? `updraft:${toBase64Url(randomBytes(24))}`
    : `whsec_${toBase64(randomBytes(32))}`;
}

/** Which form `generateSecret(scheme)` takes: basic credentials, or the Standard Webhooks form. */
function secretForm(scheme: string): "basic" | "whsec" {
  return scheme === "basic" ? "basic" : "whsec";
}

/**
 * Whether a generated secret still fits the trigger's scheme after a save. A scheme change to one whose
 * secret has another form (standard → basic, basic → github) needs a new one: a sender's client cannot
 * use `whsec_…` as `user:password`, nor the reverse.
 */
async function secretFits(vault: TenantVault, ciphertext: string, context: string, scheme: string) {
  const secret = await vault.decrypt(ciphertext, context);
  return (secret.startsWith("whsec_") ? "whsec" : "basic") === secretForm(scheme);
}

/** The tenant secret a trigger's spec names (`secrets.NAME`), or null. */
export function secretNameOf(hook: Webhook): string | null {
  return hook.verify.secret === undefined ? null : secretReferenceName(hook.verify.secret);
}

/** Statements that bring the registry in line with the spec; rows for removed triggers go away. */
export async function syncTriggers(
  env: Env,
  db: Db,
  vault: TenantVault,
  ids: { tenantId: string; pipelineId: string },
  spec: PipelineSpec,
  existing: TriggerRow[],
  now: Date,
) {
  const wanted = new Map(webhooksOf(spec).map((h) => [h.id, h]));
  const statements = [];
  const stale = existing.filter((row) => !wanted.has(row.trigger_id)).map((row) => row.hook_id);
  if (stale.length > 0) statements.push(db.deleteFrom("triggers").where("hook_id", "in", stale));
  for (const hook of wanted.values()) {
    const row = existing.find((r) => r.trigger_id === hook.id);
    const context = secretContext(ids.pipelineId, hook.id);
    const generated = needsGeneratedSecret(hook);
    const fits =
      generated && row?.secret ? await secretFits(vault, row.secret, context, hook.verify.scheme) : false;
    // A new secret replaces one of another form outright: a rotated-out one of that form goes with it.
    const secret =
      generated && !fits
        ? {
            secret: await vault.encrypt(generateSecret(hook.verify.scheme), context),
            previous_secret: null,
            previous_until: null,
          }
        : undefined;
    const secret_name = secretNameOf(hook);
    if (row && !isRoutableHookId(row.hook_id)) {
      // Saved before ingress existed: the id gets today's form (it names its object).
      statements.push(
        db
          .updateTable("triggers")
          .set({
            hook_id: newHookId(env, ids.tenantId, ids.pipelineId),
            secret_name,
            ...secret,
          })
          .where("hook_id", "=", row.hook_id),
      );
    } else if (!row) {
      statements.push(
        db.insertInto("triggers").values({
          hook_id: newHookId(env, ids.tenantId, ids.pipelineId),
          tenant_id: ids.tenantId,
          pipeline_id: ids.pipelineId,
          trigger_id: hook.id,
          secret: secret?.secret ?? null,
          secret_name,
          created_at: now.toISOString(),
        }),
      );
    } else if (secret || (row.secret_name ?? null) !== secret_name) {
      const set = { secret_name, ...secret };
      statements.push(db.updateTable("triggers").set(set).where("hook_id", "=", row.hook_id));
    }
  }
  return statements;
}

/** What the API shows of a pipeline's triggers; generated secrets only to editors and above. */
export async function triggerViews(
  origin: string,
  pipelineId: string,
  spec: PipelineSpec,
  rows: TriggerRow[],
  vault: TenantVault | null,
): Promise<TriggerView[]> {
  const views: TriggerView[] = [];
  if (spec.schedule) {
    views.push({
      id: "schedule",
      kind: "schedule",
      cron: spec.schedule.cron,
      timezone: spec.schedule.timezone,
    });
  }
  for (const hook of webhooksOf(spec)) {
    const row = rows.find((r) => r.trigger_id === hook.id);
    if (!row) continue;
    const generated = needsGeneratedSecret(hook);
    const view: TriggerView = {
      id: hook.id,
      kind: "webhook",
      url: `${origin}/hooks/${row.hook_id}`,
      scheme: hook.verify.scheme,
      secret_source: generated ? "generated" : hook.verify.secret === undefined ? "none" : "tenant_secret",
    };
    if (vault && row.secret && generated) {
      view.secret = await vault.decrypt(row.secret, secretContext(pipelineId, hook.id));
      view.previous_secret_until = graceOf(row, Date.now());
    }
    views.push(view);
  }
  return views;
}

/**
 * What the pipeline's object needs to verify each webhook of this version without asking D1: its hook
 * id, the trigger, and the ciphertext of its secret (generated, or the tenant secret it names).
 */
export async function hookConfigs(
  env: Env,
  tenant: { id: string; dataKey: string },
  pipeline: { id: string; paused: boolean },
  version: number,
  spec: PipelineSpec,
): Promise<HookConfig[]> {
  const hooks = webhooksOf(spec);
  if (hooks.length === 0) return [];
  const d = dbOf(env.DB);
  const rows = await listTriggers(d, pipeline.id);
  const names = hooks.flatMap((h) => secretNameOf(h) ?? []);
  const named =
    names.length === 0
      ? []
      : await d
          .selectFrom("secrets")
          .select(["name", "ciphertext"])
          .where("tenant_id", "=", tenant.id)
          .where("name", "in", names)
          .execute();
  const configs: HookConfig[] = [];
  for (const hook of hooks) {
    const row = rows.find((r) => r.trigger_id === hook.id);
    if (!row) continue;
    const name = secretNameOf(hook);
    const stored = name === null ? null : named.find((s) => s.name === name);
    const secrets = stored
      ? [
          {
            ciphertext: stored.ciphertext,
            context: tenantSecretContext(tenant.id, stored.name),
            until: null,
          },
        ]
      : row.secret && needsGeneratedSecret(hook)
        ? generatedSecrets(row, secretContext(pipeline.id, hook.id), Date.now())
        : [];
    configs.push({
      hook_id: row.hook_id,
      version,
      trigger: hook,
      secrets,
      data_key: tenant.dataKey,
      paused: pipeline.paused,
    });
  }
  return configs;
}

/** The end of a rotated-out secret's grace (ISO) while it lasts, else null. */
function graceOf(row: TriggerRow, now: number): string | null {
  const until = row.previous_until ? Date.parse(row.previous_until) : Number.NaN;
  return row.previous_secret && until > now ? (row.previous_until ?? null) : null;
}

/** The generated secret, and the rotated-out one during its grace. */
function generatedSecrets(row: TriggerRow, context: string, now: number): HookConfig["secrets"] {
  const secrets: HookConfig["secrets"] = [{ ciphertext: row.secret ?? "", context, until: null }];
  const grace = graceOf(row, now);
  if (grace && row.previous_secret)
    secrets.push({ ciphertext: row.previous_secret, context, until: Date.parse(grace) });
  return secrets;
}
