// Runs the SDK's conformance kit (plugins/sdk/conformance-cli.ts) against real plugins over HTTP: each
// plugin in PLUGINS (the first-party Workers and the jobs example) is started on a free port trusting a
// key pair made for this run, checked, and stopped (its whole process group), one after another.
// Prints every plugin's check lines under a heading and exits 1 if any check failed or a plugin did
// not start.
//   node scripts/conformance.mjs [core] [s3] [slack] [email] [github] [postgres] [jobs]     (names pick plugins; none means all)
import { spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort, NODE, ROOT, spawnGroup } from "../test/support/server.mjs";

const READY_TIMEOUT_MS = 60_000;

/**
 * A plugin to check: how to start it on `ports.http` (`ports.spare` is free for a second listener),
 * trusting `jwks` (a JWKS JSON), with `scratch` a directory of its own that is deleted afterwards.
 * @typedef {{
 *   id: string,
 *   name: string,
 *   start: (ports: { http: number, spare: number }, jwks: string, scratch: string) =>
 *     { command: string, args: string[], env: Record<string, string> },
 * }} PluginUnderTest
 */

/**
 * A first-party plugin Worker under `wrangler dev`, on its own.
 * @param {string} id its folder in plugins/
 * @returns {PluginUnderTest}
 */
const firstParty = (id) => ({
  id,
  name: `${id} (plugins/${id} under wrangler dev)`,
  start: (ports, jwks, scratch) => ({
    command: "npx",
    args: [
      "wrangler",
      "dev",
      "-c",
      `plugins/${id}/wrangler.toml`,
      "--port",
      String(ports.http),
      "--inspector-port",
      String(ports.spare),
      "--persist-to",
      scratch,
      // wrangler splits `--var` at the first colon only, so the JSON arrives intact. Keys inline win
      // over the PLATFORM binding, which nothing serves here; the network switch is production's.
      "--var",
      `UPDRAFT_JWKS:${jwks}`,
      "--var",
      "UPDRAFT_ALLOW_PRIVATE_NETWORK:false",
      "--show-interactive-dev-session=false",
    ],
    env: {
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      WRANGLER_SEND_METRICS: "false",
      X_LOCAL_OBSERVABILITY: "false",
    },
  }),
});

/** @type {PluginUnderTest[]} */
const PLUGINS = [
  firstParty("core"),
  firstParty("s3"),
  firstParty("slack"),
  firstParty("email"),
  firstParty("github"),
  firstParty("postgres"),
  {
    id: "jobs",
    name: "jobs (plugins/examples/jobs, written without the SDK)",
    start: (ports, jwks) => ({
      command: NODE,
      args: ["plugins/examples/jobs/server.mjs"],
      env: { PORT: String(ports.http), UPDRAFT_JWKS: jwks },
    }),
  },
];

/** A fresh Ed25519 key pair: the private JWK (with its kid) and the JWKS that publishes its public half. */
function keyPair() {
  const kid = `conformance-${Date.now().toString(36)}`;
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const privateJwk = { ...privateKey.export({ format: "jwk" }), kid };
  const jwks = { keys: [{ ...publicKey.export({ format: "jwk" }), kid, alg: "EdDSA", use: "sig" }] };
  return { privateJwk, jwks: JSON.stringify(jwks) };
}

/**
 * Starts a plugin in its own process group; `stop` ends the whole group (npx, wrangler, workerd).
 * @param {{ command: string, args: string[], env: Record<string, string> }} how
 */
function launch(how) {
  const group = spawnGroup(how);
  const stop = async () => {
    group.signal("SIGTERM");
    await Promise.race([group.exit, sleep(5_000)]);
    group.signal("SIGKILL");
  };
  return { log: group.log, stop, exited: group.exited };
}

/**
 * Resolves once GET {url}/manifest answers 200; rejects with the plugin's output when it exits first,
 * fails to build, or is not ready within READY_TIMEOUT_MS.
 * @param {string} url
 * @param {ReturnType<typeof launch>} plugin
 */
async function ready(url, plugin) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (plugin.exited()) throw new Error(`it exited before it answered:\n${plugin.log.join("")}`);
    // wrangler dev stays up after a failed build, waiting for an edit: nothing will answer.
    if (plugin.log.some((chunk) => chunk.includes("Build failed")))
      throw new Error(`it did not build:\n${plugin.log.join("")}`);
    try {
      const response = await fetch(`${url}/manifest`, { signal: AbortSignal.timeout(2_000) });
      await response.body?.cancel();
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(500);
  }
  throw new Error(
    `GET ${url}/manifest did not answer 200 within ${READY_TIMEOUT_MS} ms:\n${plugin.log.join("")}`,
  );
}

/**
 * The kit against `url`, its output streamed to ours; resolves with its exit code.
 * @param {string} url
 * @param {string} keyFile
 * @returns {Promise<number>}
 */
function check(url, keyFile) {
  const cli = spawn(NODE, ["plugins/sdk/conformance-cli.ts", url, "--key", keyFile], {
    cwd: ROOT,
    stdio: ["ignore", "inherit", "inherit"],
  });
  return new Promise((resolve) => {
    cli.on("error", () => resolve(1));
    cli.on("exit", (code) => resolve(code ?? 1));
  });
}

/** @type {Array<() => Promise<void>>} */
const running = [];
for (const name of /** @type {const} */ (["SIGINT", "SIGTERM"])) {
  process.on(name, () => {
    void Promise.all(running.map((stop) => stop())).finally(() => process.exit(130));
  });
}

const wanted = process.argv.slice(2);
const chosen = PLUGINS.filter((plugin) => wanted.length === 0 || wanted.includes(plugin.id));
if (chosen.length === 0) {
  console.error(`usage: node scripts/conformance.mjs [${PLUGINS.map((plugin) => plugin.id).join("] [")}]`);
  process.exit(2);
}

const scratch = await mkdtemp(join(tmpdir(), "updraft-conformance-"));
let failed = 0;
try {
  const { privateJwk, jwks } = keyPair();
  const keyFile = join(scratch, "signing-key.json");
  await writeFile(keyFile, JSON.stringify(privateJwk), { mode: 0o600 });
  for (const plugin of chosen) {
    console.log(`\n== ${plugin.name}`);
    const ports = { http: await freePort(), spare: await freePort() };
    const started = launch(plugin.start(ports, jwks, join(scratch, plugin.id)));
    running.push(started.stop);
    try {
      const url = `http://127.0.0.1:${ports.http}`;
      await ready(url, started);
      if ((await check(url, keyFile)) !== 0) failed++;
    } catch (error) {
      failed++;
      console.log(
        `✗ ${plugin.name} could not be checked: ${error instanceof Error ? error.message : String(error)}`,
      );
    } finally {
      await started.stop();
      running.splice(running.indexOf(started.stop), 1);
    }
  }
} finally {
  await rm(scratch, { recursive: true, force: true });
}
console.log(
  failed === 0
    ? `\nconformance: all ${chosen.length} plugins passed`
    : `\nconformance: ${failed} of ${chosen.length} plugins failed`,
);
process.exitCode = failed === 0 ? 0 : 1;
