import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { newSecrets } from "./scripts/dev-vars.mjs";

// The Worker's static assets directory must exist even when the dashboard has not been built.
mkdirSync("web/build", { recursive: true });

/** A first-party plugin Worker, bundled as `wrangler deploy` would, so tests call the real thing. */
function bundlePlugin(name: string): string {
  const outdir = resolve(`.tmp/plugin-${name}`);
  execFileSync(
    "npx",
    ["wrangler", "deploy", "--dry-run", "-c", `plugins/${name}/wrangler.toml`, "--outdir", outdir],
    {
      stdio: "ignore",
      env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    },
  );
  return `${outdir}/index.js`;
}

function publicJwks(signingKey: string): string {
  const { kty, crv, x, kid } = JSON.parse(signingKey);
  return JSON.stringify({ keys: [{ kty, crv, x, kid, alg: "EdDSA", use: "sig" }] });
}

export default defineConfig(async () => {
  const migrations = await readD1Migrations("migrations");
  const secrets = await newSecrets();
  // The test plugin server (test/worker/manifest-server.ts) verifies the platform's signatures with it.
  process.env.UPDRAFT_TEST_JWKS = publicJwks(secrets.SIGNING_KEY);
  const runtime = { compatibilityDate: "2026-10-20", compatibilityFlags: ["nodejs_compat"], modules: true };
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          // Publication tests fetch manifests from 127.0.0.1 (test/worker/manifest-server.ts), as local
          // development may; the production rule itself is tested on publicationUrl.
          bindings: { TEST_MIGRATIONS: migrations, ...secrets, UPDRAFT_ALLOW_PRIVATE_NETWORK: "true" },
          serviceBindings: { MISBEHAVING_PLUGIN: "misbehaving-plugin" },
          workers: [
            ...["core", "s3", "slack", "email", "github", "postgres"].map((name) => ({
              ...runtime,
              name: `updraft-plugin-${name}`,
              scriptPath: bundlePlugin(name),
              bindings: {
                UPDRAFT_JWKS: publicJwks(secrets.SIGNING_KEY),
                UPDRAFT_ALLOW_PRIVATE_NETWORK: "true",
              },
            })),
            { ...runtime, name: "misbehaving-plugin", scriptPath: "test/fixtures/misbehaving-plugin.js" },
          ],
        },
      }),
    ],
    test: {
      include: ["test/unit/**/*.test.ts", "test/worker/**/*.test.ts"],
      setupFiles: ["test/worker/setup.ts"],
      // The test plugin server, and s3rver for a connector blueprint run end to end (test/worker/blueprints.test.ts).
      globalSetup: ["test/worker/manifest-server.ts", "plugins/s3/test/s3-server.ts"],
    },
  };
});
