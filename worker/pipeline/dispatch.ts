/**
 * One dispatch: render the task's input, resolve its plugin, call the operator, and turn the answer
 * into the planner event (plus the output blob and log lines that go with it). Never throws for
 * anything a plugin or an expression does; those become task failures.
 */
import { parseUses, type RunEvent, type TaskError, type TaskOutcome, taskError } from "../engine";
import { render } from "../engine/render";
import { redact } from "../redact";
import { type Invocation, invokeOperator } from "../runner/invoke";
import { failure, type Outcome } from "../runner/outcome";
import type { Plans } from "./plans";
import {
  LEGACY_CORE,
  openConnection,
  type PluginBinding,
  type PluginTable,
  pinsRef,
  transportFor,
} from "./plugins";
import { remoteBatchOf } from "./pump";
import { buildScope, loadSecrets, MissingSecret, secretNames } from "./scope";
import type { Store } from "./store";
import type { Attachments, DispatchJob } from "./transition";
import type { PipelineIdentity } from "./types";

export type Deps = {
  env: Env;
  store: Store;
  plans: Plans;
  plugins: PluginTable;
  identity: PipelineIdentity;
  now: () => number;
};
export type Answer = { event: RunEvent; attach: Attachments };

/** Without an operator timeout the invocation still needs a deadline. */
const DEFAULT_DEADLINE_MS = 60_000;

export async function dispatch(deps: Deps, job: DispatchJob): Promise<Answer | null> {
  const stored = deps.store.run(job.run);
  if (!stored) return null;
  const task = deps.plans.task(job.version, job.task);
  const uses = parseUses(task.uses);
  const binding = uses ? pinned(deps, job.run, uses.plugin) : undefined;
  if (!uses || !binding) {
    const missing = `plugin ${uses?.plugin ?? task.uses} is not installed`;
    return answer(job, failure("input_invalid", missing, false), []);
  }
  const transport = transportFor(deps.env, binding);
  if (typeof transport === "string") return answer(job, failure("input_invalid", transport, false), []);
  let secrets: Record<string, string> = {};
  let connection: Awaited<ReturnType<typeof openConnection>> = { connection: null, secrets: [] };
  const names = secretNamesOf(task);
  try {
    if (names.size > 0) secrets = await loadSecrets(deps.env, deps.identity.tenant_id, names);
    connection = await openConnection(deps.env, deps.identity.tenant_id, deps.plugins.dataKey(), binding);
  } catch (error) {
    // D1 or decryption trouble may pass; a secret that is not set will not.
    const outcome =
      error instanceof MissingSecret
        ? failure("input_invalid", error.message, false)
        : failure("platform_error", messageOf(error), true);
    return answer(job, outcome, []);
  }
  // Tenant secrets and the connection's secret settings never reach what is kept of a run.
  const values = [...Object.values(secrets), ...connection.secrets];
  const scope = buildScope(deps.store, deps.plans.plan(job.version), stored.state, task, job.map_index);
  let input: unknown;
  try {
    input = await render(task.with, { ...scope, secrets });
  } catch (error) {
    return answer(job, failure("expression_error", `input: ${messageOf(error)}`, false), values);
  }
  const now = deps.now();
  const instance = stored.state.tasks[job.task]?.instances.find((i) => i.map_index === job.map_index);
  const { origin, tenant_slug, pipeline_slug } = deps.identity;
  const invocation: Invocation = {
    invocation_id: `${job.run}.${job.dispatch}`,
    // The same on automatic retries, new after a manual retry (a new generation).
    idempotency_key: `${job.run}/${job.key}/${job.generation}`,
    attempt: job.attempt,
    tenant: tenant_slug,
    pipeline: pipeline_slug,
    run: job.run,
    task: job.task,
    map_index: job.map_index,
    logical_date: stored.state.logical_date,
    input: (input ?? {}) as Record<string, unknown>,
    connection: connection.connection,
    callback_url: `${origin}/api/callbacks/${job.token}`,
    deadline: new Date(job.deadline_at ?? now + DEFAULT_DEADLINE_MS).toISOString(),
    task_started_at: new Date(instance?.started_at ?? now).toISOString(),
    // The published plugin's name, not the installation's: the signed body names its recipient, so the
    // plugin refuses it if it was replayed to another plugin (PROTOCOL.md §2).
    plugin: binding.plugin,
    // Never secrets: the context is the scope without them.
    ...(binding.operators[uses.operator]?.context
      ? {
          context: {
            params: scope.params,
            trigger: scope.trigger,
            tasks: scope.tasks,
            run: scope.run,
            item: scope.item ?? null,
          },
        }
      : {}),
  };
  // The pump decides where the call is made: here, or in a Dispatcher invocation with its batch.
  // A first-party plugin's calls may go in batches; others are called from here (the batch counts
  // a job that built no call of its own as done).
  const batch = "binding" in binding.endpoint ? remoteBatchOf(job) : undefined;
  const outcome =
    batch && "binding" in binding.endpoint
      ? await batch.call(deps.env, {
          token: job.token,
          operator: uses.operator,
          invocation,
          binding: binding.endpoint.binding,
        })
      : await invokeOperator(transport, uses.operator, invocation, { signingKey: deps.env.SIGNING_KEY });
  return answer(job, outcome, values);
}

/**
 * What an answer that arrives outside its dispatch (a callback, a Dispatcher's late report) must not
 * keep: the task's tenant secrets and its pinned connection's secret settings, as dispatch redacts.
 * Best effort: a secret deleted since, or a key that no longer opens, leaves nothing to redact with.
 */
export async function secretsOfAnswer(
  deps: Omit<Deps, "now">,
  run: string,
  version: number,
  taskId: string,
): Promise<string[]> {
  const task = deps.plans.task(version, taskId);
  const uses = parseUses(task.uses);
  const binding = uses ? pinned(deps, run, uses.plugin) : undefined;
  const values: string[] = [];
  const names = secretNamesOf(task);
  try {
    if (names.size > 0)
      values.push(...Object.values(await loadSecrets(deps.env, deps.identity.tenant_id, names)));
  } catch {
    // deleted since the dispatch
  }
  try {
    if (binding) {
      const opened = await openConnection(deps.env, deps.identity.tenant_id, deps.plugins.dataKey(), binding);
      values.push(...opened.secrets);
    }
  } catch {
    // the installation's key no longer opens (rotated)
  }
  return values;
}

/**
 * The binding a run pinned for a name when it was created; a run created before runs pinned their
 * plugins uses what the object holds now (or, before it was ever told, `core` as it always was).
 */
function pinned(deps: Pick<Deps, "store" | "plugins">, run: string, name: string): PluginBinding | undefined {
  const ref = pinsRef(run);
  const pins = deps.store.blobs([ref]).get(ref) as PluginBinding[] | undefined;
  if (pins) return pins.find((pin) => pin.name === name);
  const known = deps.plugins.all();
  return known ? known.get(name) : name === "core" ? LEGACY_CORE : undefined;
}

/** A task's secret names, per task object of the cached plan: the templates do not change. */
const namesByTask = new WeakMap<object, Set<string>>();
function secretNamesOf(task: { with?: unknown }): Set<string> {
  let names = namesByTask.get(task);
  if (!names) {
    names = secretNames(task.with);
    namesByTask.set(task, names);
  }
  return names;
}

type Answered = Pick<DispatchJob, "run" | "key" | "attempt" | "dispatch">;

/** The planner event for a plugin's answer, with secrets redacted from everything that is kept. */
export function answer(job: Answered, outcome: Outcome, secrets: readonly string[]): Answer {
  const clean = (text: string) => redact(text, secrets);
  const logs = "logs" in outcome ? outcome.logs.map((l) => ({ ...l, message: clean(l.message) })) : [];
  const attach: Attachments = { answered: { key: job.key, dispatch: job.dispatch } };
  let result: TaskOutcome;
  switch (outcome.kind) {
    case "success": {
      const ref = `out:${job.run}:${job.key}:${job.dispatch}`;
      const text = JSON.stringify(outcome.output ?? null);
      attach.blobs = [{ ref, value: JSON.parse(secrets.length ? clean(text) : text) }];
      result = { status: "success", output_ref: ref };
      break;
    }
    case "failure": {
      const { kind, message } = reported(outcome.error);
      const error = { kind, message: clean(message) };
      logs.push({
        at: new Date().toISOString(),
        level: "error",
        message: `attempt ${job.attempt} failed (${error.kind}): ${error.message}`,
      });
      result = {
        status: "failure",
        error,
        retryable: outcome.retryable,
        ...(outcome.retryAfterMs === undefined ? {} : { retry_after_ms: outcome.retryAfterMs }),
      };
      break;
    }
    case "running":
      result = { status: "running" };
      // The callback's result answers this dispatch: keep its token.
      delete attach.answered;
      break;
    case "waiting":
      result = { status: "waiting", retry_after_ms: outcome.retryAfterMs };
      break;
    default: {
      const never: never = outcome;
      throw new Error(`unknown outcome ${JSON.stringify(never)}`);
    }
  }
  attach.logs = { key: job.key, attempt: job.attempt, lines: logs };
  const event: RunEvent = {
    type: "task_result",
    key: job.key,
    attempt: job.attempt,
    dispatch: job.dispatch,
    outcome: result,
  };
  return { event, attach };
}

/**
 * A Dispatcher still running the previous version (reports that cross a deploy) sends a failure's error
 * as a bare string; it must not reach the run's state as anything but a TaskError.
 */
function reported(error: TaskError | string): TaskError {
  return typeof error === "string" ? taskError("unknown", error) : error;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
