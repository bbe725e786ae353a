// Long-running operators, sensors and back-off against a real plugin that is not built with our SDK:
// plugins/examples/jobs (plain Node http, its own signature check against the product's published
// keys). The product runs as `npm start` runs it; the plugin is published by URL, installed with a
// connection and used by pipelines, over real HTTP both ways (calls, and the plugin's callbacks).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createJobsPlugin } from "../../plugins/examples/jobs/server.mjs";
import { prepareLoad } from "../support/load.mjs";
import { listenLocally, startServer } from "./harness.mjs";

const API_KEY = "example-account-key";

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {Awaited<ReturnType<typeof listenLocally>>} */
let plugin;
/** @type {ReturnType<typeof createJobsPlugin>} */
let jobs;
/** Every callback the plugin sent, with the platform's answer. @type {import("../../plugins/examples/jobs/jobs.mjs").SentCallback[]} */
const callbacks = [];
/** @type {Awaited<ReturnType<typeof prepareLoad>>} */
let as;

/**
 * A request to the product's API with the tenant's admin token; answers status and JSON.
 * @param {string} method
 * @param {string} path below /api/tenants/{t}
 * @param {unknown} [body]
 */
async function api(method, path, body) {
  const response = await fetch(`${as.base}/api/tenants/${as.tenant}${path}`, {
    method,
    headers: { authorization: `Bearer ${as.token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, json: await response.json().catch(() => null) };
}

/** Saves a pipeline, starts a run and answers the run once it has ended. */
async function runToEnd(/** @type {string} */ slug, /** @type {unknown} */ spec) {
  const saved = await api("PUT", `/pipelines/${slug}`, spec);
  assert.equal(saved.status < 300, true, `saving ${slug}: ${JSON.stringify(saved.json)}`);
  const started = await api("POST", `/pipelines/${slug}/runs`, {});
  assert.equal(started.status, 201, JSON.stringify(started.json));
  const deadline = Date.now() + 45_000;
  while (Date.now() < deadline) {
    const run = await api("GET", `/pipelines/${slug}/runs/${started.json.id}`);
    if (!["queued", "running"].includes(run.json.status)) return run.json;
    await sleep(200);
  }
  throw new Error(`run of ${slug} did not end in 45 s`);
}

const taskOf = (/** @type {any} */ run, /** @type {string} */ id) =>
  run.tasks.find((/** @type {any} */ t) => t.id === id);

before(async () => {
  server = await startServer();
  jobs = createJobsPlugin({
    jwksUrl: `${server.url}/.well-known/jwks.json`,
    apiKey: API_KEY,
    onCallback: (sent) => callbacks.push(sent),
  });
  plugin = await listenLocally(jobs.server);
  as = await prepareLoad(server.url, `jobs-${Date.now().toString(36)}`);
});

after(async () => {
  await plugin?.close();
  await server?.stop();
});

test("the example plugin is published by URL, installed with its connection, and tested", async () => {
  const published = await api("POST", "/publications", { url: plugin.url });
  assert.equal(published.status, 201, JSON.stringify(published.json));
  const installed = await api("POST", "/installations", {
    plugin: "jobs",
    config: { api_key: API_KEY, max_running: 1 },
  });
  assert.equal(installed.status, 201, JSON.stringify(installed.json));
  assert.notEqual(JSON.stringify(installed.json).includes(API_KEY), true, "the key is masked");
  const tested = await api("POST", `/installations/${installed.json.id}/test`);
  assert.deepEqual(tested.json, { ok: true, detail: "The account accepts this key." });
});

test("202 + callback, a sensor that waits for it, and 429 Retry-After from a full account", async () => {
  const run = await runToEnd("export", {
    name: "Export",
    tasks: [
      { id: "export", uses: "jobs/run@^1", with: { name: "export", duration_ms: 1500 } },
      // Starts with export; the account runs one job at a time, so it is told to come back (429).
      { id: "second", uses: "jobs/run@^1", with: { name: "second", duration_ms: 100 }, retries: 5 },
      {
        id: "watch",
        uses: "jobs/wait@^1",
        with: { name: "export", poke_interval_ms: 200, timeout_ms: 20000 },
      },
    ],
  });
  assert.equal(run.status, "success", JSON.stringify(run.tasks));
  const [exported, second, watch] = ["export", "second", "watch"].map((id) => taskOf(run, id));
  assert.match(exported.output.job_id, /^job_/);
  assert.equal(exported.attempts, 1);
  assert.equal(watch.output.job_id, exported.output.job_id, "the sensor saw the job the callback ended");
  assert.ok(watch.output.waited_ms >= 1000, `the sensor waited ${watch.output.waited_ms} ms`);
  assert.ok(second.attempts >= 2, `second was refused at least once (${second.attempts} attempts)`);

  // Each callback was taken once; sending one again changes nothing.
  const taken = callbacks.filter((sent) => sent.status === 200);
  assert.equal(taken.length, 2);
  const again = await fetch(taken[0].url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ status: "success", output: { job_id: "forged" } }),
  });
  assert.equal(again.status, 404);
  const reread = await api("GET", `/pipelines/export/runs/${run.id}`);
  assert.deepEqual(reread.json.tasks, run.tasks);
});

test("a late callback, a failed job and a sensor's timeout each end their task clearly", async () => {
  const before = callbacks.length;
  const run = await runToEnd("late", {
    name: "Late",
    tasks: [
      { id: "slow", uses: "jobs/run@^1", with: { name: "slow", duration_ms: 2500 }, timeout: "1s" },
      {
        id: "broken",
        uses: "jobs/run@^1",
        with: { name: "broken", duration_ms: 50, fail_with: "disk full" },
        // Refused (429) while the slow job runs on past its task's timeout, then fails for good.
        retries: 5,
      },
      {
        id: "never",
        uses: "jobs/wait@^1",
        with: { name: "nothing", poke_interval_ms: 200, timeout_ms: 1000 },
      },
    ],
  });
  assert.equal(run.status, "failed");
  assert.equal(taskOf(run, "slow").error.kind, "timeout");
  assert.match(taskOf(run, "broken").error.message, /Job broken failed: disk full/);
  assert.match(taskOf(run, "never").error.message, /did not end within 1000 ms/);

  // The slow job ends after its task timed out: the platform refuses its callback, nothing changes.
  const deadline = Date.now() + 10_000;
  while (!callbacks.slice(before).some((sent) => /** @type {any} */ (sent.body).output?.name === "slow")) {
    assert.ok(Date.now() < deadline, "the slow job's callback was sent");
    await sleep(100);
  }
  const late = callbacks.slice(before).find((sent) => /** @type {any} */ (sent.body).output?.name === "slow");
  assert.equal(late?.status, 404, JSON.stringify({ late, tasks: run.tasks }));
  const reread = await api("GET", `/pipelines/late/runs/${run.id}`);
  assert.deepEqual(reread.json.tasks, run.tasks);
});

test("503 Retry-After during the plugin's maintenance window is waited out", async () => {
  jobs.maintenance(1500);
  const started = Date.now();
  const run = await runToEnd("quick", {
    name: "Quick",
    tasks: [{ id: "quick", uses: "jobs/run@^1", with: { name: "quick", duration_ms: 10 }, retries: 3 }],
  });
  assert.equal(run.status, "success", JSON.stringify(run.tasks));
  const quick = taskOf(run, "quick");
  assert.equal(quick.attempts, 2);
  assert.ok(Date.now() - started >= 1500, "it waited the window out");
  assert.ok(Date.now() - started < 15_000, "and not the engine's own 30 s backoff");
});
