/**
 * Compiled plans and parsed specs per pipeline version, kept in memory; specs live in the versions
 * table. A task's default timeout is its operator's, from the plugin bindings the object holds
 * (plugins.ts): a sync that changes them drops the compiled plans.
 */
import { compilePlan, type PipelineSpec, parseUses, type RunPlan, storedSpec, type Task } from "../engine";
import type { Store } from "./store";

type Compiled = { spec: PipelineSpec; plan: RunPlan; tasks: Map<string, Task> };

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

  /** The plugin bindings changed: plans compile again with their operators' timeouts. */
  forget(): void {
    this.cache.clear();
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
