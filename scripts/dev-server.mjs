// Runs the product locally: .dev.vars, D1 migrations, then `wrangler dev` for the main Worker and
// every first-party plugin Worker in one process. Ctrl-C (or SIGTERM) stops everything it started.
// QUOTA_* environment variables (e.g. QUOTA_CONCURRENT_RUNS=500) override wrangler.toml's quotas for
// this run; a value that is not a positive integer stops it before anything starts.
//   node scripts/dev-server.mjs [--port 8787] [--persist-to .wrangler/state]
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { parseArgs } from "node:util";
import { ensureDevVars, ensurePluginDevVars, quotaVarsFromEnv, varArgs } from "./dev-vars.mjs";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: process.env.PORT || "8787" },
    "persist-to": { type: "string", default: ".wrangler/state" },
  },
});
const quotas = quotaVarsFromEnv(process.env);
if (quotas.errors.length > 0) {
  for (const error of quotas.errors) console.error(error);
  process.exit(2);
}
const env = {
  // wrangler's local trace capture (Local Explorer → Observability) adds a tail consumer to every
  // invocation and costs about 1 ms per plugin call; `X_LOCAL_OBSERVABILITY=true npm start` brings it back.
  X_LOCAL_OBSERVABILITY: "false",
  ...process.env,
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_SEND_METRICS: "false",
};

if (await ensureDevVars()) console.log("Created .dev.vars with a new master key and signing key.");
ensurePluginDevVars();
if (!existsSync("web/build/index.html")) {
  console.error("web/build is missing: run `npm run build:web` first (npm start does).");
  process.exit(1);
}

const migrate = spawnSync(
  "npx",
  ["wrangler", "d1", "migrations", "apply", "DB", "--local", "--persist-to", values["persist-to"]],
  { stdio: ["ignore", "inherit", "inherit"], env },
);
if (migrate.status !== 0) process.exit(migrate.status ?? 1);

const pluginConfigs = existsSync("plugins")
  ? readdirSync("plugins")
      .map((name) => `plugins/${name}/wrangler.toml`)
      .filter((path) => existsSync(path))
  : [];
const configs = ["wrangler.toml", ...pluginConfigs].flatMap((path) => ["-c", path]);
const wrangler = spawn(
  "npx",
  [
    "wrangler",
    "dev",
    ...configs,
    "--port",
    values.port,
    "--persist-to",
    values["persist-to"],
    "--show-interactive-dev-session=false",
    // The main Worker's quotas from QUOTA_* (`--var` wins over [vars] and .dev.vars).
    ...varArgs(quotas.vars),
  ],
  { stdio: ["ignore", "inherit", "inherit"], env },
);
const overridden = Object.entries(quotas.vars).map(([name, value]) => `${name}=${value}`);
if (overridden.length > 0) console.log(`Quotas from the environment: ${overridden.join(", ")}`);
console.log(`\nUpdraft: http://localhost:${values.port}\n`);

const stop = (signal) => {
  if (wrangler.exitCode === null) wrangler.kill(signal);
};
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));
wrangler.on("exit", (code) => process.exit(code ?? 0));
