/** A pipeline with one webhook trigger `in`, its ingress path and secret, and senders' headers. */
import { runInDurableObject } from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import type { HookConfig } from "../../worker/hooks/types";
import type { PipelineDO } from "../../worker/pipeline/object";
import type { PipelineIdentity } from "../../worker/pipeline/types";
import { Client } from "./helpers";
import { withPipeline } from "./runs-helpers";

export const anonymous = new Client();

export function hookSpec(scheme: string, extra: object = {}, tasks?: object[]) {
  return {
    name: "Hooked",
    triggers: [{ webhook: { id: "in", verify: { scheme }, ...extra } }],
    tasks: tasks ?? [{ id: "echo", uses: "core/noop@^1", with: { value: "{{ trigger.body.n }}" } }],
  };
}

export type HookTrigger = {
  id: string;
  url: string;
  secret?: string;
  secret_source?: string;
  previous_secret_until?: string | null;
};

export async function hooked(scheme: string, extra: object = {}, tasks?: object[]) {
  const pipeline = await withPipeline(hookSpec(scheme, extra, tasks));
  const trigger = async () => {
    const got = await pipeline.owner.json<{ triggers: HookTrigger[] }>("GET", pipeline.base);
    const found = got.body.triggers.find((t) => t.id === "in");
    if (!found) throw new Error(`no webhook trigger: ${JSON.stringify(got.body)}`);
    return found;
  };
  const first = await trigger();
  const path = new URL(first.url).pathname;
  const secret = first.secret ?? "";
  /** Sends `body` signed the Standard Webhooks way with `secret` (default: the trigger's) and id `id`. */
  const send = <T = Record<string, unknown>>(id: string, body: unknown, key = secret) => {
    const raw = typeof body === "string" ? body : JSON.stringify(body);
    return anonymous.json<T>("POST", path, { raw, headers: standardHeaders(key, id, raw) });
  };
  return { ...pipeline, path, secret, trigger, send };
}

export function standardHeaders(secret: string, id: string, body: string, at = new Date()) {
  const signature = new Webhook(secret).sign(id, at, body);
  return {
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": signature,
  };
}

/** What the object holds now, as the sync that told it (to send again later, as a late sync). */
export function syncedNow(stub: DurableObjectStub<PipelineDO>) {
  return runInDurableObject(stub, (_instance, state) => {
    const sql = state.storage.sql;
    const meta = (key: string) =>
      sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).one().value;
    const hooks = sql.exec<{ config: string }>("SELECT config FROM hooks").toArray();
    const configs = hooks.map((row) => JSON.parse(row.config) as HookConfig);
    const version = configs[0]?.version ?? 1;
    const spec = JSON.parse(
      sql.exec<{ spec: string }>("SELECT spec FROM versions WHERE version = ?", version).one().spec,
    );
    return {
      ...(JSON.parse(meta("identity")) as PipelineIdentity),
      revision: Number(meta("revision")),
      version,
      spec,
      paused: configs[0]?.paused ?? false,
      schedule: null,
      hooks: configs,
    };
  });
}
