/**
 * A real PostgreSQL for the tests: PGlite (PostgreSQL compiled to WASM, from the npm registry) served
 * over the wire protocol by `pglite-server` on 127.0.0.1, in a child process that ends with the tests.
 * It accepts any user and password and speaks no TLS, so the tests connect with `ssl: "disable"`.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { connect, createServer } from "node:net";
import { resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    pgPort: number;
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

export default async function setup(project: TestProject) {
  const port = await freePort();
  const bin = resolve(import.meta.dirname, "../../../node_modules/.bin/pglite-server");
  const child = spawn(bin, ["--db=memory://", `--port=${port}`, "--host=127.0.0.1", "--max-connections=10"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout.on("data", (chunk) => (log += chunk));
  child.stderr.on("data", (chunk) => (log += chunk));
  // Ready when it accepts a TCP connection.
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`pglite-server exited: ${log}`);
    const open = await new Promise<boolean>((done) => {
      const probe = connect(port, "127.0.0.1", () => {
        probe.end();
        done(true);
      });
      probe.on("error", () => done(false));
    });
    if (open) break;
    await sleep(100);
  }
  project.provide("pgPort", port);
  return async () => {
    child.kill("SIGTERM");
    await once(child, "exit");
  };
}
