/**
 * The sync safety net (worker/cron/resync.ts): a pipeline whose object did not acknowledge its latest
 * revision is re-synced by the Cron Trigger, a bounded page per tick: a rotation whose sync failed, and
 * a tenant secret with more users than one request syncs.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { RESYNC_PAGE } from "../../worker/cron/resync";
import { RECONCILE_RETRY_MS } from "../../worker/cron/schedules";
import { db } from "../../worker/db/client";
import { behindPipelines } from "../../worker/db/pipelines";
import { PipelineDO } from "../../worker/pipeline/object";
import { type Client, ownerWithTenant } from "./helpers";
import { anonymous, hooked } from "./hooks-helpers";
import { savePipeline } from "./runs-helpers";
import { at, cronTick } from "./schedule-helpers";

beforeEach(async () => {
  // The file's tests share one D1: pipelines one test left behind would take the next one's turns.
  await env.DB.prepare(
    "UPDATE pipelines SET synced_revision = revision, behind_since = NULL, resync_at = 0",
  ).run();
});
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

/** `count` pipelines whose webhooks verify with the tenant secret TOKEN. */
async function saveSecretUsers(owner: Client, slug: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await savePipeline(owner, slug, `uses-${String(i).padStart(2, "0")}`, {
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
    await saveSecretUsers(owner, slug, count);
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
    // It saves 61 pipelines through the API.
  }, 30_000);

  it("finds the pipelines that are behind through an index, not by reading every pipeline", async () => {
    const query = behindPipelines(db(env.DB), Date.now(), RESYNC_PAGE).compile();
    const plan = await env.DB.prepare(`EXPLAIN QUERY PLAN ${query.sql}`)
      .bind(...query.parameters)
      .all<{ detail: string }>();
    const details = plan.results.map((row) => row.detail).join("\n");
    // Only the pipelines that are behind are read, by tenant and age: the turns need no other lookup.
    expect(details).toContain("SCAN pipelines USING INDEX pipelines_resync_due");
    expect(details).not.toMatch(/SCAN pipelines$/m);
    expect(details).not.toContain("LAST TERM OF ORDER BY");
  });
});

/** Moves the fake clock on by `ms`. */
function later(ms: number): void {
  at(Date.now() + ms);
}

/** A webhook pipeline of its own tenant whose object fell behind now: a rotation whose sync failed. */
async function fallsBehind(pipeline?: Awaited<ReturnType<typeof hooked>>) {
  const hook = pipeline ?? (await hooked("standard"));
  const failing = failSyncs();
  const rotated = await hook.owner.json("POST", `${hook.base}/triggers/in/rotate-secret`, { body: {} });
  expect(rotated.status).toBe(200);
  failing.mockRestore();
  return hook;
}

/** A tenant with `count` pipelines that fell behind now, together: a change of the secret they use. */
async function crowd(count: number): Promise<string> {
  const { owner, slug } = await ownerWithTenant();
  await saveSecretUsers(owner, slug, count);
  const failing = failSyncs();
  expect(
    (await owner.json("PUT", `/api/tenants/${slug}/secrets/TOKEN`, { body: { value: "v1" } })).status,
  ).toBe(204);
  failing.mockRestore();
  expect(await behind(slug)).toHaveLength(count);
  return slug;
}

/** The tenants whose objects the cron's syncs reached, in order (an observer on the object's RPC). */
function syncedTenants() {
  const syncs = vi.spyOn(PipelineDO.prototype, "syncSchedule");
  return () => syncs.mock.calls.map(([sync]) => sync.tenant_slug);
}

describe("object re-sync queue", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["Date"] });
    at("2031-03-03T09:00:00Z");
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("syncs another tenant's pipeline in the first pass while one tenant has a crowd behind", async () => {
    const many = await crowd(RESYNC_PAGE + 3);
    later(1_000);
    const other = await fallsBehind();
    await cronTick();
    expect(await behind(other.slug)).toEqual([]);
    // The crowd has the rest of the page: a tenant alone in the queue is not held to a share.
    expect(await behind(many)).toHaveLength(RESYNC_PAGE + 3 - (RESYNC_PAGE - 1));
  });

  it("re-syncs in the order the objects fell behind, and a later change keeps a pipeline's place", async () => {
    const first = await hooked("standard");
    const second = await hooked("standard");
    const third = await hooked("standard");
    // They fall behind in another order than they were created; the third changes once more meanwhile.
    for (const pipeline of [third, first, second, third]) {
      later(1_000);
      await fallsBehind(pipeline);
    }
    const synced = syncedTenants();
    await cronTick();
    const ours = [first.slug, second.slug, third.slug];
    expect(synced().filter((slug) => ours.includes(slug))).toEqual([third.slug, first.slug, second.slug]);
  });

  it("queues a pipeline that caught up and fell behind again after the ones behind since", async () => {
    const first = await fallsBehind();
    await cronTick();
    expect(await behind(first.slug)).toEqual([]);
    later(1_000);
    const second = await fallsBehind();
    later(1_000);
    await fallsBehind(first);
    const synced = syncedTenants();
    await cronTick();
    expect(synced().filter((slug) => slug === first.slug || slug === second.slug)).toEqual([
      second.slug,
      first.slug,
    ]);
  });

  it("tries a pipeline whose re-sync failed again after its backoff, ahead of a crowd that fell behind since", async () => {
    const lone = await fallsBehind();
    const original = PipelineDO.prototype.syncSchedule;
    vi.spyOn(console, "error").mockImplementation(() => {});
    const flaky = vi.spyOn(PipelineDO.prototype, "syncSchedule").mockImplementation(function (
      this: PipelineDO,
      sync,
    ) {
      if (sync.tenant_slug === lone.slug) return Promise.reject(new Error("object unavailable"));
      return original.call(this, sync);
    });
    const tries = () => flaky.mock.calls.filter(([sync]) => sync.tenant_slug === lone.slug).length;
    await cronTick();
    expect(tries()).toBe(1);
    // Within its backoff it is not tried again.
    later(60_000);
    await cronTick();
    expect(tries()).toBe(1);
    flaky.mockRestore();

    later(RECONCILE_RETRY_MS);
    const many = await crowd(RESYNC_PAGE + 3);
    await cronTick();
    expect(await behind(lone.slug)).toEqual([]);
    expect(await behind(many)).toHaveLength(RESYNC_PAGE + 3 - (RESYNC_PAGE - 1));
  });
});
