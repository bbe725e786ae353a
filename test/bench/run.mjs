// `npm run bench`: starts the product and a local no-op HTTP target, runs the scenarios of
// DESIGN.md §7 that the engine serves today, and prints them as a table against their targets.
// Targets live here, not in timed unit tests.
import { Webhook } from "standardwebhooks";
import { prepareLoad, runLoad } from "../support/load.mjs";
import { startServer } from "../support/server.mjs";
import { chainSpec, fanOutSpec, wideFanOutSpec, withWebhook } from "./specs.mjs";
import { startTarget } from "./target.mjs";

const p50 = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN;
};
/** Nearest-rank percentile: p99 of 300 samples is the 297th smallest. */
const percentile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
};

/**
 * The webhook scenarios send more deliveries and hold more runs at once than wrangler.toml's quotas
 * allow a tenant (600 deliveries a minute, 50 concurrent runs): the bench raises them through the
 * QUOTA_* variables that scripts/dev-server.mjs passes to the Worker.
 */
const BENCH_QUOTAS = {
  QUOTA_DELIVERIES_PER_MINUTE: "100000",
  QUOTA_CONCURRENT_RUNS: "10000",
  QUOTA_RUNS_PER_DAY: "1000000",
};

async function api(server, token, method, path, body, contentType = "application/json") {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": contentType }),
    },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status >= 400) throw new Error(`${method} ${path} → ${response.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

async function setUp(server) {
  const email = `bench-${Date.now()}@example.com`;
  const signUp = await fetch(`${server.url}/api/auth/sign-up/email`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "Bench", email, password: "bench password" }),
  });
  const cookie = signUp.headers.get("set-cookie")?.split(";")[0] ?? "";
  const asUser = (path, body) =>
    fetch(`${server.url}${path}`, {
      method: "POST",
      headers: { cookie, origin: server.url, "content-type": "application/json" },
      body: JSON.stringify(body),
    }).then((r) => r.json());
  await asUser("/api/tenants", { slug: "bench", name: "Bench" });
  const { token } = await asUser("/api/tenants/bench/tokens", { name: "bench", role: "editor" });
  return token;
}

/**
 * Starts a run and waits for its end. While the measured part runs, nothing asks the product anything:
 * with `until` (a tag the target records) the wait is on the target's arrivals, in this process; only
 * then is the run polled, every `pollMs`, so the polls do not compete with the run for the runtime's one
 * thread. The end comes from the run's own `ended_at` (same machine clock as `startedAt`), not from when
 * a poll noticed it.
 */
async function runToEnd(
  server,
  token,
  pipeline,
  { timeoutMs = 60_000, until, target, pollMs = 50, start } = {},
) {
  const startedAt = Date.now();
  const started = performance.now();
  // `start` (a webhook delivery, say) answers the run id; by default the API starts the run.
  const run = start
    ? { id: await start() }
    : await api(server, token, "POST", `/api/tenants/bench/pipelines/${pipeline}/runs`, {});
  const deadline = Date.now() + timeoutMs;
  const overdue = () => {
    if (Date.now() > deadline)
      throw new Error(`run ${run.id} of ${pipeline} did not finish in ${timeoutMs} ms`);
  };
  const detailOf = () => api(server, token, "GET", `/api/tenants/bench/pipelines/${pipeline}/runs/${run.id}`);
  if (until && target) {
    // A run that failed never makes the awaited call: look at it once a second, not every millisecond.
    let looked = performance.now();
    while (!target.arrivals.has(`${run.id}-${until}`)) {
      overdue();
      if (performance.now() - looked > 1000) {
        looked = performance.now();
        const { status } = await detailOf();
        if (status === "failed" || status === "cancelled")
          throw new Error(`run ${run.id} of ${pipeline} ended ${status}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }
  for (;;) {
    const detail = await detailOf();
    if (["success", "failed", "cancelled"].includes(detail.status)) {
      if (detail.status !== "success") throw new Error(`run ${run.id} of ${pipeline} ended ${detail.status}`);
      return { id: run.id, started, makespan: Date.parse(detail.ended_at) - startedAt };
    }
    overdue();
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

async function loopbackRoundTrip(target) {
  return p50(await loopbackSamples(target, 200));
}

/** Sequential round trips from this process to the no-op target, in ms. */
async function loopbackSamples(target, count) {
  const samples = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await (await fetch(`${target.url}/noop`)).text();
    samples.push(performance.now() - t);
  }
  return samples;
}

/**
 * The pipeline's webhook `in` (GET …/pipelines/{p} gives editors its URL and secret), called on
 * 127.0.0.1. `sign()` makes a delivery ready to send, signed with the `standardwebhooks` package
 * (a new webhook-id each), so that signing is not part of what is timed.
 */
async function hookOf(server, token, pipeline) {
  const detail = await api(server, token, "GET", `/api/tenants/bench/pipelines/${pipeline}`);
  const trigger = detail.triggers?.find((t) => t.kind === "webhook" && t.id === "in");
  if (!trigger?.secret || !trigger.url)
    throw new Error(`${pipeline} has no webhook with a secret: ${JSON.stringify(detail.triggers)}`);
  const url = `http://127.0.0.1:${server.port}${new URL(trigger.url).pathname}`;
  const signer = new Webhook(trigger.secret);
  let sent = 0;
  const sign = (body = "{}") => {
    const id = `msg_${pipeline}_${Date.now().toString(36)}_${++sent}`;
    const at = new Date();
    const headers = {
      "content-type": "application/json",
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
      "webhook-signature": signer.sign(id, at, body),
    };
    return {
      id,
      /** @returns {Promise<{ status: number, body: any }>} */
      send: async () => {
        const response = await fetch(url, { method: "POST", headers, body });
        const text = await response.text();
        let parsed = text;
        try {
          parsed = text ? JSON.parse(text) : null;
        } catch {
          // not JSON: kept as text for the error message
        }
        return { status: response.status, body: parsed };
      },
    };
  };
  /** A `start` for runToEnd: sends one delivery signed now and answers its run id. */
  const starter = () => {
    const delivery = sign();
    return async () => {
      const answer = await delivery.send();
      if (answer.status !== 202)
        throw new Error(`webhook of ${pipeline} → ${answer.status}: ${JSON.stringify(answer.body)}`);
      return answer.body.run_id;
    };
  };
  return { sign, starter };
}

/** Waits until the pipeline has no queued or running run (the object's own list, not D1). */
async function settled(server, token, pipeline, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  const runs = `/api/tenants/bench/pipelines/${pipeline}/runs`;
  for (;;) {
    const [queued, running] = await Promise.all(
      ["queued", "running"].map((status) => api(server, token, "GET", `${runs}?status=${status}&limit=1`)),
    );
    if (queued.items.length === 0 && running.items.length === 0) return;
    if (Date.now() > deadline) throw new Error(`${pipeline} still has runs going after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** How many runs of the pipeline have the status (paged through the API). */
async function countRuns(server, token, pipeline, status) {
  let count = 0;
  let cursor = null;
  do {
    const page = await api(
      server,
      token,
      "GET",
      `/api/tenants/bench/pipelines/${pipeline}/runs?status=${status}&limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
    );
    count += page.items.length;
    cursor = page.next_cursor;
  } while (cursor);
  return count;
}

/** `BENCH_VERBOSE=1` prints every sample beside the p50: the runs of one scenario vary on a shared machine. */
function samples(name, values) {
  if (process.env.BENCH_VERBOSE) console.log(`${name}: ${values.map((v) => v.toFixed(1)).join(" ")}`);
}

// `npm run bench -- chain wide` runs only the named scenarios (chain, hook-chain, fanout, wide,
// hook-accept, hook-load, load; `hooks` names the three webhook ones).
const only = new Set(process.argv.slice(2));
const wanted = (name) => only.size === 0 || only.has(name) || (name.startsWith("hook-") && only.has("hooks"));

const target = await startTarget();
const server = await startServer({ timeoutMs: 90_000, env: BENCH_QUOTAS });
const rows = [];
try {
  const token = await setUp(server);
  await quotasApplied(server, token);
  const save = (slug, spec) => api(server, token, "PUT", `/api/tenants/bench/pipelines/${slug}`, spec);
  await save("chain", chainSpec(target.url));
  await save("fanout", fanOutSpec(target.url, 100));
  await save("wide", wideFanOutSpec(target.url, 1000, 100));
  await save("hook-chain", withWebhook(chainSpec(target.url)));
  await save("hook-accept", withWebhook(chainSpec(target.url, 1)));
  await save("hook-load", withWebhook(chainSpec(target.url, 3)));
  const rtt = await loopbackRoundTrip(target);

  if (wanted("chain")) await chain(server, token, target, rows, rtt);
  if (wanted("hook-chain")) await hookChain(server, token, target, rows);
  if (wanted("fanout")) await fanOut(server, token, target, rows);
  if (wanted("wide")) await wide(server, token, rows);
  if (wanted("hook-accept")) await hookAccept(server, token, target, rows);
  if (wanted("hook-load")) await hookLoad(server, token, target, rows);
  if (wanted("load")) await load(server, rows);
  rows.push(["loopback HTTP round trip (same run), p50", rtt, "reference", true]);
} finally {
  await server.stop();
  await target.close();
}

async function chain(server, token, target, rows, rtt) {
  const tenth = { until: "10", target };
  for (let i = 0; i < 3; i++) await runToEnd(server, token, "chain", tenth); // warm-up (JIT)
  const perHop = [];
  const toTenth = [];
  for (let i = 0; i < 15; i++) {
    const run = await runToEnd(server, token, "chain", tenth);
    const times = Array.from(
      { length: 10 },
      (_, n) => target.arrivals.get(`${run.id}-${n + 1}`)?.[0] ?? Number.NaN,
    );
    perHop.push(((times[9] ?? Number.NaN) - (times[0] ?? Number.NaN)) / 9);
    toTenth.push((times[9] ?? Number.NaN) - run.started);
  }
  // A hop is the engine's overhead plus the no-op call itself; the call is priced at one loopback round
  // trip measured in this run, and the raw interval is printed beside it.
  samples("chain hop interval", perHop);
  samples("chain start → 10th", toTenth);
  const overhead = p50(perHop) - rtt;
  rows.push(["chain of 10: hop interval (call included), p50", p50(perHop), "reference", true]);
  rows.push(["chain of 10 core/http: overhead per hop, p50", overhead, "≤ 3 ms", overhead <= 3]);
  rows.push([
    "chain of 10: run start → 10th call, p50",
    p50(toTenth),
    "≤ 40 ms (webhook → 10th)",
    p50(toTenth) <= 40,
  ]);
}

/** The tenant's quotas as the Worker reads them: BENCH_QUOTAS must have reached it. */
async function quotasApplied(server, token) {
  const { quotas } = await api(server, token, "GET", "/api/tenants/bench");
  const seen = {
    QUOTA_DELIVERIES_PER_MINUTE: quotas.deliveries_per_minute,
    QUOTA_CONCURRENT_RUNS: quotas.concurrent_runs,
    QUOTA_RUNS_PER_DAY: quotas.runs_per_day,
  };
  for (const [name, value] of Object.entries(BENCH_QUOTAS)) {
    if (String(seen[name]) !== value)
      throw new Error(
        `${name}=${value} did not reach the Worker: the tenant's quotas are ${JSON.stringify(quotas)}`,
      );
  }
}

/** Issue 12: a webhook delivery starts the chain of 10; sent → the 10th call arrives at the target. */
async function hookChain(server, token, target, rows) {
  const hook = await hookOf(server, token, "hook-chain");
  const tenth = (start) => ({ until: "10", target, start });
  for (let i = 0; i < 3; i++) await runToEnd(server, token, "hook-chain", tenth(hook.starter())); // warm-up
  const toTenth = [];
  for (let i = 0; i < 15; i++) {
    const run = await runToEnd(server, token, "hook-chain", tenth(hook.starter()));
    toTenth.push((target.arrivals.get(`${run.id}-10`)?.[0] ?? Number.NaN) - run.started);
  }
  samples("webhook → 10th", toTenth);
  const rtt = p50(await loopbackSamples(target, 200));
  rows.push(["webhook → chain of 10: sent → 10th call, p50", p50(toTenth), "≤ 40 ms", p50(toTenth) <= 40]);
  rows.push(["  beside it: loopback HTTP round trip, p50", rtt, "reference", true]);
}

/**
 * Issue 12: webhook accept latency as the sender sees it (POST /hooks → 202: verify, dedup, run
 * created and recorded), one delivery after another. Each run makes one call, so that the runs can
 * be awaited before the next scenario.
 */
async function hookAccept(server, token, target, rows) {
  const hook = await hookOf(server, token, "hook-accept");
  const runs = [];
  const once = async (n) => {
    const delivery = hook.sign(JSON.stringify({ n }));
    const t = performance.now();
    const answer = await delivery.send();
    const ms = performance.now() - t;
    if (answer.status !== 202) throw new Error(`webhook → ${answer.status}: ${JSON.stringify(answer.body)}`);
    runs.push(answer.body.run_id);
    return ms;
  };
  for (let i = 0; i < 30; i++) await once(i); // warm-up (JIT)
  const latencies = [];
  for (let i = 0; i < 300; i++) latencies.push(await once(i));
  if (
    !(await target.allArrived(
      runs.map((run) => `${run}-1`),
      60_000,
    ))
  )
    throw new Error("some accepted deliveries' runs did not make their call within 60 s");
  await settled(server, token, "hook-accept");
  samples("webhook accept", latencies);
  const loop = await loopbackSamples(target, 300);
  // The Worker's own floor: a hook id that names no object is a 404 before any object is asked.
  const floor = [];
  for (let i = 0; i < 300; i++) {
    const t = performance.now();
    await (await fetch(`http://127.0.0.1:${server.port}/hooks/nope`, { method: "POST", body: "{}" })).text();
    floor.push(performance.now() - t);
  }
  const [p50Accept, p99Accept] = [percentile(latencies, 0.5), percentile(latencies, 0.99)];
  rows.push(["webhook accept (POST /hooks → 202), 300 sequential, p50", p50Accept, "≤ 5 ms", p50Accept <= 5]);
  rows.push(["webhook accept, p99", p99Accept, "≤ 25 ms", p99Accept <= 25]);
  rows.push(["  beside it: loopback HTTP round trip, p50", percentile(loop, 0.5), "reference", true]);
  rows.push(["  beside it: loopback HTTP round trip, p99", percentile(loop, 0.99), "reference", true]);
  rows.push(["  beside it: POST /hooks/unknown → 404 (no object), p50", p50(floor), "reference", true]);
}

/**
 * Issue 12: 1,000 deliveries at concurrency 50, each starting a chain of 3 core/http calls tagged
 * `{run id}-{task}`. Accepted per second (first send → last answer), first send → the 3,000th call,
 * calls lost (an accepted delivery's run without one of its calls) and calls made twice, counted
 * after every run has ended (so a late repeat would be seen too).
 */
async function hookLoad(server, token, target, rows) {
  const total = 1000;
  const concurrency = 50;
  const hook = await hookOf(server, token, "hook-load");
  const blast = async (deliveries) => {
    const answers = new Array(deliveries.length);
    const latencies = [];
    let next = 0;
    let lastAnswer = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < deliveries.length) {
          const i = next++;
          const t = performance.now();
          answers[i] = await deliveries[i].send().catch((error) => ({ status: 0, body: String(error) }));
          lastAnswer = performance.now();
          latencies.push(lastAnswer - t);
        }
      }),
    );
    const runs = answers.filter((a) => a.status === 202).map((a) => a.body.run_id);
    const refused = answers.filter((a) => a.status !== 202);
    return { started, lastAnswer, runs, refused, latencies };
  };
  const callsOf = (runs) => runs.flatMap((run) => [1, 2, 3].map((task) => `${run}-${task}`));

  // Warm-up (JIT, connections): 100 deliveries, and their runs' calls.
  const warm = await blast(Array.from({ length: 100 }, (_, n) => hook.sign(JSON.stringify({ n }))));
  await target.allArrived(callsOf(warm.runs), 30_000);
  await settled(server, token, "hook-load");

  const deliveries = Array.from({ length: total }, (_, n) => hook.sign(JSON.stringify({ n })));
  const result = await blast(deliveries);
  const calls = callsOf(result.runs);
  const arrived = await target.allArrived(calls, 60_000);
  await settled(server, token, "hook-load", 120_000);
  const firstArrivals = calls.map((tag) => target.arrivals.get(tag)?.[0] ?? Number.NaN);
  const lastCall = arrived ? Math.max(...firstArrivals) - result.started : Number.NaN;
  const lost = calls.filter((tag) => !target.arrivals.has(tag));
  const twice = calls.filter((tag) => (target.arrivals.get(tag)?.length ?? 0) > 1);
  const sharedRuns = result.runs.length - new Set(result.runs).size;
  const failed = await countRuns(server, token, "hook-load", "failed");
  const perSecond = (result.runs.length * 1000) / (result.lastAnswer - result.started);
  if (
    process.env.BENCH_VERBOSE ||
    result.refused.length ||
    lost.length ||
    twice.length ||
    sharedRuns ||
    failed
  ) {
    console.log(
      JSON.stringify({
        refused: result.refused.slice(0, 5),
        refusedCount: result.refused.length,
        lost: lost.slice(0, 10),
        twice: twice.slice(0, 10).map((tag) => [tag, target.arrivals.get(tag)?.length]),
        sharedRuns,
        failed,
      }),
    );
  }

  // Beside it: the same number of round trips at the same concurrency to the no-op target.
  let next = 0;
  const loopStarted = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < total) await (await fetch(`${target.url}/noop`)).text();
    }),
  );
  const loopPerSecond = (total * 1000) / (performance.now() - loopStarted);

  const not = result.refused.length;
  rows.push(["1,000 webhooks @ 50, 3-task runs: accepted/s", perSecond, "≥ 500/s", perSecond >= 500]);
  rows.push(["  deliveries not accepted (count)", not, "0", not === 0]);
  rows.push(["  202 latency under load, p50", percentile(result.latencies, 0.5), "reference", true]);
  rows.push(["  202 latency under load, p99", percentile(result.latencies, 0.99), "reference", true]);
  rows.push(["  first send → 3,000th call", lastCall, "≤ 5000 ms", lastCall <= 5000]);
  rows.push(["  calls lost (count)", lost.length, "0", lost.length === 0]);
  rows.push(["  calls duplicated (count)", twice.length + sharedRuns, "0", twice.length + sharedRuns === 0]);
  rows.push(["  runs failed (count)", failed, "0", failed === 0]);
  rows.push(["  beside it: loopback, 1,000 round trips @ 50 (/s)", loopPerSecond, "reference", true]);
}

async function fanOut(server, token, target, rows) {
  const join = { until: "join", target };
  for (let i = 0; i < 5; i++) await runToEnd(server, token, "fanout", join); // warm-up (JIT)
  const joins = [];
  for (let i = 0; i < 15; i++) {
    const run = await runToEnd(server, token, "fanout", join);
    joins.push((target.arrivals.get(`${run.id}-join`)?.[0] ?? Number.NaN) - run.started);
  }
  samples("fan-out start → join", joins);
  rows.push(["1 → 100 for_each → join: start → join call, p50", p50(joins), "≤ 100 ms", p50(joins) <= 100]);
}

async function wide(server, token, rows) {
  const makespans = [];
  for (let i = 0; i < 3; i++) {
    const run = await runToEnd(server, token, "wide", { timeoutMs: 120_000, pollMs: 250 });
    makespans.push(run.makespan);
  }
  samples("1,000 × 100 ms makespan", makespans);
  rows.push([
    "1,000 for_each × 100 ms operator: makespan, p50",
    p50(makespans),
    "≤ 2000 ms",
    p50(makespans) <= 2000,
  ]);
}

/** Issue 11 §1: 20,000 mixed requests (reads, writes, run starts, sign-ins) at concurrency 8. */
async function load(server, rows) {
  const setUp = await prepareLoad(`http://127.0.0.1:${server.port}`, `bench-${Date.now()}`);
  const result = await runLoad(setUp, { total: 20_000, concurrency: 8 });
  if (process.env.BENCH_VERBOSE) console.log(JSON.stringify(result));
  const broken = result.serverErrors + result.failed;
  rows.push(["load, 20,000 mixed @ 8: answers >= 500 or none (count)", broken, "0", broken === 0]);
  rows.push(["load: throughput (requests/s)", result.perSecond, "reference", true]);
  rows.push(["load: latency p50", result.p50, "reference", true]);
  rows.push(["load: latency p99", result.p99, "reference", true]);
}

const width = Math.max(...rows.map((r) => r[0].length));
console.log(`\n${"scenario".padEnd(width)} | measured (ms) | target | met`);
console.log(`${"-".repeat(width)}-|---------------|--------|----`);
for (const [name, value, goal, met] of rows) {
  console.log(`${name.padEnd(width)} | ${value.toFixed(2).padStart(13)} | ${goal} | ${met ? "yes" : "NO"}`);
}
