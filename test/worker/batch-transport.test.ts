/**
 * The service-binding batch transport (runner/batch.ts, PROTOCOL.md §8) against the real core plugin
 * Worker and against plugin Workers that break the stream in every way a stream can break.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { TaskErrorKind } from "../../worker/engine";
import { type BatchBinding, DEADLINE_GRACE_MS, invokeBatch } from "../../worker/runner/batch";
import type { Invocation, SignedCall } from "../../worker/runner/invoke";
import type { Outcome } from "../../worker/runner/outcome";
import { batchBinding } from "../../worker/runner/transport";
import { invocation } from "./invocations";

const options = { signingKey: env.SIGNING_KEY };
const core = batchBinding(env.PLUGIN_CORE);

afterEach(() => {
  vi.useRealTimers();
});

function outcomes(binding: BatchBinding, calls: { operator: string; invocation: Invocation }[]) {
  return Promise.all(invokeBatch(binding, "plugin", calls, options).map(({ outcome }) => outcome));
}

/** A plugin Worker whose `invoke` answers with the given lines (or throws, or never ends). */
function streaming(lines: string[], { end = true, onCancel = () => {} } = {}): BatchBinding {
  return {
    async invoke() {
      const encoder = new TextEncoder();
      return new ReadableStream<Uint8Array>({
        start(controller) {
          for (const line of lines) controller.enqueue(encoder.encode(line));
          if (end) controller.close();
        },
        cancel: onCancel,
      });
    },
  };
}

const ok = (index: number, output: unknown = null) =>
  `${JSON.stringify({ index, status: 200, headers: {}, body: JSON.stringify({ status: "success", output }) })}\n`;

const errorOf = (outcome: Outcome | undefined) => (outcome?.kind === "failure" ? outcome.error : null);
/** The failure's kind, and a message containing `text`. */
const error = (kind: TaskErrorKind, text: string) => ({ kind, message: expect.stringContaining(text) });

const two = () => [
  { operator: "noop", invocation: invocation({}) },
  { operator: "noop", invocation: invocation({}) },
];

describe("batch transport → the real core plugin", () => {
  it("runs every call of a batch and gives each its own outcome", async () => {
    const results = await outcomes(core, [
      { operator: "noop", invocation: invocation({ value: 1 }) },
      { operator: "transform", invocation: invocation({ expression: "1 + 1" }) },
      { operator: "fail", invocation: invocation({ message: "no", retryable: false }) },
      { operator: "nope", invocation: invocation({}) },
    ]);
    expect(results[0]).toMatchObject({ kind: "success", output: { value: 1 } });
    expect(results[1]).toMatchObject({ kind: "success", output: 2 });
    expect(results[2]).toMatchObject({
      kind: "failure",
      retryable: false,
      error: error("plugin_error", "no"),
    });
    expect(results[3]).toMatchObject({ kind: "failure", retryable: false });
    expect(errorOf(results[3])).toEqual(error("protocol_error", "no such operator"));
  });

  it("verifies every call's signature on its own: a tampered call is refused, the others run", async () => {
    const tampering: BatchBinding = {
      invoke: (calls: SignedCall[]) =>
        core.invoke(
          calls.map((call, index) =>
            index === 1 ? { ...call, body: call.body.replace('"value":2', '"value":3') } : call,
          ),
        ),
    };
    const results = await outcomes(tampering, [
      { operator: "noop", invocation: invocation({ value: 1 }) },
      { operator: "noop", invocation: invocation({ value: 2 }) },
    ]);
    expect(results[0]).toMatchObject({ kind: "success" });
    expect(results[1]).toMatchObject({ kind: "failure", retryable: true });
    expect(errorOf(results[1])).toEqual(error("protocol_error", "refused the invocation (401)"));
  });

  it("is refused as a whole when the batch is not a list of 1–6 signed calls", async () => {
    const invalid = [[], Array.from({ length: 7 }, () => ({ operator: "noop", headers: {}, body: "{}" }))];
    for (const calls of invalid) {
      const text = await new Response(await core.invoke(calls as SignedCall[])).text();
      expect(JSON.parse(text)).toEqual({ refused: "a batch is 1–6 signed operator requests" });
    }
    const refusing = { invoke: () => core.invoke([]) };
    for (const result of await outcomes(refusing, two()))
      expect(errorOf(result)).toEqual(error("protocol_error", "the batch was refused: a batch is 1–6"));
    expect(() =>
      invokeBatch(
        core,
        "core",
        Array.from({ length: 7 }, () => ({ operator: "noop", invocation: invocation({}) })),
        options,
      ),
    ).toThrow(RangeError);
  });
});

describe("batch transport → plugins that break the stream", () => {
  it("an invoke that throws fails every call as retryable, naming the plugin", async () => {
    const results = await outcomes({ invoke: () => Promise.reject(new Error("no such method")) }, two());
    for (const result of results) {
      expect(result).toMatchObject({ kind: "failure", retryable: true });
      expect(errorOf(result)).toEqual(error("unreachable", "plugin could not be reached: no such method"));
    }
  });

  it("keeps the answers that came before a broken line and fails only the rest", async () => {
    const results = await outcomes(streaming([ok(0, "first"), "{not json\n"]), two());
    expect(results[0]).toMatchObject({ kind: "success", output: "first" });
    expect(errorOf(results[1])).toEqual(error("protocol_error", "broken batch answer"));
  });

  it("a line that is not an answer, or names a call that does not exist, breaks the batch", async () => {
    for (const line of [
      '{"index":0,"status":"200"}\n',
      ok(7),
      `${JSON.stringify({ index: 0, status: 200, headers: { "bad header": "x" }, body: "" })}\n`,
    ]) {
      const results = await outcomes(streaming([line]), two());
      for (const result of results) expect(result).toMatchObject({ kind: "failure", retryable: true });
    }
  });

  it("settles each call when its line arrives, not when the batch ends", async () => {
    const encoder = new TextEncoder();
    // The plugin answers call 1 at once and holds call 0's line back until the test lets it go.
    let answerSlowCall = () => {};
    const slowCallAnswered = new Promise<void>((resolve) => {
      answerSlowCall = resolve;
    });
    const slow: BatchBinding = {
      async invoke() {
        return new ReadableStream<Uint8Array>({
          async start(controller) {
            controller.enqueue(encoder.encode(ok(1, "fast")));
            await slowCallAnswered;
            controller.enqueue(encoder.encode(ok(0, "slow")));
            controller.close();
          },
        });
      },
    };
    const sent = invokeBatch(slow, "plugin", two(), options);
    const settled: number[] = [];
    const all = Promise.all(sent.map(({ outcome }, i) => outcome.then(() => settled.push(i))));
    expect(await sent[1]?.outcome).toMatchObject({ kind: "success", output: "fast" });
    // Call 1 did not wait for call 0's line, which has not come yet.
    expect(settled).toEqual([1]);
    answerSlowCall();
    await all;
    expect(settled).toEqual([1, 0]);
    expect(await sent[0]?.outcome).toMatchObject({ kind: "success", output: "slow" });
  });

  it("a stream that ends before answering a call fails that call", async () => {
    const results = await outcomes(streaming([ok(1, "second")]), two());
    expect(errorOf(results[0])).toEqual(
      error("protocol_error", "ended the batch without answering this call"),
    );
    expect(results[1]).toMatchObject({ kind: "success", output: "second" });
  });

  it("an answer that is not a protocol result is a retryable error, as over HTTP", async () => {
    const line = `${JSON.stringify({ index: 0, status: 200, headers: {}, body: "<html>" })}\n`;
    const [result] = await outcomes(streaming([line]), [{ operator: "noop", invocation: invocation({}) }]);
    expect(result).toMatchObject({ kind: "failure", retryable: true });
    expect(errorOf(result)).toEqual(error("protocol_error", "not JSON"));
  });

  it("honours a back-off answer's Retry-After, whatever the header's case", async () => {
    const failure = { status: "failure", error: "the server answered 429", retryable: true };
    const lines = [
      { index: 0, status: 503, headers: { "Retry-After": "7" }, body: JSON.stringify(failure) },
      { index: 1, status: 429, headers: { "retry-after": "2" }, body: "<html>slow down</html>" },
    ].map((line) => `${JSON.stringify(line)}\n`);
    const results = await outcomes(streaming(lines), two());
    expect(results[0]).toMatchObject({ kind: "failure", retryable: true, retryAfterMs: 7000 });
    // The plugin's own reason is kept, and the back-off is its failure; a back-off without a protocol
    // body came from in front of the plugin, which was not reached.
    expect(errorOf(results[0])).toEqual({
      kind: "plugin_error",
      message: "plugin asked to back off (503): the server answered 429",
    });
    expect(results[1]).toMatchObject({ kind: "failure", retryable: true, retryAfterMs: 2000 });
    expect(errorOf(results[1])).toEqual({ kind: "unreachable", message: "plugin asked to back off (429)" });
  });

  it("a stream that never ends times each call out after its own deadline and a grace", async () => {
    vi.useFakeTimers();
    let cancelled = false;
    const onCancel = () => {
      cancelled = true;
    };
    const [answered, hanging] = invokeBatch(
      streaming([ok(0)], { end: false, onCancel }),
      "plugin",
      [
        { operator: "noop", invocation: invocation({}) },
        {
          operator: "noop",
          invocation: invocation({}, { deadline: new Date(Date.now() + 300).toISOString() }),
        },
      ],
      options,
    );
    expect(await answered?.outcome).toMatchObject({ kind: "success" });
    const settled: Array<Outcome | "pending"> = ["pending"];
    void hanging?.outcome.then((outcome) => (settled[0] = outcome));
    // The plugin's own deadline answer gets a grace period first.
    await vi.advanceTimersByTimeAsync(300 + DEADLINE_GRACE_MS - 1);
    expect(settled).toEqual(["pending"]);
    expect(cancelled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(settled[0]).toMatchObject({
      kind: "failure",
      retryable: true,
      error: error("timeout", "did not answer within"),
    });
    // Nothing is left waiting on the stream once every call has its outcome.
    await vi.advanceTimersByTimeAsync(0);
    expect(cancelled).toBe(true);
  });

  it("a line longer than any answer breaks the batch instead of filling memory", async () => {
    const chunk = "x".repeat(1024 * 1024);
    const results = await outcomes(streaming([chunk, chunk, chunk]), two());
    for (const result of results)
      expect(errorOf(result)).toEqual(error("protocol_error", "longer than any answer"));
  });
});
