/** Pipelines and runs through the API, plus the pipeline's DO stub to drive its alarm and wait for it. */

import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { TaskError } from "../../worker/engine";
import { dataTables } from "../../worker/pipeline/migrations";
import type { PipelineDO } from "../../worker/pipeline/object";
import { tenantStub } from "../../worker/tenant/address";
import { type Client, ownerWithTenant } from "./helpers";

export type TaskRow = {
  id: string;
  map_index: number;
  status: string;
  attempts: number;
  output: unknown;
  error: TaskError | null;
};
export type Detail = {
  id: string;
  status: string;
  params: Record<string, unknown>;
  logical_date: string | null;
  tasks: TaskRow[];
};

export async function savePipeline(owner: Client, slug: string, pipeline: string, spec: object) {
  const res = await owner.json("PUT", `/api/tenants/${slug}/pipelines/${pipeline}`, { body: spec });
  if (res.status !== 201 && res.status !== 200) throw new Error(`save failed: ${JSON.stringify(res.body)}`);
}

/** What a deleted pipeline's object still holds: rows per non-empty table, and its alarm. */
export function leftovers(stub: DurableObjectStub<PipelineDO>) {
  return runInDurableObject(stub, async (_instance, state) => {
    const sql = state.storage.sql;
    const tables = dataTables(sql);
    const rows: Record<string, number> = {};
    for (const table of tables) {
      const n = sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM "${table}"`).one().n;
      if (n > 0) rows[table] = n;
    }
    return { tables: tables.length, rows, alarm: await state.storage.getAlarm() };
  });
}

/** The pipeline's PipelineDO, addressed the way the API addresses it. */
export async function pipelineStub(slug: string, pipeline: string) {
  const row = await env.DB.prepare(
    "SELECT t.id AS tenant, p.id AS pipeline FROM pipelines p JOIN tenants t ON t.id = p.tenant_id WHERE t.slug = ? AND p.slug = ?",
  )
    .bind(slug, pipeline)
    .first<{ tenant: string; pipeline: string }>();
  if (!row) throw new Error("no such pipeline");
  return env.PIPELINE.get(env.PIPELINE.idFromName(`${row.tenant}:${row.pipeline}`));
}

/** A tenant with one saved pipeline, and a way to start runs and read them once the DO is idle. */
export async function withPipeline(spec: object, pipeline = "demo") {
  const { owner, slug } = await ownerWithTenant();
  await savePipeline(owner, slug, pipeline, spec);
  const base = `/api/tenants/${slug}/pipelines/${pipeline}`;
  const stub = await pipelineStub(slug, pipeline);
  const settled = () => stub.settled();
  const detail = async (id: string, client: Client = owner) => {
    await settled();
    const res = await client.json<Detail>("GET", `${base}/runs/${id}`);
    if (res.status !== 200) throw new Error(`detail failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const start = async (params?: Record<string, unknown>) => {
    const res = await owner.json<{ id: string; status: string }>("POST", `${base}/runs`, {
      body: params === undefined ? {} : { params },
    });
    if (res.status !== 201) throw new Error(`start failed: ${res.status} ${JSON.stringify(res.body)}`);
    return detail(res.body.id);
  };
  /** Runs the object's alarm (what is due by then), then waits for the chain it started. */
  const alarm = async () => {
    const ran = await runDurableObjectAlarm(stub);
    await settled();
    return ran;
  };
  return { owner, slug, base, stub, start, detail, alarm, settled };
}

/**
 * Puts an unmapped task's instance where a plugin's 202 would have left it: running, its dispatch waiting
 * for an answer under a callback token (no core operator answers 202). Returns the token.
 */
export function asIfAccepted(stub: DurableObjectStub<PipelineDO>, run: string, task: string) {
  return runInDurableObject(stub, (instance, state) => {
    const sql = state.storage.sql;
    const row = sql.exec<{ state: string }>("SELECT state FROM runs WHERE id = ?", run).one();
    const saved = JSON.parse(row.state);
    const accepted = saved.tasks[task].instances[0];
    saved.tasks[task].instances[0] = { ...accepted, status: "running", deadline_at: null };
    delete saved.tasks[task].instances[0].due_at;
    sql.exec("UPDATE runs SET state = ? WHERE id = ?", JSON.stringify(saved), run);
    instance.forgetCachedState();
    const token = `cb_${state.id.toString()}_${"x".repeat(32)}`;
    sql.exec(
      "INSERT INTO callbacks (token, run, key, attempt, dispatch) VALUES (?, ?, ?, ?, ?)",
      token,
      run,
      task,
      accepted.attempt,
      accepted.dispatch,
    );
    return token;
  });
}

export function task(run: Detail, id: string, mapIndex = -1): TaskRow {
  const found = run.tasks.find((t) => t.id === id && t.map_index === mapIndex);
  if (!found) throw new Error(`no task ${id}[${mapIndex}] in ${JSON.stringify(run.tasks)}`);
  return found;
}

/** Puts task b back to "dispatched, unanswered" with a callback token, as a dead object leaves it. */
export function rewindToDispatched(sql: SqlStorage, runId: string, token: string): void {
  const saved = JSON.parse(
    sql.exec<{ state: string }>("SELECT state FROM runs WHERE id = ?", runId).one().state,
  );
  const b = saved.tasks.b.instances[0];
  saved.status = "running";
  saved.ended_at = null;
  saved.tasks.b.instances[0] = {
    status: "scheduled",
    deadline_at: Date.now() + 60_000,
    map_index: -1,
    attempt: b.attempt,
    dispatch: b.dispatch,
    started_at: b.started_at,
    ended_at: null,
  };
  sql.exec("UPDATE runs SET status = 'running', state = ? WHERE id = ?", JSON.stringify(saved), runId);
  sql.exec(
    "INSERT INTO callbacks (token, run, key, attempt, dispatch) VALUES (?, ?, 'b', ?, ?)",
    token,
    runId,
    b.attempt,
    b.dispatch,
  );
}

/**
 * Runs of the tenant in its run ledger (worker/tenant), as the PipelineDOs' write-behind reports them:
 * `created_at` in ms, `active` for queued or running.
 */
export async function seedLedger(slug: string, runs: { created_at: number; active: boolean }[]) {
  const tenant = await env.DB.prepare("SELECT id FROM tenants WHERE slug = ?")
    .bind(slug)
    .first<{ id: string }>();
  if (!tenant) throw new Error(`no tenant ${slug}`);
  const marks = runs.map((run, i) => ({ id: `run_seed_${slug}_${i}`, pipeline: "pip_seeded", ...run }));
  for (let i = 0; i < marks.length; i += 1000)
    await tenantStub(env, tenant.id).sync(marks.slice(i, i + 1000));
}
