/**
 * A fake PipelineDO for property tests: it performs effects the way the real one must (dispatches get
 * answered, evaluations get answered, timer rows fire late but never early) and delivers everything it
 * owes in an order chosen by fast-check. Invariants are checked after every step.
 */
import {
  compilePlan,
  createRun,
  type Effect,
  isTerminal,
  type PipelineSpec,
  type RunEvent,
  type RunPlan,
  type RunState,
  step,
  type TaskOutcome,
} from "../../../worker/engine/index";
import { T0 } from "./helpers";
import { dispatchViolations, stateViolations, type Violation } from "./oracle";

type Owed =
  | { kind: "result"; key: string; attempt: number; dispatch: number }
  | { kind: "evaluate"; task: string; what: "when" | "for_each"; map_index: number };

export type SimulationOptions = {
  /** Deliver `cancel` at this step (if the run is still going). */
  cancelAt?: number;
  /** Deliver each event a second time, and expect nothing to change. */
  duplicates?: boolean;
};

export class Simulation {
  readonly plan: RunPlan;
  state: RunState;
  now = T0;
  readonly dispatches: Array<Extract<Effect, { type: "dispatch" }>> = [];
  readonly finished: string[] = [];
  private owed: Owed[] = [];
  private readonly timers = new Map<string, Extract<Effect, { type: "set_timer" }>>();
  private cursor = 0;
  cancelled = false;
  dispatchedAfterCancel = 0;
  readonly violations: Violation[] = [];

  constructor(
    readonly spec: PipelineSpec,
    private readonly choices: readonly number[],
    private readonly options: SimulationOptions = {},
  ) {
    this.plan = compilePlan(spec);
    this.state = createRun(this.plan, { id: "sim", now: this.now });
    this.deliver({ type: "start" });
  }

  /** Delivers owed events until nothing is owed; returns the number of steps. */
  runToQuiescence(maxSteps = 3_000): number {
    for (let n = 0; n < maxSteps; n++) {
      if (n === this.options.cancelAt && !this.cancelled) {
        this.cancelled = true;
        this.deliver({ type: "cancel" });
      }
      const event = this.nextEvent();
      if (!event) return n;
      this.deliver(event);
    }
    throw new Error("no quiescence");
  }

  private choose(n: number): number | null {
    const value = this.choices[this.cursor++];
    return value === undefined ? null : value % n;
  }

  private nextEvent(): RunEvent | null {
    const timers = [...this.timers.values()];
    const total = this.owed.length + timers.length;
    if (total === 0) return null;
    const pick = this.choose(total) ?? 0;
    if (pick >= this.owed.length) {
      const timer = timers[pick - this.owed.length];
      if (!timer) return null;
      this.timers.delete(timer.id);
      this.now = Math.max(this.now, timer.at);
      return { type: "timer", timer: timer.timer };
    }
    const [owed] = this.owed.splice(pick, 1);
    if (!owed) return null;
    this.now += 1;
    return owed.kind === "result" ? this.result(owed) : this.evaluation(owed);
  }

  private result(owed: Extract<Owed, { kind: "result" }>): RunEvent {
    const success: TaskOutcome = { status: "success", output_ref: `out:${owed.key}` };
    // Success weighs most, so that runs get deep enough to exercise downstream rules.
    const outcomes: TaskOutcome[] = [
      success,
      success,
      success,
      {
        status: "failure",
        error: { kind: "unreachable", message: "transient" },
        retryable: true,
        retry_after_ms: 500,
      },
      { status: "failure", error: { kind: "plugin_error", message: "fatal" }, retryable: false },
      { status: "running" },
      { status: "waiting", retry_after_ms: 2_000 },
    ];
    const outcome = outcomes[this.choose(outcomes.length) ?? 0] ?? success;
    // A 202 means the final answer is still owed, through the callback.
    if (outcome.status === "running") this.owed.push(owed);
    const { key, attempt, dispatch } = owed;
    return { type: "task_result", key, attempt, dispatch, outcome };
  }

  private evaluation(owed: Extract<Owed, { kind: "evaluate" }>): RunEvent {
    const { task, map_index } = owed;
    const choice = this.choose(9);
    if (choice === 8) return { type: "evaluation_failed", task, kind: owed.what, map_index, error: "bad" };
    if (owed.what === "when") return { type: "when_evaluated", task, map_index, value: choice !== 0 };
    return { type: "for_each_expanded", task, items: choice === null ? 1 : choice % 4 };
  }

  private deliver(event: RunEvent): void {
    const result = step(this.plan, this.state, event, { now: this.now });
    if (result.kind !== "applied") return;
    this.state = result.state;
    this.perform(result.effects);
    this.checkInvariants();
    if (this.options.duplicates) {
      const again = step(this.plan, this.state, event, { now: this.now });
      if (again.kind === "applied") this.violate("duplicate", JSON.stringify(event));
    }
  }

  private perform(effects: readonly Effect[]): void {
    for (const effect of effects) {
      switch (effect.type) {
        case "dispatch":
          if (this.cancelled) this.dispatchedAfterCancel++;
          this.checkDispatch(effect);
          this.dispatches.push(effect);
          this.owed.push({
            kind: "result",
            key: effect.key,
            attempt: effect.attempt,
            dispatch: effect.dispatch,
          });
          break;
        case "evaluate":
          if (this.cancelled) this.dispatchedAfterCancel++;
          this.owed.push({
            kind: "evaluate",
            task: effect.task,
            what: effect.kind,
            map_index: effect.map_index,
          });
          break;
        case "set_timer":
          if (effect.at < this.now) this.violate("timer", `${effect.id} set in the past`);
          this.timers.set(effect.id, effect);
          break;
        case "clear_timer":
          this.timers.delete(effect.id);
          break;
        case "run_finished":
          this.finished.push(effect.status);
          break;
        case "publish":
          break;
        default: {
          const never: never = effect;
          throw new Error(`unknown effect ${JSON.stringify(never)}`);
        }
      }
    }
  }

  private checkDispatch(effect: Extract<Effect, { type: "dispatch" }>): void {
    const upstream = this.plan.tasks.get(effect.task)?.needs ?? [];
    const statuses = upstream.flatMap((need) => this.state.tasks[need]?.instances.map((i) => i.status) ?? []);
    this.violations.push(...dispatchViolations(this.plan, effect, statuses));
  }

  private checkInvariants(): void {
    this.violations.push(...stateViolations(this.plan, this.state));
  }

  private violate(kind: Violation["kind"], detail: string): void {
    this.violations.push({ kind, detail });
  }

  allTerminal(): boolean {
    return Object.values(this.state.tasks).every((t) => t.instances.every((i) => isTerminal(i.status)));
  }
}
