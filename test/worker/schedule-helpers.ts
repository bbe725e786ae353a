/** Scheduled pipelines with a test-driven clock: fake Date, the object's alarm, the Cron Trigger. */
import { createScheduledController, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { vi } from "vitest";
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
