// Makes sure the browser tests have a Chromium: `npm run test:e2e` (and so `npm test`) runs this first.
// Uses CHROMIUM_PATH or /usr/bin/chromium when present; otherwise installs Debian's `chromium` with apt
// when this user may (root, or sudo without a password), and else says exactly what to run.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const path = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
if (existsSync(path)) process.exit(0);

const INSTALL = "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium";
const hasApt = spawnSync("sh", ["-c", "command -v apt-get"], { stdio: "ignore" }).status === 0;
const isRoot = process.getuid?.() === 0;
const canSudo = !isRoot && spawnSync("sudo", ["-n", "true"], { stdio: "ignore" }).status === 0;

if (hasApt && (isRoot || canSudo) && path === "/usr/bin/chromium") {
  console.log(`Chromium is missing: installing Debian's chromium for the browser tests (about a minute)…`);
  const command = isRoot ? ["sh", ["-c", INSTALL]] : ["sudo", ["-n", "sh", "-c", INSTALL]];
  const result = spawnSync(command[0], command[1], { stdio: "inherit" });
  if (result.status === 0 && existsSync(path)) process.exit(0);
  console.error(`Installing chromium failed (exit ${result.status}).`);
  process.exit(1);
}

console.error(
  [
    `The browser tests need Chromium at ${path}, and this user cannot install it.`,
    hasApt
      ? `Run: sudo sh -c '${INSTALL}'`
      : "Install a Chromium build and point CHROMIUM_PATH at its binary.",
    "Then run the tests again.",
  ].join("\n"),
);
process.exit(1);
