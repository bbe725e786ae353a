// `npm run bench`: starts the product and a local no-op HTTP target, runs the scenarios of
// DESIGN.md §7 that the engine serves today, and prints them as a table against their targets.
// Targets live here, not in timed unit tests.
import { prepareLoad, runLoad } from "../support/load.mjs";
import { startServer } from "../support/server.mjs";
import { measureFloor } from "./floor.mjs";
import { hookAccept, hookChain, hookLoad } from "./hooks.mjs";
import { api, loopbackSamples, p50, percentile, runToEnd, samples } from "./measure.mjs";
import { chainSpec, fanOutSpec, wideFanOutSpec, withWebhook } from "./specs.mjs";
import { startTarget } from "./target.mjs";

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

// `npm run bench -- chain wide` runs only the named scenarios (chain, hook-chain, fanout, wide,
// hook-accept, hook-load, load; `hooks` names the three webhook ones).
const only = new Set(process.argv.slice(2));
const wanted = (name) => only.size === 0 || only.has(name) || (name.startsWith("hook-") && only.has("hooks"));

// Before the product starts, so that nothing else runs beside it.
const floor =
  [...only].some((name) => name.startsWith("hook") || name === "hooks") || only.size === 0
    ? await measureFloor(percentile)
    : null;
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
  const rtt = p50(await loopbackSamples(target, 200));

  if (wanted("chain")) await chain(server, token, target, rows, rtt);
  if (wanted("hook-chain")) await hookChain(server, token, target, rows);
  if (wanted("fanout")) await fanOut(server, token, target, rows);
  if (wanted("wide")) await wide(server, token, rows);
  if (wanted("hook-accept")) await hookAccept(server, token, target, rows, floor);
  if (wanted("hook-load")) await hookLoad(server, token, target, rows, floor);
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
