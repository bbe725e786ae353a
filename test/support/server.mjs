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

const BIN = join(ROOT, "node_modules", ".bin");
/** Node 24 from node_modules/.bin, for wrangler too, even when the runner itself is an older system Node. */
export const NODE = existsSync(join(BIN, "node")) ? join(BIN, "node") : process.execPath;

/**
 * Starts a process as the leader of its own process group (so it can be signalled whole: npx, wrangler,
 * workerd), with node_modules/.bin first on PATH, keeping the last `keep` chunks it printed.
 * @param {{ command: string, args: string[], env?: Record<string, string>, keep?: number }} how
 */
export function spawnGroup({ command, args, env = {}, keep: most = 200 }) {
  const child = spawn(command, args, {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env, PATH: `${BIN}${delimiter}${process.env.PATH ?? ""}`, FORCE_COLOR: "0" },
  });
  /** @type {string[]} */
  const log = [];
  const keep = (/** @type {Buffer} */ chunk) => {
    log.push(chunk.toString());
    if (log.length > most) log.splice(0, log.length - most);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  let exited = false;
  const exit = new Promise((resolve) => {
    child.on("exit", resolve);
    child.on("error", (error) => {
      keep(Buffer.from(`${command}: ${error.message}\n`));
      resolve(null);
    });
  }).then(() => {
    exited = true;
  });
  /** Signals the whole group; nothing when it is gone already. */
  const signal = (/** @type {NodeJS.Signals} */ name) => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, name);
    } catch {
      // already gone
    }
  };
  return { pid: child.pid, log, signal, exit, exited: () => exited };
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
  const child = spawnGroup({
    command: NODE,
    args: ["scripts/dev-server.mjs", "--port", String(port), "--persist-to", state],
    env: extra,
    keep: 400,
  });
  const { log, signal } = child;

  /** A crash: no process of the group gets to clean up or flush anything. The state stays. */
  const kill = async () => {
    signal("SIGKILL");
    const group = child.pid ?? -1;
    for (let i = 0; i < 100 && (!child.exited() || (await groupMembers(group)).length > 0); i++)
      await sleep(50);
    const left = await groupMembers(group);
    if (left.length > 0) throw new Error(`processes of the product survived SIGKILL: ${left.join(", ")}`);
  };

  const stop = async () => {
    if (!child.exited()) {
      signal("SIGTERM");
      for (let i = 0; i < 50 && !child.exited(); i++) await sleep(100);
      if (!child.exited()) signal("SIGKILL");
    }
    if (reused === undefined) await rm(state, { recursive: true, force: true });
  };

  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exited()) {
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
