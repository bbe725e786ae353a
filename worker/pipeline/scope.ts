/**
 * Builds the expression scope of one task instance from the run state and the blob table, and
 * resolves `secrets.NAME` references from D1 only for tasks that use them (never stored anywhere).
 */

import { TenantVault, tenantSecretContext } from "../crypto/envelope";
import { db } from "../db/client";
import type { Task } from "../engine";
import {
  analyzeExpression,
  parseTemplate,
  type RunPlan,
  type RunState,
  templateExpressions,
} from "../engine";
import type { Scope } from "../engine/render";
import type { Store } from "./store";
import { iso } from "./types";

/** Task ids upstream of `task`, transitively: the only tasks its expressions may read (save-time rule). */
export function ancestors(plan: RunPlan, task: string): string[] {
  const seen = new Set<string>();
  const queue = [...(plan.tasks.get(task)?.needs ?? [])];
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    if (seen.has(next)) continue;
    seen.add(next);
    queue.push(...(plan.tasks.get(next)?.needs ?? []));
  }
  return [...seen];
}

export function buildScope(
  store: Store,
  plan: RunPlan,
  state: RunState,
  task: Task,
  mapIndex: number,
): Scope {
  const upstream = ancestors(plan, task.id);
  const refs: string[] = [];
  if (state.trigger_ref) refs.push(state.trigger_ref);
  const itemsRef = state.tasks[task.id]?.items_ref ?? null;
  if (itemsRef && mapIndex >= 0) refs.push(itemsRef);
  for (const id of upstream) {
    for (const i of state.tasks[id]?.instances ?? [])
      if (i.status === "success" && i.output_ref) refs.push(i.output_ref);
  }
  const values = store.blobs(refs);
  const tasks: Scope["tasks"] = {};
  for (const id of upstream) {
    const instances = state.tasks[id]?.instances ?? [];
    const outputOf = (i: (typeof instances)[number]) =>
      i.status === "success" && i.output_ref ? (values.get(i.output_ref) ?? null) : null;
    const mapped = instances.some((i) => i.map_index >= 0);
    const first = instances[0];
    tasks[id] = { output: mapped ? instances.map(outputOf) : first ? outputOf(first) : null };
  }
  const interval = store.dataInterval(state.logical_date);
  const scope: Scope = {
    params: state.params,
    trigger: state.trigger_ref ? (values.get(state.trigger_ref) ?? null) : null,
    tasks,
    run: {
      id: state.id,
      logical_date: state.logical_date,
      data_interval_start: iso(interval?.start ?? null),
      data_interval_end: iso(interval?.end ?? null),
    },
  };
  if (mapIndex >= 0) {
    const items = itemsRef ? values.get(itemsRef) : task.for_each;
    scope.item = Array.isArray(items) ? (items[mapIndex] ?? null) : null;
  }
  return scope;
}

/** The secret names a task's `with` reads (`secrets.NAME`); "dynamic" when it indexes secrets otherwise. */
export function secretNames(value: unknown, out = new Set<string>()): Set<string> {
  if (typeof value === "string") {
    for (const expr of templateExpressions(parseTemplate(value))) {
      const analysis = analyzeExpression(expr);
      if (!analysis.ok) continue;
      for (const root of analysis.roots) {
        if (root.name !== "secrets") continue;
        out.add(typeof root.member === "string" ? root.member : "*");
      }
    }
  } else if (Array.isArray(value)) for (const item of value) secretNames(item, out);
  else if (typeof value === "object" && value !== null)
    for (const item of Object.values(value)) secretNames(item, out);
  return out;
}

/** A secret the task names is not set: retrying will not help until someone sets it. */
export class MissingSecret extends Error {}

/** Decrypted values of the named tenant secrets; a missing one is an error the task fails with. */
export async function loadSecrets(
  env: Env,
  tenantId: string,
  names: ReadonlySet<string>,
): Promise<Record<string, string>> {
  const d = db(env.DB);
  const tenant = await d
    .selectFrom("tenants")
    .select("data_key")
    .where("id", "=", tenantId)
    .executeTakeFirst();
  if (!tenant) throw new MissingSecret("the tenant no longer exists");
  let query = d.selectFrom("secrets").select(["name", "ciphertext"]).where("tenant_id", "=", tenantId);
  if (!names.has("*")) query = query.where("name", "in", [...names]);
  const rows = await query.execute();
  const vault = await TenantVault.open(env.MASTER_KEY, tenantId, tenant.data_key);
  const out: Record<string, string> = {};
  for (const row of rows)
    out[row.name] = await vault.decrypt(row.ciphertext, tenantSecretContext(tenantId, row.name));
  for (const name of names)
    if (name !== "*" && !(name in out)) throw new MissingSecret(`secret ${name} is not set`);
  return out;
}
