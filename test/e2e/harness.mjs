// Browser-test harness: the real product (test/support/server.mjs) driven through Debian chromium
// with playwright-core; screenshots land in test-results/e2e/<suite>/.
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { chromium } from "playwright-core";

import { ROOT } from "../support/server.mjs";

export { freePort, ROOT, startServer } from "../support/server.mjs";
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

/**
 * Signs a new user up in the dashboard and creates their first tenant, ending on its pipelines page.
 * @param {import("playwright-core").Page} page
 * @param {{ name: string, email: string, password: string }} user
 * @param {{ name: string, slug: string }} tenant
 */
export async function signUpWithTenant(page, user, tenant) {
  await page.goto("/sign-up");
  await page.getByLabel("Name").fill(user.name);
  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Create account" }).click();
  await waitForPath(page, /^\/tenants\/new$/);
  await page.getByLabel("Name").fill(tenant.name);
  await page.getByRole("button", { name: "Create tenant" }).click();
  await waitForPath(page, new RegExp(`^/t/${tenant.slug}$`));
}

/**
 * Steps of one long browser test: after a failure the rest are skipped rather than failing for the
 * same reason, and the failing page is screenshotted with the server's last log lines printed.
 * @param {() => { page: import("playwright-core").Page } | undefined} browserOf
 * @param {() => { log: string[] } | undefined} serverOf
 */
export function stepper(browserOf, serverOf) {
  let broken = false;
  /**
   * @param {import("node:test").TestContext} t
   * @param {string} name
   * @param {() => Promise<void>} fn
   */
  return (t, name, fn) =>
    t.test(name, async (s) => {
      if (broken) return s.skip("an earlier step failed");
      try {
        await fn();
      } catch (error) {
        broken = true;
        const page = browserOf()?.page;
        if (page) await screenshot(page, `failed-${name.replaceAll(/\W+/g, "-")}`).catch(() => {});
        const server = serverOf();
        if (server) console.error(server.log.slice(-40).join(""));
        throw error;
      }
    });
}

/**
 * Listens with a test's own Node server (a plugin, a target) on 127.0.0.1 and answers its URL and a
 * `close` that also ends open keep-alive connections.
 * @param {import("node:http").Server} server
 */
export async function listenLocally(server) {
  await new Promise((done) => server.listen(0, "127.0.0.1", () => done(undefined)));
  const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
  return {
    url: `http://127.0.0.1:${port}`,
    /** @returns {Promise<void>} */
    close: () =>
      new Promise((done) => {
        server.closeAllConnections();
        server.close(() => done(undefined));
      }),
  };
}
