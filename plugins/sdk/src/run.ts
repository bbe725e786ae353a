/** Runs one operator call: validates, applies the deadline, and maps whatever happens to an Outcome. */
import { deliverCallback } from "./callback.ts";
import { type ContextHost, createContext } from "./context.ts";
import type { Operator, Plugin } from "./define.ts";
import { Running, Waiting } from "./directives.ts";
import { DeadlineExceededError, errorMessage, NonRetriableError, RetryAfterError } from "./errors.ts";
import type { PluginHost } from "./host.ts";
import { describeIssues, issuesOf } from "./issues.ts";
import { LogBook } from "./logs.ts";
import { callbackBody, type Outcome } from "./outcome.ts";
import { DEADLINE_EXCEEDED, type Invocation, InvocationContext, type LogEntry } from "./protocol/index.ts";

type Failure = Extract<Outcome, { kind: "failure" }>;

const nonRetryable = (error: string, logs: LogEntry[] = []): Failure => ({
  kind: "failure",
  error,
  retryable: false,
  logs,
});

/** The invocation's deadline passed: retryable, and coded so the platform records a timeout. */
const deadlinePassed = (error: string, logs: LogEntry[] = []): Failure => ({
  kind: "failure",
  error,
  retryable: true,
  logs,
  code: DEADLINE_EXCEEDED,
});

export function outcomeOfError(thrown: unknown, logs: LogEntry[]): Outcome {
  const error = errorMessage(thrown);
  if (thrown instanceof RetryAfterError)
    return { kind: "retry_after", error, retryAfterMs: thrown.retryAfterMs, logs };
  if (thrown instanceof NonRetriableError) return nonRetryable(error, logs);
  if (thrown instanceof DeadlineExceededError) return deadlinePassed(error, logs);
  // Anything unexpected may be transient (a network blip): the platform's retries decide.
  return { kind: "failure", error, retryable: true, logs };
}

/** Turns what `run()` returned into an Outcome; a wrong output is the plugin's bug, so not retried. */
function settle(operator: Operator, value: unknown, logs: LogBook, inBackground: boolean): Outcome {
  if (value instanceof Running || value instanceof Waiting) {
    if (inBackground) return nonRetryable(`background work must return the output, not "${value.kind}"`);
    if (value instanceof Running) return { kind: "running" };
    if (operator.kind !== "sensor")
      return nonRetryable(`operator ${operator.name} is an action; only sensors wait`);
    return { kind: "waiting", retryAfterMs: value.retryAfterMs, logs: logs.entries() };
  }
  const output = operator.output.safeParse(value);
  if (output.success) return { kind: "success", output: output.data, logs: logs.entries() };
  const detail = describeIssues(issuesOf(output.error, "output"));
  return nonRetryable(
    `operator ${operator.name} returned output that violates its schema: ${detail}`,
    logs.entries(),
  );
}

function untilDeadline<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new DeadlineExceededError("the invocation deadline passed"));
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function connectionFor(plugin: Plugin, raw: Record<string, unknown> | null) {
  if (!plugin.connection) return { ok: true as const, value: raw ?? {} };
  const parsed = plugin.connection.safeParse(raw ?? {});
  if (!parsed.success) return { ok: false as const, issues: issuesOf(parsed.error, "connection") };
  const value = parsed.data;
  return { ok: true as const, value: typeof value === "object" && value !== null ? { ...value } : {} };
}

type Prepared =
  | { ok: true; input: unknown; connection: Record<string, unknown> }
  | { ok: false; outcome: Outcome };

/** Input and connection checked against their schemas; either mismatch fails without retry. */
function prepare(plugin: Plugin, operator: Operator, invocation: Invocation): Prepared {
  try {
    const input = operator.input.safeParse(invocation.input);
    if (!input.success) {
      const issues = issuesOf(input.error, "input");
      const error = `input violates the operator's schema: ${describeIssues(issues)}`;
      return { ok: false, outcome: { ...nonRetryable(error), issues } };
    }
    const connection = connectionFor(plugin, invocation.connection);
    if (!connection.ok) {
      const error = `connection settings violate the plugin's schema: ${describeIssues(connection.issues)}`;
      return { ok: false, outcome: { ...nonRetryable(error), issues: connection.issues } };
    }
    return { ok: true, input: input.data, connection: connection.value };
  } catch (thrown) {
    // Schemas recurse; absurdly nested input overflows the stack instead of failing validation.
    if (thrown instanceof RangeError)
      return { ok: false, outcome: nonRetryable("the input is nested too deeply") };
    throw thrown;
  }
}

export async function invokeOperator(
  plugin: Plugin,
  operator: Operator,
  invocation: Invocation,
  host: PluginHost,
): Promise<Outcome> {
  const prepared = prepare(plugin, operator, invocation);
  if (!prepared.ok) return prepared.outcome;
  const remainingMs = Date.parse(invocation.deadline) - Date.now();
  if (remainingMs <= 0) return deadlinePassed("the deadline passed before the call");

  const { input: _input, connection: _connection, context, ...meta } = invocation;
  const logs = new LogBook();
  // Timers overflow past 2^31 - 1 ms and would fire at once; no single call legitimately runs that long.
  const signal = AbortSignal.timeout(Math.min(remainingMs, 2_147_483_647));
  const { callback_url: url, invocation_id: id } = invocation;
  const report = (outcome: Outcome) => deliverCallback(host.platformFetch, url, id, callbackBody(outcome));
  const contextHost: ContextHost = {
    waitUntil: (promise) => host.waitUntil(promise),
    finishWithValue: (value) => report(settle(operator, value, logs, true)),
    finishWithError: (thrown) => report(outcomeOfError(thrown, logs.entries())),
    finishWithFailure: (error, retryable) =>
      report({ kind: "failure", error, retryable, logs: logs.entries() }),
  };
  const ctx = createContext({
    input: prepared.input,
    connection: prepared.connection,
    invocation: meta,
    context: operator.context ? (context ?? InvocationContext.parse({})) : undefined,
    env: host.env,
    signal,
    logs,
    host: contextHost,
  });
  try {
    const value = await untilDeadline(
      Promise.resolve().then(() => operator.run(ctx)),
      signal,
    );
    return settle(operator, value, logs, false);
  } catch (thrown) {
    return outcomeOfError(thrown, logs.entries());
  }
}
