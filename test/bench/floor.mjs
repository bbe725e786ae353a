// The floor under every figure of the benchmark: an empty Worker (floor/index.js) run by the same
// `wrangler dev` as the product, on the same machine, measured the way the webhook scenarios are
// (sequential round trips, then round trips at concurrency 50). On a 2-core machine wrangler's dev
// proxy (a second workerd in front of the Worker's) costs milliseconds per request and caps the
// requests per second: no Worker served by it can beat these numbers, so the table prints them
// beside the targets they bound.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { freePort, ROOT } from "../support/server.mjs";

const HERE = fileURLToPath(new URL("./floor", import.meta.url));

/**
 * @param {(values: number[], q: number) => number} percentile
 * @returns {Promise<{ p50: number, p99: number, perSecond: number }>}
 */
export async function measureFloor(percentile, { sequential = 300, total = 2_000, concurrency = 50 } = {}) {
  const port = await freePort();
  const bin = join(ROOT, "node_modules", ".bin");
  const wrangler = join(bin, "wrangler");
  const child = spawn(
    existsSync(join(bin, "node")) ? join(bin, "node") : process.execPath,
    [wrangler, "dev", "--port", String(port), "--show-interactive-dev-session=false"],
    {
      cwd: HERE,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      // As scripts/dev-server.mjs runs the product: no local trace capture, no metrics, no cf fetch.
      env: {
        ...process.env,
        X_LOCAL_OBSERVABILITY: "false",
        CLOUDFLARE_CF_FETCH_ENABLED: "false",
        WRANGLER_SEND_METRICS: "false",
      },
    },
  );
  const log = [];
  child.stdout.on("data", (chunk) => log.push(String(chunk)));
  child.stderr.on("data", (chunk) => log.push(String(chunk)));
  const url = `http://127.0.0.1:${port}/`;
  try {
    await ready(url, child, log);
    const once = async () => {
      const t = performance.now();
      await (await fetch(url, { method: "POST", body: "{}" })).arrayBuffer();
      return performance.now() - t;
    };
    for (let i = 0; i < 50; i++) await once(); // warm-up (JIT, connections)
    const latencies = [];
    for (let i = 0; i < sequential; i++) latencies.push(await once());
    await blast(url, total, concurrency); // warm-up at concurrency
    const started = performance.now();
    await blast(url, total, concurrency);
    const perSecond = (total * 1000) / (performance.now() - started);
    return { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), perSecond };
  } finally {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
}

async function blast(url, total, concurrency) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < total) await (await fetch(url, { method: "POST", body: "{}" })).arrayBuffer();
    }),
  );
}

async function ready(url, child, log) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the floor Worker exited:\n${log.join("")}`);
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(2_000) })).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(300);
  }
  throw new Error(`the floor Worker did not answer within 60 s:\n${log.join("")}`);
}
