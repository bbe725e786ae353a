/**
 * The sync safety net (worker/cron/resync.ts): a pipeline whose object did not acknowledge its latest
 * revision is re-synced by the Cron Trigger, a bounded page per tick: a rotation whose sync failed, and
 * a tenant secret with more users than one request syncs.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { RESYNC_PAGE } from "../../worker/cron/resync";
import { db } from "../../worker/db/client";
import { behindPipelines } from "../../worker/db/pipelines";
import { PipelineDO } from "../../worker/pipeline/object";
import { ownerWithTenant } from "./helpers";
import { anonymous, hooked } from "./hooks-helpers";
import { savePipeline } from "./runs-helpers";
import { cronTick } from "./schedule-helpers";

afterEach(() => {
  vi.restoreAllMocks();
});

/** The tenant's pipelines whose object is behind their revision (the observer is D1's own columns). */
async function behind(tenantSlug: string): Promise<string[]> {
  const rows = await env.DB.prepare(
    `SELECT p.slug FROM pipelines p JOIN tenants t ON t.id = p.tenant_id
     WHERE t.slug = ? AND p.revision > p.synced_revision ORDER BY p.slug`,
  )
    .bind(tenantSlug)
    .all<{ slug: string }>();
  return rows.results.map((row) => row.slug);
}

/** The object's sync RPC fails, as an object that is unreachable for a moment would. */
function failSyncs() {
  vi.spyOn(console, "error").mockImplementation(() => {});
  return vi.spyOn(PipelineDO.prototype, "syncSchedule").mockRejectedValue(new Error("object unavailable"));
}

describe("object re-sync", () => {
  it("repairs a rotation whose sync failed on the next cron tick", async () => {
    const { owner, base, send, slug } = await hooked("standard");
    const failing = failSyncs();
    const rotated = await owner.json<{ secret: string }>("POST", `${base}/triggers/in/rotate-secret`, {
      body: { grace: "1h" },
    });
    // The rotation is committed and answered; its object did not hear of it.
    expect(rotated.status).toBe(200);
    expect(failing).toHaveBeenCalled();
    failing.mockRestore();
    expect(await behind(slug)).toEqual(["demo"]);
    expect((await send("f1", { n: 1 }, rotated.body.secret)).status).toBe(401);

    await cronTick();
    expect(await behind(slug)).toEqual([]);
    expect((await send("f2", { n: 2 }, rotated.body.secret)).status).toBe(202);
  });

  it("tries a failing object again later, and does not let it hold up the others", async () => {
    const { owner, base, slug } = await hooked("standard");
    const failing = failSyncs();
    const rotate = () => owner.json("POST", `${base}/triggers/in/rotate-secret`, { body: {} });
    expect((await rotate()).status).toBe(200);
    await cronTick();
    // Still failing: the tick moved its next try past the retry delay, so the next tick skips it.
    const calls = failing.mock.calls.length;
    await cronTick();
    expect(failing.mock.calls.length).toBe(calls);
    expect(await behind(slug)).toEqual(["demo"]);
  });

  it("syncs every pipeline that uses a tenant secret, beyond the ones one request syncs, over cron ticks", async () => {
    const { owner, slug } = await ownerWithTenant();
    const count = 50 + RESYNC_PAGE + 3;
    const slugs = Array.from({ length: count }, (_, i) => `uses-${String(i).padStart(2, "0")}`);
    for (const pipeline of slugs) {
      await savePipeline(owner, slug, pipeline, {
        name: "Uses the token",
        // Verified deliveries are filtered out (200): what is checked is the secret, not run quotas.
        triggers: [
          {
            webhook: {
              id: "in",
              verify: { scheme: "bearer", secret: "{{ secrets.TOKEN }}" },
              filter: "body.n > 5",
            },
          },
        ],
        tasks: [{ id: "a", uses: "core/noop@^1", with: { value: 1 } }],
      });
    }
    const put = await owner.json("PUT", `/api/tenants/${slug}/secrets/TOKEN`, { body: { value: "v1" } });
    expect(put.status).toBe(204);
    const left = [(await behind(slug)).length];
    for (let tick = 0; tick < 3 && left.at(-1) !== 0; tick++) {
      await cronTick();
      left.push((await behind(slug)).length);
    }
    // The request synced 50; each tick takes a bounded page of the rest.
    expect(left[0]).toBe(RESYNC_PAGE + 3);
    expect(left[1]).toBe(3);
    expect(left.at(-1)).toBe(0);

    const urls = await env.DB.prepare(
      `SELECT tr.hook_id FROM triggers tr JOIN tenants t ON t.id = tr.tenant_id WHERE t.slug = ?`,
    )
      .bind(slug)
      .all<{ hook_id: string }>();
    expect(urls.results).toHaveLength(count);
    const statuses = await Promise.all(
      urls.results.map(async ({ hook_id }) => {
        const res = await anonymous.json("POST", `/hooks/${hook_id}`, {
          raw: JSON.stringify({ n: 1 }),
          headers: { authorization: "Bearer v1" },
        });
        return res.status;
      }),
    );
    expect(new Set(statuses)).toEqual(new Set([200]));
  });

  it("finds the pipelines that are behind through an index, not by reading every pipeline", async () => {
    const query = behindPipelines(db(env.DB), Date.now(), RESYNC_PAGE).compile();
    const plan = await env.DB.prepare(`EXPLAIN QUERY PLAN ${query.sql}`)
      .bind(...query.parameters)
      .all<{ detail: string }>();
    const details = plan.results.map((row) => row.detail).join("\n");
    expect(details).toContain("pipelines_resync_due");
  });
});
