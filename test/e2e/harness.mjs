// Browser-test harness: runs the real product (scripts/dev-server.mjs → wrangler dev) on a free port with
// its own persisted state, and drives Debian's chromium through playwright-core.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { basename, delimiter, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
export const RESULTS = join(ROOT, "test-results", "e2e");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

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
 * Starts the product and resolves once GET /api/health answers 200.
 * @param {{ timeoutMs?: number }} [options]
 */
export async function startServer({ timeoutMs = 60_000 } = {}) {
  if (!existsSync(join(ROOT, "web", "build", "index.html"))) {
    throw new Error(
      "web/build is missing: run `npm run build:web` (npm run test:e2e does) before the e2e tests.",
    );
  }
  const port = await freePort();
  const state = await mkdtemp(join(tmpdir(), "updraft-e2e-state-"));
  const bin = join(ROOT, "node_modules", ".bin");
  const node = existsSync(join(bin, "node")) ? join(bin, "node") : process.execPath;
  const child = spawn(node, ["scripts/dev-server.mjs", "--port", String(port), "--persist-to", state], {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    // Node 24 from node_modules/.bin for wrangler too, even when the runner itself is the system Node.
    env: { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ""}`, FORCE_COLOR: "0" },
  });
  /** @type {string[]} */
  const log = [];
  const keep = (/** @type {Buffer} */ chunk) => {
    log.push(chunk.toString());
    if (log.length > 400) log.splice(0, log.length - 400);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  let exited = false;
  child.on("exit", () => {
    exited = true;
  });

  const stop = async () => {
    if (!exited && child.pid !== undefined) {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // already gone
      }
      for (let i = 0; i < 50 && !exited; i++) await sleep(100);
      if (!exited) {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    }
    await rm(state, { recursive: true, force: true });
  };

  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited) {
      await stop();
      throw new Error(`dev-server exited before it was healthy:\n${log.join("")}`);
    }
    try {
      const response = await fetch(`${base}/api/health`, { signal: AbortSignal.timeout(2_000) });
      if (response.status === 200) {
        // The dashboard runs on the product's documented local origin.
        return { port, url: `http://localhost:${port}`, log, stop };
      }
    } catch {
      // not listening yet
    }
    await sleep(500);
  }
  await stop();
  throw new Error(`GET /api/health did not answer 200 within ${timeoutMs} ms:\n${log.join("")}`);
}

/**
 * A fresh browser profile (its own cookie jar): one per signed-in user.
 * @param {string} baseURL
 */
export async function launchBrowser(baseURL) {
  const profile = await mkdtemp(join(tmpdir(), "updraft-e2e-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    baseURL,
    viewport: { width: 1440, height: 900 },
    permissions: ["clipboard-read", "clipboard-write"],
  });
  context.setDefaultTimeout(15_000);
  const page = context.pages()[0] ?? (await context.newPage());
  /** @type {string[]} */
  const consoleErrors = [];
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });
  page.on("pageerror", (error) => consoleErrors.push(String(error)));
  return {
    context,
    page,
    consoleErrors,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

let shots = 0;
// node --test runs each file in its own process: its pictures go in a folder named after the file.
const suite = basename(process.argv[1] ?? "e2e").replace(/\.test\.m?js$/, "");

/**
 * Saves a full-page screenshot as test-results/e2e/<test file>/NN-name.png once the page has settled.
 * @param {import("playwright-core").Page} page
 * @param {string} name
 */
export async function screenshot(page, name) {
  const dir = join(RESULTS, suite);
  await mkdir(dir, { recursive: true });
  await page.waitForLoadState("networkidle").catch(() => {});
  // No spinners in the picture.
  await page
    .getByTestId("loading")
    .first()
    .waitFor({ state: "detached", timeout: 5_000 })
    .catch(() => {});
  shots += 1;
  const file = join(dir, `${String(shots).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * Waits until the locator's text matches; fails with what it last saw.
 * @param {import("playwright-core").Locator} locator
 * @param {RegExp} pattern
 * @param {number} [timeoutMs]
 */
export async function waitForText(locator, pattern, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    // biome-ignore lint/performance/useDomNodeTextContent: Playwright's Locator.innerText keeps the rendered word breaks between cells.
    last = (await locator.innerText({ timeout: 1_000 }).catch(() => "")) ?? "";
    if (pattern.test(last)) return last;
    await sleep(100);
  }
  throw new Error(`expected text matching ${pattern}, last saw: ${JSON.stringify(last.slice(0, 500))}`);
}

/**
 * Waits until the page's path (and search) matches.
 * @param {import("playwright-core").Page} page
 * @param {RegExp} pattern
 */
export async function waitForPath(page, pattern, timeoutMs = 15_000) {
  await page.waitForURL((url) => pattern.test(url.pathname + url.search), { timeout: timeoutMs });
}
