import { mkdirSync } from "node:fs";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { newSecrets } from "./scripts/dev-vars.mjs";

// The Worker's static assets directory must exist even when the dashboard has not been built.
mkdirSync("web/build", { recursive: true });

export default defineConfig(async () => {
  const migrations = await readD1Migrations("migrations");
  const secrets = await newSecrets();
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: { bindings: { TEST_MIGRATIONS: migrations, ...secrets } },
      }),
    ],
    test: {
      include: ["test/unit/**/*.test.ts", "test/worker/**/*.test.ts"],
      setupFiles: ["test/worker/setup.ts"],
    },
  };
});
