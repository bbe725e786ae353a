/**
 * Wide fan-out: ready calls beyond the object's free slots go to Dispatcher invocations in batches of
 * ≤ 36, which each send as ≤ 6 RPC batches of ≤ 6 calls.
 */
import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type DispatchReport, MAX_BATCH } from "../../worker/dispatcher/batch";
import type { PipelineDO } from "../../worker/pipeline/object";
import type { Pump } from "../../worker/pipeline/pump";
import type { Outcome } from "../../worker/runner/outcome";
import { observeConnections } from "./connection-observer";
import { withPipeline } from "./runs-helpers";

/**
 * How long each instance sleeps ("2m"): the object's clock is moved this far ahead of the plugin's, which
 * still accepts the calls it signs (their timestamps may be 5 minutes off).
 */
const NAP_MS = 2 * 60 * 1000;

afterEach(() => {
  vi.useRealTimers();
});

const wide = (width: number) => ({
  name: `Fan-out ${width}`,
  concurrency: { max_active_tasks: width },
  tasks: [
    { id: "items", uses: "core/transform@^1", with: { expression: `[1..${width}]` } },
    {
      id: "each",
      uses: "core/noop@^1",
      needs: ["items"],
      for_each: "{{ tasks.items.output }}",
      with: { value: "{{ item }}" },
    },
  ],
});

/** The object's pump, read inside the object. */
function pumpOf(stub: DurableObjectStub<PipelineDO>) {
  return runInDurableObject(stub, (instance) => {
    const pump = (instance as unknown as { driver: { pump: Pump } }).driver.pump;
    const waiting = (pump as unknown as { waiting: Map<string, unknown> }).waiting;
    return { handOffs: pump.handOffs, waiting: [...waiting.keys()] };
  });
}

/** Records copies of the reports that reach the object's pump from now on; read them with the result. */
async function recordReports(stub: DurableObjectStub<PipelineDO>) {
  await runInDurableObject(stub, (instance) => {
    const pump = (instance as unknown as { driver: { pump: Pump } }).driver.pump;
    const seen: DispatchReport[] = [];
    const report = pump.report.bind(pump);
    pump.report = (r: DispatchReport) => {
      seen.push(structuredClone(r));
      return report(r);
    };
    (instance as unknown as { seenReports: DispatchReport[] }).seenReports = seen;
  });
  return () =>
    runInDurableObject(stub, (instance) => [
      ...(instance as unknown as { seenReports: DispatchReport[] }).seenReports,
    ]);
}

describe("wide fan-out", () => {
  it("finishes a 200-way for_each with every instance successful and ≤ 6 connections open per invocation", async () => {
    const { start, stub } = await withPipeline(wide(200));
    const observed = await observeConnections(stub);
    const run = await start();
    expect(run.status).toBe("success");
    const each = run.tasks.filter((t) => t.id === "each");
    expect(each).toHaveLength(200);
    expect(each.every((t) => t.status === "success" && t.attempts === 1)).toBe(true);
    expect(each.map((t) => (t.output as { value: number }).value).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 200 }, (_, i) => i + 1),
    );
    // Most calls went to Dispatcher invocations in batches of ≤ 36 (each one sends ≤ 6 RPC batches:
    // dispatcher-reports.test.ts); the object itself, seen from its bindings, never had more than 6
    // plugin calls and hand-offs open at once.
    expect((await pumpOf(stub)).handOffs).toBeGreaterThanOrEqual(Math.floor(200 / MAX_BATCH));
    const { peak, calls } = await observed();
    expect(calls).toBeGreaterThan(Math.floor(200 / MAX_BATCH));
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(6);
  });

  it("keeps a small ready set in the object: a chain never hands off", async () => {
    const { start, stub } = await withPipeline({
      name: "Chain",
      tasks: [
        { id: "a", uses: "core/noop@^1", with: { value: 1 } },
        { id: "b", uses: "core/noop@^1", needs: ["a"], with: { value: 2 } },
        { id: "c", uses: "core/noop@^1", needs: ["b"], with: { value: 3 } },
      ],
    });
    const run = await start();
    expect(run.status).toBe("success");
    expect((await pumpOf(stub)).handOffs).toBe(0);
  });

  it("ignores a batch's results delivered a second time, or late with another outcome", async () => {
    const { stub, start, detail, alarm } = await withPipeline({
      name: "Sleepy fan-out",
      concurrency: { max_active_tasks: 20 },
      tasks: [{ id: "each", uses: "core/sleep@^1", for_each: "{{ [1..12] }}", with: { duration: "2m" } }],
    });
    // Every report the Dispatcher invocations send is recorded on its way in, to be replayed later.
    const reports = await recordReports(stub);
    // The twelve calls go in one hand-off; core/sleep answers "waiting", to be poked two minutes later.
    const first = await start();
    expect(first.status).toBe("running");
    expect(first.tasks.map((t) => t.status)).toEqual(Array(12).fill("waiting"));
    // Two minutes later by the object's clock, the alarm pokes all twelve again, in a second hand-off;
    // the plugin's clock has not moved, so they keep waiting.
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + NAP_MS + 1_000 });
    await alarm();
    const run = await detail(first.id);
    expect(run.tasks.map((t) => t.status)).toEqual(Array(12).fill("waiting"));
    expect((await pumpOf(stub)).handOffs).toBe(2);
    const tokens = (await reports()).flatMap((r) => r.results.map((result) => result.token));
    // One outcome per call, each under its own dispatch's token.
    expect(new Set(tokens).size).toBe(24);
    expect(tokens).toHaveLength(24);
    const again = (outcome: Outcome): DispatchReport => ({
      results: tokens.map((token) => ({ token, outcome })),
      peak_in_flight: 6,
    });
    const success: Outcome = { kind: "success", output: { slept_ms: NAP_MS }, logs: [] };
    const failure: Outcome = {
      kind: "failure",
      error: { kind: "plugin_error", message: "late" },
      retryable: false,
      logs: [],
    };
    expect(await stub.reportResults(again(success))).toEqual({ delivered: 0 });
    expect(await stub.reportResults(again(failure))).toEqual({ delivered: 0 });
    expect(await detail(run.id)).toEqual(run);
  });
});
