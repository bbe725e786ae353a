// Builds the dashboard into web/build and adds the offline API reference assets (swagger-ui).
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: "inherit" });
run("npx", ["svelte-kit", "sync"], "web");
run("npx", ["vite", "build", "--logLevel", "warn"], "web");

const require = createRequire(import.meta.url);
const swagger = dirname(require.resolve("swagger-ui-dist/package.json"));
const out = join("web", "build", "docs-assets");
mkdirSync(out, { recursive: true });
for (const file of ["swagger-ui.css", "swagger-ui-bundle.js"])
  copyFileSync(join(swagger, file), join(out, file));
writeFileSync(
  join(out, "init.js"),
  'window.ui = SwaggerUIBundle({ url: "/api/openapi.json", dom_id: "#docs", deepLinking: true });\n',
);
