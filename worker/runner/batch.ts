/**
 * The service-binding transport of plugins/sdk/PROTOCOL.md §8: up to six signed operator requests in
 * one Workers RPC call (`invoke`) instead of one HTTP request each, answered by a stream of JSON lines,
 * one per call, as each settles. Each answer is the HTTP response the call would have had and is read
 * by the same readAnswer; each call keeps its own deadline. Outcomes never reject: a batch that fails,
 * a stream that breaks or ends early, and a line that is not an answer all end as retryable errors.
 */
import { BatchAnswer, MAX_BATCH_CALLS, MAX_RESULT_BYTES } from "@updraft/plugin-sdk/protocol";
import {
  answerOf,
  type Invocation,
  type InvokeOptions,
  notAnswered,
  type SignedCall,
  signCall,
  unreachable,
  waitMs,
} from "./invoke";
import { type Outcome, retryableError } from "./outcome";

/** What a plugin Worker built with `toWorkerEntrypoint` (plugins/sdk) answers over its binding. */
export interface BatchBinding {
  invoke(calls: SignedCall[]): Promise<ReadableStream<Uint8Array>>;
}

/**
 * How long past a call's deadline its answer is still awaited: a plugin answers its own deadline (the
 * SDK does), and that answer says more than a timeout here. Only a plugin that hangs meets this one.
 */
export const DEADLINE_GRACE_MS = 1000;

/** A line longer than this is not an answer of ours (bodies are limited to MAX_RESULT_BYTES). */
const MAX_LINE_CHARS = 2 * MAX_RESULT_BYTES + 64 * 1024;

export type BatchedCall = { operator: string; invocation: Invocation };

/**
 * Sends the calls in one RPC call; each comes back with its outcome's promise, resolved when its
 * answer line arrives, its deadline passes, or the batch fails.
 */
export function invokeBatch<C extends BatchedCall>(
  binding: BatchBinding,
  label: string,
  calls: readonly C[],
  options: InvokeOptions,
): Array<{ call: C; outcome: Promise<Outcome> }> {
  if (calls.length > MAX_BATCH_CALLS) throw new RangeError(`a batch holds at most ${MAX_BATCH_CALLS} calls`);
  const now = options.now ?? (() => new Date());
  const sent = calls.map((call) => ({
    call,
    pending: new PendingCall(label, waitMs(call.invocation, now())),
  }));
  void send(
    binding,
    label,
    calls,
    options,
    sent.map(({ pending }) => pending),
    now,
  );
  return sent.map(({ call, pending }) => ({ call, outcome: pending.outcome }));
}

class PendingCall {
  readonly outcome: Promise<Outcome>;
  private resolve: (outcome: Outcome) => void = () => {};
  private readonly timer: ReturnType<typeof setTimeout>;
  settled = false;
  timedOut = false;

  constructor(label: string, timeoutMs: number) {
    this.outcome = new Promise((resolve) => {
      this.resolve = resolve;
    });
    this.timer = setTimeout(() => {
      this.timedOut = !this.settled;
      this.settle(notAnswered(label, timeoutMs));
    }, timeoutMs + DEADLINE_GRACE_MS);
  }

  settle(outcome: Outcome): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.resolve(outcome);
  }
}

async function send(
  binding: BatchBinding,
  label: string,
  calls: readonly BatchedCall[],
  options: InvokeOptions,
  pending: readonly PendingCall[],
  now: () => Date,
): Promise<void> {
  const failAll = (outcome: Outcome) => {
    for (const call of pending) call.settle(outcome);
  };
  let stream: ReadableStream<Uint8Array>;
  try {
    const signed = await Promise.all(calls.map((c) => signCall(c.operator, c.invocation, options)));
    stream = await binding.invoke(signed);
  } catch (error) {
    failAll(unreachable(label, error));
    return;
  }
  const reader = stream.getReader();
  // Once every call is settled and one of them by its deadline, the rest of the stream is not wanted: a
  // read still waiting on a stream that never ends returns at once. (Not after ordinary answers: the
  // runtime reports the cancellation of an RPC stream as an unhandled rejection in the plugin.)
  void Promise.all(pending.map((call) => call.outcome)).then(() => {
    if (pending.some((call) => call.timedOut)) reader.cancel(new Error("no call is waiting")).catch(() => {});
  });
  const decoder = new TextDecoder();
  let buffered = "";
  try {
    while (pending.some((call) => !call.settled)) {
      const { done, value } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      let newline = buffered.indexOf("\n");
      while (newline >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        settleLine(label, line, pending, now());
        newline = buffered.indexOf("\n");
      }
      if (buffered.length > MAX_LINE_CHARS) throw new Error("an answer line is longer than any answer");
    }
  } catch (error) {
    failAll(retryableError("protocol_error", `${label} sent a broken batch answer: ${messageOf(error)}`));
  }
  failAll(retryableError("protocol_error", `${label} ended the batch without answering this call`));
}

function settleLine(label: string, line: string, pending: readonly PendingCall[], now: Date) {
  const parsed = BatchAnswer.safeParse(JSON.parse(line));
  if (!parsed.success) throw new Error("a line is not an answer");
  if ("refused" in parsed.data) throw new Error(`the batch was refused: ${parsed.data.refused}`);
  const { index, status, headers, body } = parsed.data;
  const call = pending[index];
  if (!call) throw new Error(`an answer names call ${index} of ${pending.length}`);
  const retryAfter = Object.entries(headers).find(([name]) => name.toLowerCase() === "retry-after");
  call.settle(answerOf(label, status, retryAfter?.[1] ?? null, body, now));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
