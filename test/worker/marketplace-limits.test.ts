/**
 * Rate limits on the marketplace actions that make the platform call a URL a tenant controls
 * (worker/marketplace/limits.ts): the call past a limit is a 429 with Retry-After and reaches nothing.
 * What reached the plugin is read from the plugin's side (test/worker/manifest-server.ts records every
 * signed call) and from the Worker's outbound fetches, never from the counts under test.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, inject, it, vi } from "vitest";
import { sweepExpired } from "../../worker/cron/reconcile";
import {
  PUBLICATIONS_PER_TENANT_PER_HOUR,
  TESTS_PER_INSTALLATION_PER_MINUTE,
  TESTS_PER_TENANT_PER_MINUTE,
  takeTurn,
} from "../../worker/marketplace/limits";
import { type Client, expectProblem, ownerWithTenant } from "./helpers";
import type { RecordedCall } from "./manifest-server";

const server = () => `http://127.0.0.1:${inject("manifestPort")}`;
const base = (name: string, version = "1.0.0") => `${server()}/good/${name}/${version}`;
let n = 0;
const uniqueName = () => `limited-${Date.now().toString(36)}-${++n}`;

/** The connection tests the plugin `name` received, as it recorded them. */
async function testsReceived(name: string): Promise<number> {
  const calls = (await (await fetch(`${server()}/calls/${name}`)).json()) as RecordedCall[];
  return calls.filter((call) => call.path === "connection/test").length;
}

function publish(client: Client, slug: string, url: string, visibility?: "public") {
  return client.json("POST", `/api/tenants/${slug}/publications`, {
    body: { url, ...(visibility ? { visibility } : {}) },
  });
}

async function install(client: Client, slug: string, plugin: string, name: string) {
  const res = await client.json<{ id: string }>("POST", `/api/tenants/${slug}/installations`, {
    body: { plugin, name, config: { api_key: "good-key" } },
  });
  if (res.status !== 201) throw new Error(`install: ${JSON.stringify(res.body)}`);
  return res.body.id;
}

const test = (client: Client, slug: string, id: string) =>
  client.json<{ ok: boolean }>("POST", `/api/tenants/${slug}/installations/${id}/test`);

function expectRateLimited(res: { status: number; headers: Headers; body: unknown }, atMostSeconds: number) {
  const problem = expectProblem(res, 429);
  expect(problem.type).toBe("urn:updraft:problem:rate_limited");
  const retryAfter = Number(res.headers.get("retry-after"));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(atMostSeconds);
  return problem;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("marketplace rate limits: publications", () => {
  it("refuses a tenant's publication past 30 an hour with 429 and Retry-After, fetching and publishing nothing", {
    timeout: 30_000,
  }, async () => {
    const { owner, slug } = await ownerWithTenant();
    const name = uniqueName();
    for (let i = 0; i < PUBLICATIONS_PER_TENANT_PER_HOUR - 1; i++) {
      expect((await publish(owner, slug, base(name, `1.0.${i}`))).status).toBe(201);
    }
    // The Worker's outbound fetches, watched from here: the last allowed one is seen, the refused one not.
    const fetches = vi.spyOn(globalThis, "fetch");
    const fetchesOf = (url: string) => fetches.mock.calls.filter(([input]) => String(input).startsWith(url));
    const last = base(name, `1.0.${PUBLICATIONS_PER_TENANT_PER_HOUR - 1}`);
    expect((await publish(owner, slug, last)).status).toBe(201);
    expect(fetchesOf(last)).toHaveLength(1);
    const over = base(name, `1.0.${PUBLICATIONS_PER_TENANT_PER_HOUR}`);
    const refused = expectRateLimited(await publish(owner, slug, over), 3600);
    expect(refused.detail).toContain("30 publications per tenant per hour");
    expect(fetchesOf(over)).toEqual([]);
    fetches.mockRestore();
    const versions = await env.DB.prepare("SELECT COUNT(*) AS n FROM plugin_versions WHERE plugin = ?")
      .bind(name)
      .first<{ n: number }>();
    expect(versions?.n).toBe(PUBLICATIONS_PER_TENANT_PER_HOUR);
    // A re-publication fetches the manifest too: it is refused the same way.
    expectRateLimited(await publish(owner, slug, base(name, "1.0.0")), 3600);

    const other = await ownerWithTenant();
    expect((await publish(other.owner, other.slug, base(uniqueName()))).status).toBe(201);
  });

  it("does not count a URL refused before anything is fetched", async () => {
    const { owner, slug } = await ownerWithTenant();
    for (let i = 0; i < PUBLICATIONS_PER_TENANT_PER_HOUR + 1; i++) {
      expectProblem(await publish(owner, slug, "ftp://example.com/plugin"), 422);
    }
    expect((await publish(owner, slug, base(uniqueName()))).status).toBe(201);
  });
});

describe("marketplace rate limits: connection tests", () => {
  it("refuses an installation's test past 20 a minute without calling the plugin; others are not affected", async () => {
    const publisher = await ownerWithTenant();
    const name = uniqueName();
    expect((await publish(publisher.owner, publisher.slug, base(name), "public")).status).toBe(201);
    const tested = await install(publisher.owner, publisher.slug, name, name);
    const sibling = await install(publisher.owner, publisher.slug, name, `${name}-2`);
    for (let i = 0; i < TESTS_PER_INSTALLATION_PER_MINUTE; i++) {
      expect((await test(publisher.owner, publisher.slug, tested)).body).toEqual({
        ok: true,
        detail: "authenticated as acme",
      });
    }
    const received = await testsReceived(name);
    expect(received).toBe(TESTS_PER_INSTALLATION_PER_MINUTE);
    const refused = expectRateLimited(await test(publisher.owner, publisher.slug, tested), 60);
    expect(refused.detail).toContain("20 connection tests of one installation per minute");
    expect(await testsReceived(name)).toBe(received);

    expect((await test(publisher.owner, publisher.slug, sibling)).body.ok).toBe(true);
    const user = await ownerWithTenant();
    const theirs = await install(user.owner, user.slug, name, name);
    expect((await test(user.owner, user.slug, theirs)).body.ok).toBe(true);
    expect(await testsReceived(name)).toBe(received + 2);
  });

  it("caps a tenant's tests over all its installations at 60 a minute", { timeout: 30_000 }, async () => {
    const { owner, slug } = await ownerWithTenant();
    const name = uniqueName();
    expect((await publish(owner, slug, base(name))).status).toBe(201);
    const perInstallation = TESTS_PER_INSTALLATION_PER_MINUTE;
    const installations = TESTS_PER_TENANT_PER_MINUTE / perInstallation;
    for (let i = 0; i < installations; i++) {
      const id = await install(owner, slug, name, `${name}-${i}`);
      for (let j = 0; j < perInstallation; j++) expect((await test(owner, slug, id)).status).toBe(200);
    }
    const fresh = await install(owner, slug, name, `${name}-fresh`);
    const refused = expectRateLimited(await test(owner, slug, fresh), 60);
    expect(refused.detail).toContain("60 connection tests per tenant per minute");
    expect(await testsReceived(name)).toBe(TESTS_PER_TENANT_PER_MINUTE);
  });
});

describe("marketplace rate limits: the counting", () => {
  const limit = (key: string) => [{ key, max: 3, windowMs: 10_000, what: "probes per window" }];
  const stored = (key: string) =>
    env.DB.prepare("SELECT count, window_ends_at FROM action_counts WHERE key = ?")
      .bind(key)
      .first<{ count: number; window_ends_at: number }>();

  it("lets exactly the limit through of parallel calls, in D1 so every isolate counts alike", async () => {
    const key = `probe:${crypto.randomUUID()}`;
    const turns = await Promise.all(Array.from({ length: 12 }, () => takeTurn(env.DB, limit(key), 1_000)));
    expect(turns.filter((t) => t.kind === "allowed")).toHaveLength(3);
    // A refused call is taken back: the count stays at the limit.
    expect(await stored(key)).toEqual({ count: 3, window_ends_at: 11_000 });
  });

  it("answers the seconds left in the window, and starts over when it ends", async () => {
    const key = `probe:${crypto.randomUUID()}`;
    for (let i = 0; i < 3; i++) expect((await takeTurn(env.DB, limit(key), 1_000)).kind).toBe("allowed");
    expect(await takeTurn(env.DB, limit(key), 4_500)).toEqual({
      kind: "refused",
      retryAfterSeconds: 7,
      detail: "At most 3 probes per window; try again in 7 s.",
    });
    expect((await takeTurn(env.DB, limit(key), 11_000)).kind).toBe("allowed");
    expect(await stored(key)).toEqual({ count: 1, window_ends_at: 21_000 });
  });

  it("refuses a call one of its limits refuses, and counts it against none", async () => {
    const full = `probe:${crypto.randomUUID()}`;
    const other = `probe:${crypto.randomUUID()}`;
    for (let i = 0; i < 3; i++) await takeTurn(env.DB, limit(full), 1_000);
    const both = [...limit(full), ...limit(other)];
    expect((await takeTurn(env.DB, both, 2_000)).kind).toBe("refused");
    expect(await stored(full)).toEqual({ count: 3, window_ends_at: 11_000 });
    expect(await stored(other)).toEqual({ count: 0, window_ends_at: 12_000 });
  });

  it("is swept by the cron once its window has ended", async () => {
    const key = `probe:${crypto.randomUUID()}`;
    await takeTurn(env.DB, limit(key), 1_000);
    await sweepExpired(env, new Date(10_999));
    expect(await stored(key)).not.toBeNull();
    await sweepExpired(env, new Date(11_000));
    expect(await stored(key)).toBeNull();
  });
});
