// `npm run bench`: starts the product and a local no-op HTTP target, runs the scenarios of
// DESIGN.md §7 that the engine serves today, and prints them as a table against their targets.
// Targets live here, not in timed unit tests.
import { prepareLoad, runLoad } from "../support/load.mjs";
import { startServer } from "../support/server.mjs";
import { chainSpec, fanOutSpec, wideFanOutSpec } from "./specs.mjs";
import { startTarget } from "./target.mjs";

const p50 = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN;
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
async function runToEnd(server, token, pipeline, { timeoutMs = 60_000, until, target, pollMs = 50 } = {}) {
  const startedAt = Date.now();
  const started = performance.now();
  const run = await api(server, token, "POST", `/api/tenants/bench/pipelines/${pipeline}/runs`, {});
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
  const samples = [];
  for (let i = 0; i < 200; i++) {
    const t = performance.now();
    await (await fetch(`${target.url}/noop`)).text();
    samples.push(performance.now() - t);
  }
  return p50(samples);
}

/** `BENCH_VERBOSE=1` prints every sample beside the p50: the runs of one scenario vary on a shared machine. */
function samples(name, values) {
  if (process.env.BENCH_VERBOSE) console.log(`${name}: ${values.map((v) => v.toFixed(1)).join(" ")}`);
}

// `npm run bench -- chain wide` runs only the named scenarios (chain, fanout, wide, load).
const only = new Set(process.argv.slice(2));
const wanted = (name) => only.size === 0 || only.has(name);

const target = await startTarget();
const server = await startServer({ timeoutMs: 90_000 });
const rows = [];
try {
  const token = await setUp(server);
  const save = (slug, spec) => api(server, token, "PUT", `/api/tenants/bench/pipelines/${slug}`, spec);
  await save("chain", chainSpec(target.url));
  await save("fanout", fanOutSpec(target.url, 100));
  await save("wide", wideFanOutSpec(target.url, 1000, 100));
  const rtt = await loopbackRoundTrip(target);

  if (wanted("chain")) await chain(server, token, target, rows, rtt);
  if (wanted("fanout")) await fanOut(server, token, target, rows);
  if (wanted("wide")) await wide(server, token, rows);
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
