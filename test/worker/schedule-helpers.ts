/** Scheduled pipelines with a test-driven clock: fake Date, the object's alarm, the Cron Trigger. */
import { createScheduledController, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { vi } from "vitest";
import { canonicalJson, PipelineSpecSchema } from "../../worker/engine";
import worker from "../../worker/index";
import { withPipeline } from "./runs-helpers";

export const HOUR = 3_600_000;

export function scheduled(cron: string, catchup: boolean, extra: object = {}) {
  return {
    name: "Scheduled",
    schedule: { cron, timezone: "UTC", catchup },
    tasks: [
      {
        id: "stamp",
        uses: "core/noop@^1",
        with: {
          value: {
            logical_date: "{{ run.logical_date }}",
            from: "{{ run.data_interval_start }}",
            to: "{{ run.data_interval_end }}",
          },
        },
      },
    ],
    ...extra,
  };
}

/** Moves the fake clock (Date only: workerd's own timers keep running). */
export function at(iso: string | number): void {
  vi.setSystemTime(new Date(iso));
}

export async function withSchedule(spec: object) {
  const pipeline = await withPipeline(spec);
  const { stub, settled } = pipeline;
  const clock = async () => {
    await settled();
    return stub.scheduleState();
  };
  /** Runs the object's alarm as if it fired now (false when none was set). */
  const alarm = async () => {
    const ran = await runDurableObjectAlarm(stub);
    await settled();
    return ran;
  };
  return { ...pipeline, clock, alarm };
}

/** One tick of the every-minute Cron Trigger at the fake clock's time. */
export async function cronTick(): Promise<void> {
  const controller = createScheduledController({ scheduledTime: Date.now(), cron: "* * * * *" });
  await worker.scheduled(controller, env);
}

/**
 * `count` scheduled pipelines of one tenant written straight to D1, as if each save's call to its
 * object had failed: their objects have never heard of them. Returns their objects, oldest first.
 */
export async function seedScheduledPipelines(tenantSlug: string, count: number, spec: object) {
  const tenant = await env.DB.prepare("SELECT id FROM tenants WHERE slug = ?")
    .bind(tenantSlug)
    .first<{ id: string }>();
  if (!tenant) throw new Error("no such tenant");
  const now = new Date().toISOString();
  const json = storedSpec(spec);
  const schedule = JSON.stringify((spec as { schedule?: unknown }).schedule ?? null);
  const ids = Array.from({ length: count }, (_, i) => `pip_${tenantSlug}_${String(i).padStart(4, "0")}`);
  await env.DB.batch(
    ids.flatMap((id, i) => [
      env.DB.prepare(
        `INSERT INTO pipelines (id, tenant_id, slug, name, paused, latest_version, schedule, created_at, updated_at)
         VALUES (?, ?, ?, 'Seeded', 0, 1, ?, ?, ?)`,
      ).bind(id, tenant.id, `seeded-${i}`, schedule, now, now),
      env.DB.prepare(
        `INSERT INTO pipeline_versions (pipeline_id, version, spec, source, format, digest, created_at, created_by)
         VALUES (?, 1, ?, ?, 'json', ?, ?, 'test')`,
      ).bind(id, json, json, `digest-${id}`, now),
    ]),
  );
  return ids.map((id) => ({ id, stub: env.PIPELINE.get(env.PIPELINE.idFromName(`${tenant.id}:${id}`)) }));
}

/** The spec as the API stores a version of it: validated, with its defaults, canonical JSON. */
export function storedSpec(spec: object): string {
  return canonicalJson(PipelineSpecSchema.parse(spec));
}
