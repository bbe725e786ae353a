/**
 * The tenant's run ledger repairs what it cannot hear: a place admitted for a run that was never
 * created, or a finish whose report was lost, stops counting once D1's summaries say so; a run D1
 * knows as active keeps counting. Deleting the tenant forgets the ledger.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { tenantStub } from "../../worker/tenant/address";
import { REPAIR_AFTER_MS } from "../../worker/tenant/object";
import { ownerWithTenant } from "./helpers";
import { withPipeline } from "./runs-helpers";

const quotas = { runs_per_day: 100, concurrent_runs: 100 };

describe("tenant run ledger", () => {
  it("stops counting runs D1 does not know or knows as finished, after the repair delay, and keeps the others", async () => {
    const { slug } = await ownerWithTenant();
    const tenantId = await tenantIdOf(slug);
    const ledger = tenantStub(env, tenantId);
    const admitted = await ledger.admit({
      pipeline: "pip_x",
      runs: ["run_never", "run_done", "run_live"],
      quotas,
      mode: "all",
    });
    expect(admitted).toEqual({ admitted: ["run_never", "run_done", "run_live"], refused: null });
    await env.DB.batch(
      [
        ["run_done", "success"],
        ["run_live", "running"],
      ].map(([id, status], i) =>
        env.DB.prepare(
          `INSERT INTO runs (id, tenant_id, pipeline_id, pipeline_slug, status, trigger, version, created_at, seq)
           VALUES (?, ?, 'pip_x', 'x', ?, 'manual', 1, ?, ?)`,
        ).bind(id, tenantId, status, new Date().toISOString(), i + 1),
      ),
    );
    // Too young to repair: the alarm leaves every row alone.
    expect(await runDurableObjectAlarm(ledger)).toBe(true);
    expect(await ledger.usage()).toMatchObject({ active: 3, recent: 3 });
    await runInDurableObject(ledger, async (_instance, state) => {
      state.storage.sql.exec("UPDATE runs SET created_at = created_at - ?", REPAIR_AFTER_MS + 1);
      await state.storage.setAlarm(Date.now());
    });
    expect(await runDurableObjectAlarm(ledger)).toBe(true);
    // Still in the day's count; only the live one is active.
    expect(await ledger.usage()).toMatchObject({ active: 1, recent: 3 });
    // It keeps coming back while runs are active.
    expect(await runInDurableObject(ledger, (_instance, state) => state.storage.getAlarm())).not.toBeNull();
  });

  it("is emptied when its tenant is deleted", async () => {
    const { owner, slug, base } = await withPipeline({
      name: "One",
      tasks: [{ id: "a", uses: "core/noop@^1", with: { value: 1 } }],
    });
    expect((await owner.json("POST", `${base}/runs`, { body: {} })).status).toBe(201);
    const ledger = tenantStub(env, await tenantIdOf(slug));
    expect((await ledger.usage()).recent).toBe(1);
    expect((await owner.json("DELETE", `/api/tenants/${slug}`)).status).toBe(204);
    expect(await ledger.usage()).toEqual({ recent: 0, active: 0, oldest: null });
    expect(await runInDurableObject(ledger, (_instance, state) => state.storage.getAlarm())).toBeNull();
    // A pipeline's write-behind that lands after the deletion writes nothing back.
    await ledger.sync([{ id: "run_late", pipeline: "pip_x", created_at: Date.now(), active: true }]);
    expect(await ledger.usage()).toEqual({ recent: 0, active: 0, oldest: null });
  });
});

async function tenantIdOf(slug: string): Promise<string> {
  const row = await env.DB.prepare("SELECT id FROM tenants WHERE slug = ?")
    .bind(slug)
    .first<{ id: string }>();
  if (!row) throw new Error(`no tenant ${slug}`);
  return row.id;
}
