/**
 * One transition's working copy of a run. Copy-on-write: only the tasks an event touches are copied, so a
 * step costs what it changes, not the size of the run. Every change goes through here, which is what
 * keeps the derived effects honest: a status change always publishes, and timer rows always follow the
 * instances that own them (timeout while dispatched, poke while waiting, retry while backing off).
 */
import type { Effect, TimerRef } from "./events";
import { instanceTimerId, parseTaskKey, RUN_TIMER_ID, taskKey } from "./keys";
import type { RunPlan } from "./plan";
import type { RunState, TaskInstance, TaskState } from "./state";

type RunFields = Omit<RunState, "tasks">;
type Timer = { id: string; at: number; timer: TimerRef };

export type Located = { task: string; index: number; instance: TaskInstance };

export class Draft {
  readonly effects: Effect[] = [];
  changed = false;
  private fields: RunFields;
  private readonly tasks: Record<string, TaskState>;
  private readonly copied = new Set<string>();

  constructor(
    readonly plan: RunPlan,
    base: RunState,
    readonly now: number,
  ) {
    const { tasks, ...fields } = base;
    this.fields = fields;
    this.tasks = { ...tasks };
  }

  get run(): Readonly<RunFields> {
    return this.fields;
  }

  hasTask(task: string): boolean {
    return this.plan.tasks.has(task) && this.tasks[task] !== undefined;
  }

  taskState(task: string): Readonly<TaskState> {
    const state = this.tasks[task];
    if (!state) throw new Error(`the run has no task "${task}": was it created from another plan?`);
    return state;
  }

  instances(task: string): readonly TaskInstance[] {
    return this.taskState(task).instances;
  }

  /** Every instance, tasks in topological order. */
  *all(): Generator<Located> {
    for (const task of this.plan.order) {
      for (const [index, instance] of this.instances(task).entries()) yield { task, index, instance };
    }
  }

  find(key: string): Located | undefined {
    const parsed = parseTaskKey(key);
    if (!parsed || !this.hasTask(parsed.task)) return undefined;
    const list = this.instances(parsed.task);
    const index = Math.max(0, parsed.map_index);
    const instance = list[index];
    return instance?.map_index === parsed.map_index ? { task: parsed.task, index, instance } : undefined;
  }

  setInstance(task: string, index: number, next: TaskInstance): void {
    const state = this.own(task);
    const previous = state.instances[index];
    state.instances[index] = next;
    this.changed = true;
    this.syncTimer(instanceTimer(task, previous), instanceTimer(task, next));
    if (previous?.status !== next.status) this.publishInstance(task, next);
  }

  /** Replaces all of a task's instances (expansion, manual retry, reopening a propagated skip). */
  replaceInstances(task: string, next: TaskInstance[], patch: Partial<Omit<TaskState, "instances">> = {}) {
    const state = this.own(task);
    const keep = new Set(next.map((i) => taskKey(task, i.map_index)));
    for (const old of state.instances) {
      this.syncTimer(instanceTimer(task, old), null);
      const key = taskKey(task, old.map_index);
      if (!keep.has(key)) this.publish({ type: "task_removed", run: this.fields.id, key, at: this.now });
    }
    this.tasks[task] = { ...state, ...patch, instances: next };
    this.changed = true;
    for (const instance of next) this.publishInstance(task, instance);
  }

  setRun(patch: Partial<RunFields>): void {
    const previous = this.fields;
    this.fields = { ...previous, ...patch };
    this.changed = true;
    this.syncTimer(runTimer(previous), runTimer(this.fields));
    if (previous.status !== this.fields.status) {
      this.publish({ type: "run", run: this.fields.id, status: this.fields.status, at: this.now });
    }
  }

  /** Emits the instance's timer row again, for a timer that fired before the instance was due. */
  rearm(task: string, index: number): void {
    const timer = instanceTimer(task, this.instances(task)[index]);
    if (timer) this.effects.push({ type: "set_timer", ...timer });
  }

  emit(effect: Effect): void {
    this.effects.push(effect);
  }

  result(): RunState {
    return { ...this.fields, tasks: this.tasks };
  }

  private own(task: string): TaskState {
    const state = this.taskState(task);
    if (this.copied.has(task)) return state;
    const copy = { ...state, instances: [...state.instances] };
    this.tasks[task] = copy;
    this.copied.add(task);
    return copy;
  }

  private publishInstance(task: string, instance: TaskInstance): void {
    const { map_index, status, attempt } = instance;
    const key = taskKey(task, map_index);
    this.publish({ type: "task", run: this.fields.id, key, task, map_index, status, attempt, at: this.now });
  }

  private publish(event: Extract<Effect, { type: "publish" }>["event"]): void {
    this.effects.push({ type: "publish", event });
  }

  private syncTimer(before: Timer | null, after: Timer | null): void {
    if (before && after && sameTimer(before, after)) return;
    if (before && before.id !== after?.id) this.effects.push({ type: "clear_timer", id: before.id });
    if (after) this.effects.push({ type: "set_timer", ...after });
  }
}

function instanceTimer(task: string, instance: TaskInstance | undefined): Timer | null {
  if (!instance) return null;
  const key = taskKey(task, instance.map_index);
  const ref = (reason: "timeout" | "poke" | "retry", at: number): Timer => ({
    id: instanceTimerId(key),
    at,
    timer: { reason, key, dispatch: instance.dispatch },
  });
  switch (instance.status) {
    case "scheduled":
    case "running":
      return instance.deadline_at === null ? null : ref("timeout", instance.deadline_at);
    case "waiting":
      return ref("poke", instance.due_at);
    case "up_for_retry":
      return ref("retry", instance.due_at);
    case "pending":
    case "success":
    case "failed":
    case "skipped":
    case "upstream_failed":
    case "cancelled":
      return null;
    default: {
      const never: never = instance;
      throw new Error(`unknown instance ${JSON.stringify(never)}`);
    }
  }
}

function runTimer(run: RunFields): Timer | null {
  if (run.status !== "running" || run.deadline_at === null) return null;
  const at = run.deadline_at;
  return { id: RUN_TIMER_ID, at, timer: { reason: "run_timeout", at } };
}

function sameTimer(a: Timer, b: Timer): boolean {
  return a.id === b.id && a.at === b.at && JSON.stringify(a.timer) === JSON.stringify(b.timer);
}
