import { fileURLToPath } from "node:url";
import adapter from "@sveltejs/adapter-static";
import { sveltekit } from "@sveltejs/kit/vite";
import { defineConfig } from "vite";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  plugins: [
    sveltekit({
      // A static SPA: the Worker serves web/build and falls back to index.html for every dashboard path.
      adapter: adapter({ pages: "build", assets: "build", fallback: "index.html" }),
    }),
  ],
  resolve: {
    // Plain Vite aliases (mirrored in tsconfig "paths"): Kit 3's `alias` option is deprecated and
    // subpath imports would need a package.json of web/'s own.
    alias: {
      $lib: here("./src/lib"),
      $contracts: here("../worker/contracts"),
    },
  },
  build: {
    // elkjs (the run graph's layout, loaded on demand by the run page) is one 1.4 MB chunk by design.
    chunkSizeWarningLimit: 1600,
  },
  server: {
    // `vite dev` against a running `wrangler dev` (npm start) on 8787.
    proxy: { "/api": "http://127.0.0.1:8787", "/hooks": "http://127.0.0.1:8787" },
  },
});
