/** SDK tests that run in plain Node: the Node host adapter, verification, key sources, definitions. */
import { join } from "node:path";
import { defineConfig } from "vitest/config";

// The SDK's own package.json would otherwise make Vite and Vitest cache into plugins/sdk/node_modules.
const repoModules = join(import.meta.dirname, "../../node_modules");

export default defineConfig({
  cacheDir: join(repoModules, ".vite/plugin-sdk"),
  test: {
    name: "plugin-sdk",
    root: import.meta.dirname,
    environment: "node",
    include: ["test/**/*.test.ts"],
    fsModuleCachePath: join(repoModules, ".vitest-cache/plugin-sdk"),
  },
});
