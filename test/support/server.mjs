// Runs the real product (scripts/dev-server.mjs → wrangler dev) on a free port with its own persisted
// state, for the browser tests and the benchmark. Stop it with `stop()`: it ends the whole process group.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));

/** A TCP port nobody listens on right now. */
export function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.unref();
    server.on("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
      server.close(() => done(port));
    });
  });
}

/**
 * Starts the product and resolves once GET /api/health answers 200.
 * @param {{ timeoutMs?: number }} [options]
 */
export async function startServer({ timeoutMs = 60_000 } = {}) {
  if (!existsSync(join(ROOT, "web", "build", "index.html"))) {
    throw new Error(
      "web/build is missing: run `npm run build:web` (npm run test:e2e does) before the e2e tests.",
    );
  }
  const port = await freePort();
  const state = await mkdtemp(join(tmpdir(), "updraft-e2e-state-"));
  const bin = join(ROOT, "node_modules", ".bin");
  const node = existsSync(join(bin, "node")) ? join(bin, "node") : process.execPath;
  const child = spawn(node, ["scripts/dev-server.mjs", "--port", String(port), "--persist-to", state], {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    // Node 24 from node_modules/.bin for wrangler too, even when the runner itself is the system Node.
    env: { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ""}`, FORCE_COLOR: "0" },
  });
  /** @type {string[]} */
  const log = [];
  const keep = (/** @type {Buffer} */ chunk) => {
    log.push(chunk.toString());
    if (log.length > 400) log.splice(0, log.length - 400);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  let exited = false;
  child.on("exit", () => {
    exited = true;
  });

  const stop = async () => {
    if (!exited && child.pid !== undefined) {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // already gone
      }
      for (let i = 0; i < 50 && !exited; i++) await sleep(100);
      if (!exited) {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    }
    await rm(state, { recursive: true, force: true });
  };

  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited) {
      await stop();
      throw new Error(`dev-server exited before it was healthy:\n${log.join("")}`);
    }
    try {
      const response = await fetch(`${base}/api/health`, { signal: AbortSignal.timeout(2_000) });
      if (response.status === 200) {
        // The dashboard runs on the product's documented local origin.
        return { port, url: `http://localhost:${port}`, log, stop };
      }
    } catch {
      // not listening yet
    }
    await sleep(500);
  }
  await stop();
  throw new Error(`GET /api/health did not answer 200 within ${timeoutMs} ms:\n${log.join("")}`);
}
