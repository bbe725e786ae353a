/** Compiled plans and parsed specs per pipeline version, kept in memory; specs live in the versions table. */
import { compilePlan, type PipelineSpec, parseUses, type RunPlan, type Task } from "../engine";
import type { Store } from "./store";

/**
 * Core operators' defaults from the core plugin's manifest (all declare `timeout: "10s"`; transform
 * declares `context: true`). Installed plugins' manifests replace this with the marketplace.
 */
const CORE_TIMEOUT_MS = 10_000;
export const CONTEXT_OPERATORS: ReadonlySet<string> = new Set(["core/transform"]);

type Compiled = { spec: PipelineSpec; plan: RunPlan; tasks: Map<string, Task> };

function compile(spec: PipelineSpec): Compiled {
  const operatorTimeoutsMs: Record<string, number> = {};
  for (const task of spec.tasks) {
    if (parseUses(task.uses)?.plugin === "core") operatorTimeoutsMs[task.id] = CORE_TIMEOUT_MS;
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
      found = compile(JSON.parse(json) as PipelineSpec);
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
