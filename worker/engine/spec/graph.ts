/**
 * The task DAG: duplicate ids, unknown or self `needs`, cycles, and who is upstream of whom.
 * Works on a lenient view of the raw spec so these errors appear alongside schema errors, not after a fix.
 */
import { type Issue, isRecord } from "./issue";

export type TaskView = {
  index: number;
  /** Any string, even one the schema rejects, so references to it do not cascade into more errors. */
  id: string | undefined;
  needs: Array<{ index: number; id: string }>;
  raw: Record<string, unknown>;
};

export type TaskGraph = {
  /** Index of the first task with this id. */
  indexOf(id: string): number | undefined;
  /** True when `id` names a task that `taskIndex` (transitively) needs. */
  isUpstream(taskIndex: number, id: string): boolean;
};

export function taskViews(tasks: unknown): TaskView[] {
  if (!Array.isArray(tasks)) return [];
  return tasks.flatMap((raw, index) => {
    if (!isRecord(raw)) return [];
    const needs = Array.isArray(raw.needs)
      ? raw.needs.flatMap((id, i) => (typeof id === "string" ? [{ index: i, id }] : []))
      : [];
    return [{ index, id: typeof raw.id === "string" ? raw.id : undefined, needs, raw }];
  });
}

export function checkGraph(tasks: readonly TaskView[]): { issues: Issue[]; graph: TaskGraph } {
  const issues: Issue[] = [];
  const byId = new Map<string, number>();
  for (const task of tasks) {
    if (task.id === undefined) continue;
    const first = byId.get(task.id);
    if (first === undefined) byId.set(task.id, task.index);
    else
      issues.push({
        path: ["tasks", task.index, "id"],
        message: `duplicate task id "${task.id}" (also tasks[${first}])`,
      });
  }
  // Edges point from a task to the tasks it needs.
  const edges = new Map<number, number[]>();
  for (const task of tasks) {
    const seen = new Set<string>();
    const targets: number[] = [];
    for (const need of task.needs) {
      const path = ["tasks", task.index, "needs", need.index];
      const target = byId.get(need.id);
      if (seen.has(need.id)) issues.push({ path, message: `"${need.id}" is listed twice in needs` });
      else if (need.id === task.id) issues.push({ path, message: `task "${need.id}" cannot need itself` });
      else if (target === undefined) issues.push({ path, message: `unknown task "${need.id}" in needs` });
      else targets.push(target);
      seen.add(need.id);
    }
    edges.set(task.index, targets);
  }
  issues.push(...cycleIssues(tasks, edges));
  return { issues, graph: graphOf(byId, edges) };
}

function graphOf(byId: Map<string, number>, edges: Map<number, number[]>): TaskGraph {
  const upstream = new Map<number, Set<number>>();
  const closure = (start: number): Set<number> => {
    const cached = upstream.get(start);
    if (cached) return cached;
    const seen = new Set<number>();
    const queue = [...(edges.get(start) ?? [])];
    for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
      if (seen.has(next)) continue;
      seen.add(next);
      queue.push(...(edges.get(next) ?? []));
    }
    upstream.set(start, seen);
    return seen;
  };
  return {
    indexOf: (id) => byId.get(id),
    isUpstream(taskIndex, id) {
      const target = byId.get(id);
      return target !== undefined && target !== taskIndex && closure(taskIndex).has(target);
    },
  };
}

/** One error per strongly connected component: its shortest cycle through its first task. */
function cycleIssues(tasks: readonly TaskView[], edges: Map<number, number[]>): Issue[] {
  const issues: Issue[] = [];
  const ids = new Map(tasks.map((t) => [t.index, t.id ?? `#${t.index}`]));
  for (const component of stronglyConnected([...edges.keys()], edges)) {
    if (component.length < 2) continue;
    const start = Math.min(...component);
    const members = new Set(component);
    const cycle = shortestCycle(start, members, edges);
    const [, firstHop] = cycle;
    const task = tasks.find((t) => t.index === start);
    if (firstHop === undefined || !task) continue;
    const needIndex = task.needs.find((n) => n.id === ids.get(firstHop))?.index ?? 0;
    // cycle follows needs (a needs b); show it the way work flows, upstream first.
    const flow = [...cycle].reverse().map((i) => ids.get(i));
    issues.push({ path: ["tasks", start, "needs", needIndex], message: `cycle: ${flow.join(" → ")}` });
  }
  return issues;
}

/** start → … → start along needs edges, within one component (breadth-first, so shortest). */
function shortestCycle(start: number, members: Set<number>, edges: Map<number, number[]>): number[] {
  const previous = new Map<number, number>();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head] ?? start;
    for (const next of edges.get(node) ?? []) {
      if (next === start) {
        const path = [start];
        for (let n: number | undefined = node; n !== undefined && n !== start; n = previous.get(n))
          path.splice(1, 0, n);
        return [...path, start];
      }
      if (!members.has(next) || previous.has(next)) continue;
      previous.set(next, node);
      queue.push(next);
    }
  }
  return [start];
}

/** Tarjan's algorithm; recursion depth is bounded by the task count (≤ 500 when this runs). */
function stronglyConnected(nodes: number[], edges: Map<number, number[]>): number[][] {
  const index = new Map<number, number>();
  const low = new Map<number, number>();
  const onStack = new Set<number>();
  const stack: number[] = [];
  const components: number[][] = [];
  const visit = (v: number): void => {
    index.set(v, index.size);
    low.set(v, index.size - 1);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: number[] = [];
    for (let w = stack.pop(); w !== undefined; w = stack.pop()) {
      onStack.delete(w);
      component.push(w);
      if (w === v) break;
    }
    components.push(component);
  };
  for (const v of nodes) if (!index.has(v)) visit(v);
  return components;
}
