// Issue 12's webhook scenarios of `npm run bench` (DESIGN.md §7): accept latency, webhook → 10th call,
// 1,000 deliveries at concurrency 50. Each prints beside a loopback round trip and the floor of an
// empty Worker under the same `wrangler dev` (floor.mjs), measured in the same run.
import { Webhook } from "standardwebhooks";
import { api, countRuns, loopbackSamples, p50, percentile, runToEnd, samples, settled } from "./measure.mjs";

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

/** Issue 12: a webhook delivery starts the chain of 10; sent → the 10th call arrives at the target. */
export async function hookChain(server, token, target, rows) {
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
export async function hookAccept(server, token, target, rows, floor) {
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
  const unknown = [];
  for (let i = 0; i < 300; i++) {
    const t = performance.now();
    await (await fetch(`http://127.0.0.1:${server.port}/hooks/nope`, { method: "POST", body: "{}" })).text();
    unknown.push(performance.now() - t);
  }
  const [p50Accept, p99Accept] = [percentile(latencies, 0.5), percentile(latencies, 0.99)];
  rows.push(["webhook accept (POST /hooks → 202), 300 sequential, p50", p50Accept, "≤ 5 ms", p50Accept <= 5]);
  rows.push(["webhook accept, p99", p99Accept, "≤ 25 ms", p99Accept <= 25]);
  rows.push(["  beside it: loopback HTTP round trip, p50", percentile(loop, 0.5), "reference", true]);
  rows.push(["  beside it: loopback HTTP round trip, p99", percentile(loop, 0.99), "reference", true]);
  rows.push(["  beside it: POST /hooks/unknown → 404 (no object), p50", p50(unknown), "reference", true]);
  if (floor) {
    rows.push(["  beside it: empty Worker under wrangler dev, p50", floor.p50, "floor", true]);
    rows.push(["  beside it: empty Worker under wrangler dev, p99", floor.p99, "floor", true]);
  }
}

/**
 * Issue 12: 1,000 deliveries at concurrency 50, each starting a chain of 3 core/http calls tagged
 * `{run id}-{task}`. Accepted per second (first send → last answer), first send → the 3,000th call,
 * calls lost (an accepted delivery's run without one of its calls) and calls made twice, counted
 * after every run has ended (so a late repeat would be seen too).
 */
export async function hookLoad(server, token, target, rows, floor) {
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
  if (floor)
    rows.push(["  beside it: empty Worker under wrangler dev @ 50 (/s)", floor.perSecond, "floor", true]);
}
