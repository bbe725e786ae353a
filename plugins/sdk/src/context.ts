/** `ctx`, the one argument of an operator's `run()`. */
import { Running, Waiting } from "./directives.ts";
import type { LogBook } from "./logs.ts";
import type { InvocationContext, InvocationMeta, LogLevel } from "./protocol/index.ts";

/** The final result a long-running operator reports through `ctx.complete()`. */
export type FinalResult<Output> =
  | { status: "success"; output: Output }
  | { status: "failure"; error: string; retryable: boolean };

export interface OperatorContext<Input, Output> {
  /** The task's `with:` values, parsed by the operator's input schema (defaults applied). */
  readonly input: Input;
  /** The installation's decrypted settings, checked against the plugin's connection schema. */
  readonly connection: Readonly<Record<string, unknown>>;
  /** Who is calling: ids, attempt, idempotency key, deadline, `task_started_at`, `callback_url`. */
  readonly invocation: InvocationMeta;
  /** `{params, trigger, tasks, run, item}`, only for operators declared with `context: true`. */
  readonly context: InvocationContext | undefined;
  /** The host's environment (Worker bindings or `process.env`), read for this request. */
  readonly env: Readonly<Record<string, unknown>>;
  /** Aborts at the invocation's deadline; pass it to `fetch` and other long waits. */
  readonly signal: AbortSignal;
  /** Records a log line returned with the result (bounded: the first 100 entries are kept). */
  log(level: LogLevel, message: string): void;
  /** Sensors only: the condition is not met yet, poke again after `retryAfterMs`. */
  waiting(retryAfterMs: number): Waiting;
  /** Answer `202 running` now; report later with `ctx.complete()` from work kept alive by `ctx.waitUntil()`. */
  running(): Running;
  /**
   * Answer `202 running` now, run `work` after the response, and POST its result (or its error,
   * mapped exactly like a thrown error from `run`) to `callback_url`.
   */
  background(work: () => Promise<Output>): Running;
  /** POSTs the final result of a running operator to `callback_url`. */
  complete(result: FinalResult<Output>): Promise<void>;
  /** Keeps the host alive for `promise` after the response (Workers `ctx.waitUntil`). */
  waitUntil(promise: Promise<unknown>): void;
}

/** What the context needs from the invocation runner; kept as an interface to avoid an import cycle. */
export interface ContextHost {
  waitUntil(promise: Promise<unknown>): void;
  finishWithValue(value: unknown): Promise<void>;
  finishWithError(thrown: unknown): Promise<void>;
  finishWithFailure(error: string, retryable: boolean): Promise<void>;
}

export interface ContextParts<Input> {
  input: Input;
  connection: Record<string, unknown>;
  invocation: InvocationMeta;
  context: InvocationContext | undefined;
  env: Record<string, unknown>;
  signal: AbortSignal;
  logs: LogBook;
  host: ContextHost;
}

export function createContext<Input, Output>(parts: ContextParts<Input>): OperatorContext<Input, Output> {
  const { host } = parts;
  return {
    input: parts.input,
    connection: parts.connection,
    invocation: parts.invocation,
    context: parts.context,
    env: parts.env,
    signal: parts.signal,
    log: (level, message) => parts.logs.add(level, String(message)),
    waiting: (retryAfterMs) => new Waiting(retryAfterMs),
    running: () => new Running(),
    background(work) {
      // Started from a resolved promise so a synchronous throw in `work` is reported, not lost.
      host.waitUntil(Promise.resolve().then(work).then(host.finishWithValue, host.finishWithError));
      return new Running();
    },
    complete(result) {
      return result.status === "success"
        ? host.finishWithValue(result.output)
        : host.finishWithFailure(result.error, result.retryable);
    },
    waitUntil: (promise) => host.waitUntil(promise),
  };
}
