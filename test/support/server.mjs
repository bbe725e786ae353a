// Runs the real product (scripts/dev-server.mjs → wrangler dev) on a free port with its own persisted
// state, for the browser tests and the benchmark. Stop it with `stop()`: it ends the whole process group.
// `kill()` SIGKILLs that group instead, as a crash would, and keeps the state for a restart on it.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
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
 * Live (not zombie) processes of a process group, as "pid command", read from /proc (Linux only).
 * @param {number} group
 */
async function groupMembers(group) {
  const members = [];
  for (const pid of await readdir("/proc").catch(() => [])) {
    if (!/^\d+$/.test(pid)) continue;
    const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
    // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses, so split after its last ")".
    const close = stat.lastIndexOf(")");
    const [state, , pgrp] = stat.slice(close + 2).split(" ");
    if (Number(pgrp) === group && state !== "Z")
      members.push(`${pid} ${stat.slice(stat.indexOf("(") + 1, close)}`);
  }
  return members;
}

/**
 * Starts the product and resolves once GET /api/health answers 200.
 * `state` reuses a directory (a restart); the caller owns it then and `stop()` leaves it in place,
 * while a directory created here is deleted by `stop()`. `env` adds environment variables for the
 * product, e.g. `{ QUOTA_DELIVERIES_PER_MINUTE: "100000" }` (scripts/dev-server.mjs passes QUOTA_* to
 * the Worker as vars; a bad value makes it exit, and this rejects with its message).
 * @param {{ timeoutMs?: number, state?: string, env?: Record<string, string> }} [options]
 */
export async function startServer({ timeoutMs = 60_000, state: reused, env: extra = {} } = {}) {
  if (!existsSync(join(ROOT, "web", "build", "index.html"))) {
    throw new Error(
      "web/build is missing: run `npm run build:web` (npm run test:e2e does) before the e2e tests.",
    );
  }
  const port = await freePort();
  const state = reused ?? (await mkdtemp(join(tmpdir(), "updraft-e2e-state-")));
  const bin = join(ROOT, "node_modules", ".bin");
  const node = existsSync(join(bin, "node")) ? join(bin, "node") : process.execPath;
  const child = spawn(node, ["scripts/dev-server.mjs", "--port", String(port), "--persist-to", state], {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    // Node 24 from node_modules/.bin for wrangler too, even when the runner itself is the system Node.
    env: { ...process.env, ...extra, PATH: `${bin}${delimiter}${process.env.PATH ?? ""}`, FORCE_COLOR: "0" },
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

  /** Signals the whole group (dev-server, wrangler, workerd): the child is its leader (detached). */
  const signal = (/** @type {NodeJS.Signals} */ name) => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, name);
    } catch {
      // already gone
    }
  };

  /** A crash: no process of the group gets to clean up or flush anything. The state stays. */
  const kill = async () => {
    signal("SIGKILL");
    const group = child.pid ?? -1;
    for (let i = 0; i < 100 && (!exited || (await groupMembers(group)).length > 0); i++) await sleep(50);
    const left = await groupMembers(group);
    if (left.length > 0) throw new Error(`processes of the product survived SIGKILL: ${left.join(", ")}`);
  };

  const stop = async () => {
    if (!exited) {
      signal("SIGTERM");
      for (let i = 0; i < 50 && !exited; i++) await sleep(100);
      if (!exited) signal("SIGKILL");
    }
    if (reused === undefined) await rm(state, { recursive: true, force: true });
  };

  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited) {
      await stop();
      throw new Error(`dev-server exited before it was healthy:\n${log.join("")}`);
    }
    // wrangler dev stays up after a failed build (it waits for the next edit): nothing will answer.
    if (log.some((chunk) => chunk.includes("Build failed"))) {
      await stop();
      throw new Error(`the Worker did not build:\n${log.join("")}`);
    }
    try {
      const response = await fetch(`${base}/api/health`, { signal: AbortSignal.timeout(2_000) });
      if (response.status === 200) {
        // The dashboard runs on the product's documented local origin.
        return { port, url: `http://localhost:${port}`, state, log, stop, kill };
      }
    } catch {
      // not listening yet
    }
    await sleep(500);
  }
  await stop();
  throw new Error(`GET /api/health did not answer 200 within ${timeoutMs} ms:\n${log.join("")}`);
}
