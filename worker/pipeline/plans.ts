/**
 * Compiled plans and parsed specs per pipeline version, kept in memory; specs live in the versions
 * table. A task's default timeout is its operator's, from the plugin bindings the object holds
 * (plugins.ts): a sync that changes them drops the compiled plans. A run steps by the operator
 * timeouts of the plugin versions it pinned when it started (planOfRun), so an upgrade mid-run changes
 * nothing for it.
 */
import { compilePlan, type PipelineSpec, parseUses, type RunPlan, storedSpec, type Task } from "../engine";
import { type PluginBinding, pinsRef } from "./plugins";
import type { Store } from "./store";

type Compiled = { spec: PipelineSpec; plan: RunPlan; tasks: Map<string, Task> };

const MAX_PINNED_PLANS = 64;
const MAX_REMEMBERED_RUNS = 10_000;

/** An operator's declared timeout and context flag, under the object's current plugin bindings. */
export type OperatorInfo = (
  plugin: string,
  operator: string,
) => { timeout_ms: number | null; context: boolean } | undefined;

function compile(spec: PipelineSpec, operators: OperatorInfo): Compiled {
  const operatorTimeoutsMs: Record<string, number> = {};
  for (const task of spec.tasks) {
    const uses = parseUses(task.uses);
    const timeout = uses ? operators(uses.plugin, uses.operator)?.timeout_ms : undefined;
    if (typeof timeout === "number") operatorTimeoutsMs[task.id] = timeout;
  }
  const plan = compilePlan(spec, { operatorTimeoutsMs });
  return { spec, plan, tasks: new Map(spec.tasks.map((t) => [t.id, t])) };
}

export class Plans {
  private readonly cache = new Map<number, Compiled>();

  constructor(
    private readonly store: Store,
    private readonly operators: OperatorInfo,
  ) {}

  /** Plans compiled from a run's pins, by version and the pins' operators (few: one per upgrade). */
  private readonly pinned = new Map<string, Compiled>();
  /** Per run: the key of its plan in `pinned`, or null when it pinned nothing (an older run). */
  private readonly runKeys = new Map<string, string | null>();

  /** The plugin bindings changed: plans compile again with their operators' timeouts. */
  forget(): void {
    this.cache.clear();
  }

  /** The plan `run` steps by: its version's, with the operator timeouts of the plugins it pinned. */
  planOfRun(run: string, version: number): RunPlan {
    const key = this.runKeys.get(run);
    if (key === null) return this.plan(version);
    const known = key === undefined ? undefined : this.pinned.get(key);
    if (known) return known.plan;
    // First sight of the run in this object's lifetime, or its plan was dropped: read its pins again.
    const ref = pinsRef(run);
    const pins = this.store.blobs([ref]).get(ref) as PluginBinding[] | undefined;
    if (this.runKeys.size >= MAX_REMEMBERED_RUNS) this.runKeys.clear();
    if (!pins) {
      this.runKeys.set(run, null);
      return this.plan(version);
    }
    const pinnedKey = `${version}|${JSON.stringify(pins.map((pin) => [pin.name, pin.operators]))}`;
    this.runKeys.set(run, pinnedKey);
    let compiled = this.pinned.get(pinnedKey);
    if (!compiled) {
      const operators: OperatorInfo = (plugin, operator) =>
        pins.find((pin) => pin.name === plugin)?.operators[operator];
      compiled = compile(this.spec(version), operators);
      if (this.pinned.size >= MAX_PINNED_PLANS) this.pinned.clear();
      this.pinned.set(pinnedKey, compiled);
    }
    return compiled.plan;
  }

  private compiled(version: number): Compiled {
    let found = this.cache.get(version);
    if (!found) {
      const json = this.store.specJson(version);
      if (json === null) throw new Error(`pipeline version ${version} is not stored in this object`);
      found = compile(storedSpec(json), this.operators);
      this.cache.set(version, found);
    }
    return found;
  }

  /** Compiles a version the caller is about to store (in the same transaction as its first run). */
  remember(version: number, spec: PipelineSpec): RunPlan {
    const found = this.cache.get(version) ?? compile(spec, this.operators);
    this.cache.set(version, found);
    return found.plan;
  }

  plan(version: number): RunPlan {
    return this.compiled(version).plan;
  }

  spec(version: number): PipelineSpec {
    return this.compiled(version).spec;
  }

  task(version: number, id: string): Task {
    const task = this.compiled(version).tasks.get(id);
    if (!task) throw new Error(`version ${version} has no task "${id}"`);
    return task;
  }
}
