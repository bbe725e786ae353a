// Durability: runs whose plugin calls are in flight survive a crash of the whole runtime. The product is
// SIGKILLed (its process group: dev-server, wrangler, workerd) while a slow target holds the calls, then
// started again on the same state directory. The PipelineDO's watchdog alarm wakes it and re-sends every
// call that was dispatched but unanswered as the same invocation, so every run completes, no task
// instance is lost, and a repeated call carries the idempotency key of the first (core/http sends it as
// `Idempotency-Key`, which the target records).
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { startServer } from "../support/server.mjs";
import { startSlowTarget } from "../support/slow-target.mjs";

const TENANT = "durable-lab";
const ITEMS = [1, 2, 3];
/** worker/pipeline/object.ts WATCHDOG_MS: the longest a dead object's in-flight work waits for recovery. */
const WATCHDOG_MS = 10_000;
/**
 * Two pipelines crash together. `survivor` gives its tasks a timeout well above the watchdog's delay,
 * so recovery, not a timeout, decides how its runs end. `tight` gives them exactly WATCHDOG_MS: its
 * lost calls come due for recovery and for their timeout in the same alarm, and recovery wins (a
 * redelivery's deadline starts over).
 * @type {Record<string, { timeout: string | undefined, runs: number }>}
 */
const PIPELINES = { survivor: { timeout: "30s", runs: 3 }, tight: { timeout: "10s", runs: 1 } };

/**
 * a → b (slow) ─┐
 * each ×3 (slow)┴→ join. No retries: a run can only succeed if its lost calls are redelivered, not
 * because a timeout started a new attempt. The target URL names the task instance (run, task, item).
 * @param {string} target @param {string | undefined} timeout
 */
const spec = (target, timeout) => ({
  name: `Survives a crash (timeout ${timeout ?? "default"})`,
  defaults: { retries: 0, ...(timeout ? { timeout } : {}) },
  tasks: [
    { id: "a", uses: "core/http@^1", with: { url: `${target}/fast/{{ run.id }}/a` } },
    { id: "b", uses: "core/http@^1", needs: ["a"], with: { url: `${target}/slow/{{ run.id }}/b` } },
    {
      id: "each",
      uses: "core/http@^1",
      for_each: ITEMS,
      with: { url: `${target}/slow/{{ run.id }}/each/{{ item }}` },
    },
    {
      id: "join",
      uses: "core/http@^1",
      needs: ["b", "each"],
      with: { url: `${target}/fast/{{ run.id }}/join` },
    },
  ],
});

/** The task instances a run must end with, named as the target URLs name them. */
const instancesOf = (/** @type {string} */ run) => [
  `${run}/a`,
  `${run}/b`,
  ...ITEMS.map((item) => `${run}/each/${item}`),
  `${run}/join`,
];
const isSlow = (/** @type {string} */ instance) => /\/(b|each\/\d+)$/.test(instance);

/** "/slow/run_1/each/2" → "run_1/each/2" */
const instanceOf = (/** @type {string} */ path) => path.split("/").slice(2).join("/");

const target = await startSlowTarget({ holdMs: 5_000 });
const state = await mkdtemp(join(tmpdir(), "updraft-e2e-durable-"));
/** @type {Awaited<ReturnType<typeof startServer>> | undefined} */
let server;

after(async () => {
  await server?.stop();
  await target.close();
  await rm(state, { recursive: true, force: true });
});

/**
 * @param {string} method @param {string} path @param {string} token @param {unknown} [body]
 * @returns {Promise<any>}
 */
async function api(method, path, token, body) {
  if (!server) throw new Error("the product is not running");
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status >= 400) throw new Error(`${method} ${path} → ${response.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

/** A user, their tenant and an editor token (kept in D1, so it still works after the restart). */
async function editorToken(/** @type {string} */ base) {
  const signUp = await fetch(`${base}/api/auth/sign-up/email`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      name: "Dora Durable",
      email: `dora-${Date.now()}@example.com`,
      password: "x".repeat(16),
    }),
  });
  assert.equal(signUp.status, 201, await signUp.clone().text());
  const cookie = signUp.headers.get("set-cookie")?.split(";")[0] ?? "";
  const asUser = async (/** @type {string} */ path, /** @type {unknown} */ body) => {
    const response = await fetch(`${base}${path}`, {
      method: "POST",
      headers: { cookie, origin: base, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    assert.ok(response.status < 300, `${path} → ${response.status}: ${await response.clone().text()}`);
    return response.json();
  };
  await asUser("/api/tenants", { slug: TENANT, name: "Durable Lab" });
  const { token } = await asUser(`/api/tenants/${TENANT}/tokens`, { name: "durability", role: "editor" });
  return /** @type {string} */ (token);
}

/** Polls until `check` returns a value other than undefined. @template T */
async function until(
  /** @type {string} */ what,
  /** @type {() => Promise<T | undefined> | T | undefined} */ check,
  timeoutMs = 30_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(200);
  }
}

/**
 * What the crash left behind, filled in by `before`.
 * @type {{ killedAt: number, restartedAt: number, lost: Set<string>, runs: Map<string, any[]> }}
 */
const crash = { killedAt: 0, restartedAt: 0, lost: new Set(), runs: new Map() };

before(
  async () => {
    server = await startServer({ state, timeoutMs: 90_000 });
    const token = await editorToken(server.url);
    const runsPath = (/** @type {string} */ pipeline) => `/api/tenants/${TENANT}/pipelines/${pipeline}/runs`;
    /** @type {Map<string, string[]>} */
    const started = new Map();
    for (const [pipeline, { timeout, runs }] of Object.entries(PIPELINES)) {
      await api("PUT", `/api/tenants/${TENANT}/pipelines/${pipeline}`, token, spec(target.url, timeout));
      const ids = [];
      for (let i = 0; i < runs; i++) ids.push((await api("POST", runsPath(pipeline), token, {})).id);
      started.set(pipeline, ids);
    }

    // Every slow call is being held by the target: the crash lands mid-flight.
    const slow = [...started.values()].flat().flatMap(instancesOf).filter(isSlow);
    await until("every slow call to be in flight", () => {
      const held = new Set(target.inFlight().map(instanceOf));
      return slow.every((instance) => held.has(instance)) ? true : undefined;
    });
    crash.killedAt = Date.now();
    crash.lost = new Set(target.inFlight().map(instanceOf));
    const oldUrl = server.url;
    await server.kill();
    await assert.rejects(fetch(`${oldUrl}/api/health`), "nothing answers on the old port after the kill");

    server = await startServer({ state, timeoutMs: 90_000 });
    crash.restartedAt = Date.now();
    for (const [pipeline, ids] of started) {
      const details = await until(
        `the runs of ${pipeline} to finish`,
        async () => {
          const all = await Promise.all(ids.map((id) => api("GET", `${runsPath(pipeline)}/${id}`, token)));
          return all.every((run) => run.status !== "queued" && run.status !== "running") ? all : undefined;
        },
        60_000,
      ).catch((error) => {
        console.error(server?.log.slice(-60).join(""));
        throw error;
      });
      crash.runs.set(pipeline, details);
    }
  },
  { timeout: 240_000 },
);

/** The target's requests, grouped by the task instance they were made for. */
function requestsByInstance() {
  /** @type {Map<string, import("../support/slow-target.mjs").TargetRequest[]>} */
  const byInstance = new Map();
  for (const request of target.requests) {
    const instance = instanceOf(request.path);
    byInstance.set(instance, [...(byInstance.get(instance) ?? []), request]);
  }
  return byInstance;
}

/**
 * The acceptance: every run succeeded, no task instance is lost, every lost call was sent again soon
 * after the restart, and all calls of one task instance carry its one idempotency key.
 * @param {string} pipeline @param {import("node:test").TestContext} t
 */
function assertSurvived(pipeline, t) {
  const details = crash.runs.get(pipeline) ?? [];
  assert.equal(details.length, PIPELINES[pipeline]?.runs);
  for (const run of details) {
    assert.equal(run.status, "success", `run ${run.id} ended ${run.status}: ${JSON.stringify(run.tasks)}`);
    const instances = run.tasks.map(
      (/** @type {{ id: string, map_index: number, status: string }} */ i) =>
        `${i.id}[${i.map_index}]=${i.status}`,
    );
    assert.deepEqual(instances.sort(), [
      "a[-1]=success",
      "b[-1]=success",
      ...ITEMS.map((_, index) => `each[${index}]=success`),
      "join[-1]=success",
    ]);
  }

  // The target's view, per task instance: at least one call, and every call with the same single key.
  const byInstance = requestsByInstance();
  /** @type {Map<string, string>} */
  const ownerOfKey = new Map();
  for (const [instance, requests] of byInstance) {
    for (const { key } of requests) if (key) ownerOfKey.set(key, ownerOfKey.get(key) ?? instance);
  }
  const expected = details.flatMap((run) => instancesOf(run.id));
  for (const instance of expected) {
    const requests = byInstance.get(instance) ?? [];
    assert.ok(requests.length > 0, `${instance} succeeded but the target never saw its call`);
    const keys = new Set(requests.map((r) => r.key));
    assert.equal(keys.size, 1, `${instance} was called with different keys: ${[...keys].join(", ")}`);
    const [key] = keys;
    assert.ok(key, `${instance} was called without an Idempotency-Key`);
    // A key belongs to one task instance: a repeated key is a repeat of the same call.
    assert.equal(ownerOfKey.get(key), instance, `${instance} shares its key with another task instance`);
  }

  // Every call the crash cut off was sent again after the restart, within the watchdog's delay.
  const lost = expected.filter((instance) => crash.lost.has(instance));
  assert.equal(lost.length, expected.filter(isSlow).length, "the crash did not cut every slow call off");
  /** @type {number[]} */
  const delays = [];
  for (const instance of lost) {
    const resent = byInstance.get(instance)?.filter((r) => r.at >= crash.killedAt) ?? [];
    assert.equal(
      resent.length,
      1,
      `${instance} was in flight at the crash and sent again ${resent.length} times`,
    );
    const [again] = resent;
    assert.ok(again, `${instance} was in flight at the crash and never sent again`);
    delays.push(again.at - crash.restartedAt);
  }
  assert.ok(
    Math.max(...delays) <= WATCHDOG_MS + 5_000,
    `lost calls were sent again up to ${Math.max(...delays)} ms after the restart`,
  );
  t.diagnostic(
    `healthy ${crash.restartedAt - crash.killedAt} ms after the kill; ${lost.length} lost calls sent again ` +
      `${Math.min(...delays)}–${Math.max(...delays)} ms after that`,
  );
}

test("runs with plugin calls in flight survive a SIGKILL of the runtime", (t) => {
  assertSurvived("survivor", t);
});

test("runs whose task timeout equals the watchdog's delay survive it too", (t) => {
  assertSurvived("tight", t);
});

test("no call is sent twice while the product is alive, before the kill or after it", () => {
  const twice = [...requestsByInstance()]
    .filter(([, requests]) => {
      const before = requests.filter((r) => r.at < crash.killedAt).length;
      const after = requests.length - before;
      return before > 1 || after > 1;
    })
    .map(([instance]) => instance);
  assert.deepEqual(twice, []);
});
