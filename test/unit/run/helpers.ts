import {
  compilePlan,
  createRun,
  type Effect,
  type PipelineSpec,
  type RunEvent,
  type RunPlan,
  type RunState,
  type StepResult,
  step,
  type TaskInstance,
  type TaskOutcome,
  taskKey,
  validatePipelineSpec,
} from "../../../worker/engine/index";

export type RawTask = { id: string; needs?: string[] } & Record<string, unknown>;

/** A validated spec; tasks default to a no-op operator. */
export function pipeline(tasks: RawTask[], extra: Record<string, unknown> = {}): PipelineSpec {
  const raw = { name: "test", tasks: tasks.map((t) => ({ uses: "core/noop@^1", ...t })), ...extra };
  const parsed = validatePipelineSpec(raw);
  if (!parsed.ok) throw new Error(`invalid test spec: ${JSON.stringify(parsed.errors)}`);
  return parsed.spec;
}

export const T0 = Date.parse("2026-11-24T09:00:00Z");

/** The error Harness.fail answers with: a plugin's own failure. */
export const BOOM = { kind: "plugin_error", message: "boom" } as const;

type Dispatch = Extract<Effect, { type: "dispatch" }>;

/** Drives one run the way a PipelineDO would, keeping the latest state and effects. */
export class Harness {
  readonly plan: RunPlan;
  state: RunState;
  now = T0;
  capacity: number | undefined;
  effects: Effect[] = [];
  last: StepResult | undefined;

  constructor(spec: PipelineSpec, options: { capacity?: number; start?: boolean } = {}) {
    this.plan = compilePlan(spec);
    this.state = createRun(this.plan, { id: "run_1", now: this.now });
    this.capacity = options.capacity;
    if (options.start !== false) this.send({ type: "start" });
  }

  send(event: RunEvent): StepResult {
    const context =
      this.capacity === undefined ? { now: this.now } : { now: this.now, capacity: this.capacity };
    const result = step(this.plan, this.state, event, context);
    this.last = result;
    this.effects = result.kind === "applied" ? result.effects : [];
    if (result.kind === "applied") this.state = result.state;
    for (const effect of this.effects) {
      if (effect.type === "set_timer") this.timers.set(effect.id, effect);
      if (effect.type === "clear_timer") this.timers.delete(effect.id);
    }
    return result;
  }

  /** Moves the clock and delivers the timer row for `key` (or the run timeout). */
  fire(key: string | "run"): StepResult {
    const id = key === "run" ? "run" : `task:${key}`;
    const timer = this.timers.get(id);
    if (!timer) throw new Error(`no timer for ${key}`);
    // The DO deletes a row when it delivers it.
    this.timers.delete(id);
    this.now = Math.max(this.now, timer.at);
    return this.send({ type: "timer", timer: timer.timer });
  }

  /** Answers the current dispatch of `key`. */
  answer(key: string, outcome: TaskOutcome): StepResult {
    const instance = this.instance(key);
    return this.send({
      type: "task_result",
      key,
      attempt: instance.attempt,
      dispatch: instance.dispatch,
      outcome,
    });
  }

  succeed(...keys: string[]): void {
    for (const key of keys) this.answer(key, { status: "success", output_ref: `out:${key}` });
  }

  fail(key: string, retryable = false): StepResult {
    return this.answer(key, { status: "failure", error: BOOM, retryable });
  }

  instance(key: string): TaskInstance {
    for (const [task, state] of Object.entries(this.state.tasks)) {
      for (const instance of state.instances) if (taskKey(task, instance.map_index) === key) return instance;
    }
    throw new Error(`no instance ${key}`);
  }

  status(key: string): string {
    return this.instance(key).status;
  }

  /** Keys dispatched by the latest step. */
  dispatched(): string[] {
    return this.dispatches().map((d) => d.key);
  }

  dispatches(): Dispatch[] {
    return this.effects.filter((e): e is Dispatch => e.type === "dispatch");
  }

  of<K extends Effect["type"]>(type: K): Array<Extract<Effect, { type: K }>> {
    return this.effects.filter((e): e is Extract<Effect, { type: K }> => e.type === type);
  }

  /** Timer rows as the DO's table holds them after every effect so far. */
  readonly timers = new Map<string, Extract<Effect, { type: "set_timer" }>>();
}
