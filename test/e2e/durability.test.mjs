// Durability: runs whose plugin calls are in flight survive a crash of the whole runtime. The product is
// SIGKILLed (its process group: dev-server, wrangler, workerd) while a slow target holds the calls, then
// started again on the same state directory. The PipelineDO's watchdog alarm wakes it and re-sends every
// call that was dispatched but unanswered as the same invocation, so every run completes, no task
// instance is lost, and a repeated call carries the idempotency key of the first (core/http sends it as
// `Idempotency-Key`, which the target records).
// Webhook deliveries are in flight at the same crash: 30 signed deliveries go out at once and the kill
// lands as soon as a few have their 202. Every delivery answered 2xx must have its run, and the run
// finishes; the others may be lost, so the sender retries all of them after the restart with the same
// webhook-id: an answered one (or one recorded whose answer was cut off) is a 200 duplicate of its run,
// an unrecorded one starts its run now, and each delivery ends with exactly one run that called once.
// Which of the 30 are answered is a race; three more deliveries to a `respond: sync` trigger whose run
// waits on the slow target are certain to be recorded and unanswered when the kill lands.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Webhook } from "standardwebhooks";
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
 * The webhook pipelines: `hooked` answers 202 at once (30 deliveries; the kill lands after the 5th
 * 2xx), `hooked-sync` answers when its run ends, which the slow target holds past the kill (3).
 * @type {Record<string, { deliveries: number, sync: boolean }>}
 */
const HOOKED = { hooked: { deliveries: 30, sync: false }, "hooked-sync": { deliveries: 3, sync: true } };
const ANSWERED_BEFORE_KILL = 5;
/**
 * Places the tenant's ledger admitted for runs the crash kept from being created count as running for
 * 15 minutes; with the retries they could pass the default 50 concurrent runs. The test is about
 * durability, not quotas (QUOTA_* reach the Worker through scripts/dev-server.mjs).
 */
const QUOTAS = { QUOTA_CONCURRENT_RUNS: "500" };

/**
 * One task that calls the target once, naming the delivery (its webhook-id, carried in the body) and
 * the run: the target sees which run each delivery started, and how often. A sync trigger's call is
 * slow, so its delivery's answer is still held when the product dies.
 * @param {string} target @param {boolean} sync
 */
const hookSpec = (target, sync) => ({
  name: `Hooked while crashing (${sync ? "sync" : "async"})`,
  defaults: { retries: 0, timeout: "30s" },
  triggers: [
    {
      webhook: {
        id: "in",
        verify: { scheme: "standard" },
        ...(sync ? { respond: { mode: "sync", deadline_ms: 30_000 } } : {}),
      },
    },
  ],
  tasks: [
    {
      id: "call",
      uses: "core/http@^1",
      with: { url: `${target}/${sync ? "slow" : "fast"}/hook/{{ trigger.body.msg }}/{{ run.id }}` },
    },
  ],
});
/** The deliveries' webhook-ids (also their body's `msg`): unique across pipelines. */
const msgsOf = (/** @type {string} */ pipeline) =>
  Array.from({ length: HOOKED[pipeline]?.deliveries ?? 0 }, (_, i) => `msg_${pipeline}_${i}`);

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

/**
 * What a delivery got back: a status (0: no answer, the connection failed) and the JSON body if any.
 * @typedef {{ status: number, body: any, error?: string }} Answer
 */

/**
 * Sends one Standard Webhooks delivery, signed now (a retry is signed anew with the same webhook-id,
 * as senders do). `onStatus` hears the status as soon as the headers are in, before the body.
 * @param {string} base @param {{ path: string, secret: string }} hook @param {string} msg
 * @param {(status: number) => void} [onStatus]
 * @returns {Promise<Answer>}
 */
async function deliver(base, hook, msg, onStatus) {
  const body = JSON.stringify({ msg });
  const at = new Date();
  try {
    const response = await fetch(`${base}${hook.path}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "webhook-id": msg,
        "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
        "webhook-signature": new Webhook(hook.secret).sign(msg, at, body),
      },
      body,
      signal: AbortSignal.timeout(30_000),
    });
    onStatus?.(response.status);
    const text = await response.text().catch(() => "");
    let parsed = null;
    try {
      parsed = JSON.parse(text);
    } catch {
      // cut off by the crash
    }
    return { status: response.status, body: parsed };
  } catch (error) {
    return { status: 0, body: null, error: String(error) };
  }
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
 * What the crash left behind, filled in by `before`: for webhooks, each delivery's answer before the
 * crash and its retry's answer after the restart, and the webhook pipelines' runs once all have ended.
 * @type {{ killedAt: number, restartedAt: number, lost: Set<string>, runs: Map<string, any[]>,
 *   hooks: { pipeline: string, msg: string, first: Answer, retry: Answer }[], hookRuns: Map<string, any[]> }}
 */
const crash = {
  killedAt: 0,
  restartedAt: 0,
  lost: new Set(),
  runs: new Map(),
  hooks: [],
  hookRuns: new Map(),
};

/** The webhook's path and secret, as GET …/pipelines/{p} shows them to editors. */
async function webhookOf(/** @type {string} */ token, /** @type {string} */ pipeline) {
  const detail = await api("GET", `/api/tenants/${TENANT}/pipelines/${pipeline}`, token);
  const trigger = detail.triggers?.find(
    (/** @type {{ id: string, kind: string }} */ t) => t.kind === "webhook" && t.id === "in",
  );
  assert.ok(trigger?.secret && trigger.url, `no webhook secret in ${JSON.stringify(detail.triggers)}`);
  return { path: new URL(trigger.url).pathname, secret: /** @type {string} */ (trigger.secret) };
}

/**
 * Sends every delivery at once; `enough` resolves when `count` of them have a 2xx status (or all
 * have settled, so a product that answers nothing 2xx fails the test instead of hanging it).
 * @param {string} base @param {{ path: string, secret: string }} hook @param {string[]} msgs
 * @param {number} count
 */
function sendAll(base, hook, msgs, count) {
  let twoHundreds = 0;
  /** @type {() => void} */
  let reached = () => {};
  const enough = new Promise((resolve) => {
    reached = () => resolve(undefined);
  });
  const all = Promise.all(
    msgs.map((msg) =>
      deliver(base, hook, msg, (status) => {
        if (status >= 200 && status < 300 && ++twoHundreds === count) reached();
      }),
    ),
  );
  return { enough: Promise.race([enough, all]), all };
}

before(
  async () => {
    server = await startServer({ state, timeoutMs: 90_000, env: QUOTAS });
    const token = await editorToken(server.url);
    const runsPath = (/** @type {string} */ pipeline) => `/api/tenants/${TENANT}/pipelines/${pipeline}/runs`;
    /** @type {Map<string, { path: string, secret: string }>} */
    const hooks = new Map();
    for (const [pipeline, { sync }] of Object.entries(HOOKED)) {
      await api("PUT", `/api/tenants/${TENANT}/pipelines/${pipeline}`, token, hookSpec(target.url, sync));
      hooks.set(pipeline, await webhookOf(token, pipeline));
    }
    const hookOf = (/** @type {string} */ pipeline) => {
      const hook = hooks.get(pipeline);
      if (!hook) throw new Error(`no webhook for ${pipeline}`);
      return hook;
    };
    /** @type {Map<string, string[]>} */
    const started = new Map();
    for (const [pipeline, { timeout, runs }] of Object.entries(PIPELINES)) {
      await api("PUT", `/api/tenants/${TENANT}/pipelines/${pipeline}`, token, spec(target.url, timeout));
      const ids = [];
      for (let i = 0; i < runs; i++) ids.push((await api("POST", runsPath(pipeline), token, {})).id);
      started.set(pipeline, ids);
    }

    // The sync deliveries are held until their runs end, and their runs' calls by the target.
    const syncMsgs = msgsOf("hooked-sync");
    const syncSending = sendAll(server.url, hookOf("hooked-sync"), syncMsgs, Number.POSITIVE_INFINITY);

    // Every slow call is being held by the target: the crash lands mid-flight.
    const slow = [...started.values()].flat().flatMap(instancesOf).filter(isSlow);
    await until("every slow call to be in flight", () => {
      const held = new Set(target.inFlight().map(instanceOf));
      const syncHeld = syncMsgs.every((msg) => [...held].some((i) => i.startsWith(`hook/${msg}/`)));
      return syncHeld && slow.every((instance) => held.has(instance)) ? true : undefined;
    });
    // The async deliveries go out together; the kill lands as soon as a few have their 202, with the
    // rest anywhere between the socket and the commit (or their answer on its way back).
    const asyncMsgs = msgsOf("hooked");
    const asyncSending = sendAll(server.url, hookOf("hooked"), asyncMsgs, ANSWERED_BEFORE_KILL);
    await asyncSending.enough;
    crash.killedAt = Date.now();
    crash.lost = new Set(target.inFlight().map(instanceOf));
    const oldUrl = server.url;
    await server.kill();
    /** @type {Map<string, Answer[]>} */
    const firsts = new Map([
      ["hooked", await asyncSending.all],
      ["hooked-sync", await syncSending.all],
    ]);
    await assert.rejects(fetch(`${oldUrl}/api/health`), "nothing answers on the old port after the kill");

    server = await startServer({ state, timeoutMs: 90_000, env: QUOTAS });
    crash.restartedAt = Date.now();
    // The sender retries every delivery once, with its webhook-id, one after another.
    for (const pipeline of Object.keys(HOOKED)) {
      for (const [i, msg] of msgsOf(pipeline).entries()) {
        const first = firsts.get(pipeline)?.[i] ?? { status: -1, body: null };
        crash.hooks.push({ pipeline, msg, first, retry: await deliver(server.url, hookOf(pipeline), msg) });
      }
    }
    for (const pipeline of Object.keys(HOOKED)) {
      const hookRuns = runsPath(pipeline);
      const details = await until(
        `the runs of ${pipeline} to finish`,
        async () => {
          const { items } = await api("GET", `${hookRuns}?limit=100`, token);
          if (items.some((/** @type {{ status: string }} */ r) => ["queued", "running"].includes(r.status)))
            return undefined;
          return Promise.all(
            items.map((/** @type {{ id: string }} */ run) => api("GET", `${hookRuns}/${run.id}`, token)),
          );
        },
        60_000,
      ).catch((error) => {
        console.error(server?.log.slice(-60).join(""));
        throw error;
      });
      crash.hookRuns.set(pipeline, details);
    }
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

test("webhook deliveries in flight at the SIGKILL: every 2xx has its finished run, a retry makes exactly one", (t) => {
  const { hooks } = crash;
  const total = Object.values(HOOKED).reduce((n, { deliveries }) => n + deliveries, 0);
  assert.equal(hooks.length, total);
  const is2xx = (/** @type {Answer} */ a) => a.status >= 200 && a.status < 300;
  const answered = hooks.filter((h) => is2xx(h.first));
  const unanswered = hooks.filter((h) => !is2xx(h.first));
  const async = hooks.filter((h) => h.pipeline === "hooked");
  assert.ok(
    async.filter((h) => is2xx(h.first)).length >= ANSWERED_BEFORE_KILL,
    `only ${answered.length} deliveries were answered 2xx before the kill`,
  );

  // A 2xx before the crash: the delivery, its run and its dedup key were committed. Its retry is a
  // duplicate of that very run.
  for (const { msg, first, retry } of answered) {
    assert.equal(first.status, 202, `${msg}: first answer ${first.status} ${JSON.stringify(first.body)}`);
    assert.equal(
      retry.status,
      200,
      `${msg} was answered 202 before the crash, its retry ${retry.status} ${JSON.stringify(retry.body)}`,
    );
    assert.equal(retry.body?.duplicate, true, `${msg}: retry ${JSON.stringify(retry.body)}`);
    if (first.body?.run_id)
      assert.equal(retry.body.run_id, first.body.run_id, `${msg}: the retry names another run`);
  }
  // A sync delivery's run was calling the target when the product died: it was recorded, and its
  // answer never left. Its retry must find it.
  for (const { pipeline, msg, first, retry } of hooks) {
    if (!HOOKED[pipeline]?.sync) continue;
    assert.equal(first.status, 0, `${msg} (sync) was answered ${first.status} before its run could end`);
    assert.deepEqual(
      [retry.status, retry.body?.duplicate],
      [200, true],
      `${msg} (sync) was recorded before the crash; its retry: ${retry.status} ${JSON.stringify(retry.body)}`,
    );
  }
  // No answer: recorded after all (a duplicate) or not (its run starts now); either way one run.
  for (const { msg, first, retry } of unanswered) {
    assert.ok(
      retry.status === 202 || (retry.status === 200 && retry.body?.duplicate === true),
      `${msg} (first: ${first.status} ${first.error ?? JSON.stringify(first.body)}) retried → ${retry.status} ${JSON.stringify(retry.body)}`,
    );
  }

  for (const pipeline of Object.keys(HOOKED)) {
    // One run per delivery, each finished with success, and no run the deliveries do not name.
    const mine = hooks.filter((h) => h.pipeline === pipeline);
    const runOf = new Map(mine.map((h) => [h.msg, /** @type {string} */ (h.retry.body?.run_id)]));
    assert.equal(new Set(runOf.values()).size, mine.length, `two deliveries share a run, or one has none`);
    const runs = crash.hookRuns.get(pipeline) ?? [];
    assert.deepEqual(
      runs.map((run) => run.id).sort(),
      [...runOf.values()].sort(),
      `the runs of ${pipeline} are not its deliveries' runs`,
    );
    for (const run of runs) {
      assert.equal(run.status, "success", `run ${run.id} ended ${run.status}: ${JSON.stringify(run.tasks)}`);
    }
    // The target: every delivery's call came from its own run only, at least once, and at most once
    // while the product was alive on either side of the kill.
    for (const [msg, run] of runOf) {
      const calls = target.requests.filter(
        (r) => /^\/(fast|slow)\/hook\//.test(r.path) && r.path.includes(`/${msg}/`),
      );
      const runsCalled = new Set(calls.map((r) => r.path.split("/").at(-1)));
      assert.deepEqual(
        [...runsCalled],
        [run],
        `${msg} made calls for the runs ${[...runsCalled].join(", ")}`,
      );
      const before = calls.filter((r) => r.at < crash.killedAt).length;
      assert.ok(
        before <= 1 && calls.length - before <= 1,
        `${msg}'s run called ${before} + ${calls.length - before} times`,
      );
    }
  }
  const late = async.filter((h) => !is2xx(h.first));
  const recorded = late.filter((h) => h.retry.status === 200).length;
  t.diagnostic(
    `async: ${async.length - late.length} deliveries answered 2xx before the kill, ${late.length} not ` +
      `(${recorded} of them recorded anyway, ${late.length - recorded} started by their retry); ` +
      `sync: ${hooks.length - async.length} recorded and unanswered`,
  );
});
