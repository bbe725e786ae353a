/**
 * How a Dispatcher invocation reports its batch back to the object: a report is a call into the
 * PipelineDO, so outcomes that finish together go in one report, and a slow call does not hold the
 * fast ones back for longer than the report window. Time is the test's (fake timers): the plugin's
 * delays and the Dispatcher's window run on the same clock.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { DispatchReport, PreparedCall } from "../../worker/dispatcher/batch";
import { performBatch } from "../../worker/dispatcher/index";
import type { Invocation, SignedCall } from "../../worker/runner/invoke";

const OBJECT = "a".repeat(64);

function call(i: number, delayMs: number): PreparedCall {
  const invocation: Invocation = {
    invocation_id: `run_1.${i}`,
    idempotency_key: `run_1/each[${i}]/0`,
    attempt: 1,
    tenant: "acme",
    pipeline: "fan",
    run: "run_1",
    task: "each",
    map_index: i,
    logical_date: null,
    input: { delay_ms: delayMs },
    connection: null,
    callback_url: "https://updraft.test/api/callbacks/unused",
    deadline: new Date(Date.now() + 60_000).toISOString(),
    task_started_at: new Date().toISOString(),
  };
  return { token: `token-${i}`, operator: "noop", invocation };
}

/**
 * A plugin Worker that answers each call of an RPC batch after the delay its input names, one answer
 * line as each settles (PROTOCOL.md §8), and an object that records reports.
 */
function fakeEnv() {
  const reports: { at: number; tokens: string[]; peak: number }[] = [];
  const batches: number[] = [];
  const started = Date.now();
  // The observer: RPC batches open at once (from the call until its answer stream ends), counted here
  // by the plugin's side, not by the Dispatcher's own counter.
  const connections = { open: 0, peak: 0 };
  const plugin = {
    // A service binding always has fetch; the Dispatcher only uses the RPC batch.
    fetch: () => Promise.resolve(new Response(null, { status: 404 })),
    async invoke(calls: SignedCall[]) {
      batches.push(calls.length);
      connections.open++;
      connections.peak = Math.max(connections.peak, connections.open);
      const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
      const writer = writable.getWriter();
      const encoder = new TextEncoder();
      const answers = calls.map(async ({ body }, index) => {
        const { input, map_index } = JSON.parse(body) as Invocation;
        await new Promise((resolve) => setTimeout(resolve, Number(input.delay_ms)));
        const answer = { status: "success", output: { i: map_index } };
        const line = { index, status: 200, headers: {}, body: JSON.stringify(answer) };
        await writer.write(encoder.encode(`${JSON.stringify(line)}\n`));
      });
      void Promise.all(answers).then(() => {
        connections.open--;
        return writer.close();
      });
      return readable;
    },
  };
  const object = {
    async reportResults(report: DispatchReport) {
      const tokens = report.results.map((r) => r.token);
      reports.push({ at: Date.now() - started, tokens, peak: report.peak_in_flight });
      return { delivered: report.results.length };
    },
  };
  const fake = {
    ...env,
    PLUGIN_CORE: plugin,
    PIPELINE: { idFromString: (id: string) => id, get: () => object },
  } as unknown as Env;
  return { fake, reports, batches, connections };
}

describe("Dispatcher reports", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("reports a batch whose calls finish together in one call to the object", async () => {
    const { fake, reports } = fakeEnv();
    // A long window: the report goes when the last call settles, not when the window ends.
    const done = performBatch(
      fake,
      OBJECT,
      Array.from({ length: 6 }, (_, i) => call(i, 5)),
      10_000,
    );
    await vi.advanceTimersByTimeAsync(5);
    await done;
    expect(reports.map((r) => r.at)).toEqual([5]);
    expect(reports[0]?.tokens.sort()).toEqual(Array.from({ length: 6 }, (_, i) => `token-${i}`).sort());
  });

  it("does not hold fast outcomes back for a slow call of the same batch", async () => {
    const { fake, reports } = fakeEnv();
    const calls = [...Array.from({ length: 5 }, (_, i) => call(i, 5)), call(5, 400)];
    const done = performBatch(fake, OBJECT, calls, 50);
    // The fast ones settle at 5 ms and wait out the 50 ms window for company, then go without the slow one.
    await vi.advanceTimersByTimeAsync(5 + 50 - 1);
    expect(reports).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(reports.map((r) => [r.at, r.tokens.length])).toEqual([[55, 5]]);
    // The slow one is reported as soon as it settles: it is the last, so no window.
    await vi.advanceTimersByTimeAsync(400 - 55);
    await done;
    expect(reports.map((r) => [r.at, r.tokens.length])).toEqual([
      [55, 5],
      [400, 1],
    ]);
    expect(reports[1]?.tokens).toEqual(["token-5"]);
  });

  it("sends a hand-off of 36 calls as six RPC batches of six: six connections, not 36", async () => {
    const { fake, reports, batches, connections } = fakeEnv();
    const done = performBatch(
      fake,
      OBJECT,
      Array.from({ length: 36 }, (_, i) => call(i, 5)),
      10_000,
    );
    await vi.advanceTimersByTimeAsync(5);
    await done;
    expect(batches).toEqual([6, 6, 6, 6, 6, 6]);
    // All settle together: one report, when the last one does.
    expect(reports.map((r) => r.at)).toEqual([5]);
    expect(reports.flatMap((r) => r.tokens).sort()).toEqual(
      Array.from({ length: 36 }, (_, i) => `token-${i}`).sort(),
    );
    expect(connections.peak).toBe(6);
    // What the Dispatcher reports agrees with what the plugin saw.
    expect(reports.every((r) => r.peak === connections.peak)).toBe(true);
  });

  it("still ends when the object cannot be reached; the outcomes are left to recovery", async () => {
    const { fake } = fakeEnv();
    const failing = {
      ...fake,
      PIPELINE: {
        idFromString: (id: string) => id,
        get: () => ({ reportResults: () => Promise.reject(new Error("object gone")) }),
      },
    } as unknown as Env;
    const done = performBatch(failing, OBJECT, [call(0, 1), call(1, 1)]);
    await vi.advanceTimersByTimeAsync(1);
    await expect(done).resolves.toBeUndefined();
  });
});
