/** Compiled plans and parsed specs per pipeline version, kept in memory; specs live in the versions table. */
import { compilePlan, type PipelineSpec, parseUses, type RunPlan, storedSpec, type Task } from "../engine";
import type { Store } from "./store";

/**
 * The core operators' manifest entries the engine needs before the marketplace serves manifests to
 * the DO: each operator's declared timeout (the attempt's deadline unless the task sets its own) and
 * which operators declare `context: true`. A workerd test compares this with the live manifest.
 */
export const CORE_OPERATOR_TIMEOUTS_MS: Readonly<Record<string, number>> = {
  http: 60_000,
  transform: 10_000,
  noop: 10_000,
  sleep: 10_000,
  fail: 10_000,
};
export const CONTEXT_OPERATORS: ReadonlySet<string> = new Set(["core/transform"]);

type Compiled = { spec: PipelineSpec; plan: RunPlan; tasks: Map<string, Task> };

function compile(spec: PipelineSpec): Compiled {
  const operatorTimeoutsMs: Record<string, number> = {};
  for (const task of spec.tasks) {
    const uses = parseUses(task.uses);
    const timeout = uses?.plugin === "core" ? CORE_OPERATOR_TIMEOUTS_MS[uses.operator] : undefined;
    if (timeout !== undefined) operatorTimeoutsMs[task.id] = timeout;
  }
  const plan = compilePlan(spec, { operatorTimeoutsMs });
  return { spec, plan, tasks: new Map(spec.tasks.map((t) => [t.id, t])) };
}

export class Plans {
  private readonly cache = new Map<number, Compiled>();

  constructor(private readonly store: Store) {}

  private compiled(version: number): Compiled {
    let found = this.cache.get(version);
    if (!found) {
      const json = this.store.specJson(version);
      if (json === null) throw new Error(`pipeline version ${version} is not stored in this object`);
      found = compile(storedSpec(json));
      this.cache.set(version, found);
    }
    return found;
  }

  /** Compiles a version the caller is about to store (in the same transaction as its first run). */
  remember(version: number, spec: PipelineSpec): RunPlan {
    const found = this.cache.get(version) ?? compile(spec);
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
