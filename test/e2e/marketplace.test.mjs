// The plugin marketplace in the dashboard: browsing and searching (core is first-party), a plugin's page
// with its connection settings and operators as field lists, and publishing by URL: an invalid manifest
// shows its error paths, a valid one lands on its new page, a changed manifest under the same version is
// refused, and a second version can be chosen from the versions list. The plugins are served by small
// Node servers on 127.0.0.1, which the product may reach locally.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, test } from "node:test";
import {
  launchBrowser,
  listenLocally,
  screenshot,
  signUpWithTenant,
  startServer,
  stepper,
  waitForPath,
  waitForText,
} from "./harness.mjs";

const TENANT = "plugin-lab";
const user = {
  name: "Pat Publisher",
  email: `pat-${Date.now().toString(36)}@example.com`,
  password: "a long enough password",
};

/** What the good plugin serves; the steps change its version and description. */
const plugin = { version: "1.0.0", description: "Create notes and wait for new ones in Acme Notes." };

function goodManifest() {
  return {
    protocol: 1,
    name: "acme-notes",
    version: plugin.version,
    title: "Acme Notes",
    description: plugin.description,
    categories: ["productivity", "notes"],
    icon: null,
    homepage: "https://notes.example.com/docs/updraft",
    connection: {
      type: "object",
      properties: {
        api_key: { type: "string", writeOnly: true, description: "A key from Settings → API in Acme Notes." },
        workspace: { type: "string", description: "The workspace's slug." },
        region: { enum: ["us", "eu"], default: "us" },
      },
      required: ["api_key", "workspace"],
    },
    operators: [
      {
        name: "create-note",
        description: "Creates a note and returns its id and URL.",
        kind: "action",
        input: {
          type: "object",
          properties: {
            title: { type: "string", description: "Shown as the note's heading." },
            body: { type: "string" },
            tags: { type: "array", items: { type: "string" } },
            pinned: { type: "boolean", default: false },
          },
          required: ["title"],
        },
        output: {
          type: "object",
          properties: { id: { type: "string" }, url: { type: "string", format: "uri" } },
          required: ["id", "url"],
        },
        timeout: "30s",
      },
      {
        name: "note-created",
        description: "Waits until a note appears in a folder.",
        kind: "sensor",
        input: {
          type: "object",
          properties: { folder: { type: "string" }, since: { type: "string", format: "date-time" } },
          required: ["folder"],
        },
        output: { type: "object", properties: { notes: { type: "array", items: { type: "object" } } } },
        timeout: "10m",
      },
    ],
  };
}

/** The envelope holds, but the version is not semver and an operator's input schema is broken. */
const brokenManifest = {
  ...goodManifest(),
  name: "acme-broken",
  version: "one",
  operators: [{ ...goodManifest().operators[0], input: { type: 5 } }],
};

/**
 * A plugin server on 127.0.0.1 answering GET /manifest.
 * @param {() => unknown} manifest
 * @returns {Promise<{ url: string, close: () => Promise<void> }>}
 */
async function servePlugin(manifest) {
  const server = createServer((request, response) => {
    if (request.url !== "/manifest") {
      response.writeHead(404, { "content-type": "application/json" });
      return response.end('{"error":"not found"}');
    }
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify(manifest()));
  });
  return listenLocally(server);
}

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {Awaited<ReturnType<typeof launchBrowser>>} */
let browser;
/** @type {Awaited<ReturnType<typeof servePlugin>>} */
let good;
/** @type {Awaited<ReturnType<typeof servePlugin>>} */
let broken;

before(async () => {
  good = await servePlugin(goodManifest);
  broken = await servePlugin(() => brokenManifest);
  server = await startServer();
  browser = await launchBrowser(server.url);
  await signUpWithTenant(browser.page, user, { name: "Plugin Lab", slug: TENANT });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await good?.close();
  await broken?.close();
});

const step = stepper(
  () => browser,
  () => server,
);

/** @param {import("playwright-core").Page} page @param {string} name */
const card = (page, name) => page.locator(`[data-testid="plugin-card"][data-plugin="${name}"]`);

/** @param {import("playwright-core").Page} page @param {string} url */
async function publish(page, url) {
  await page.getByTestId("publish-url").fill(url);
  await page.getByTestId("publish-submit").click();
}

test("plugin marketplace: browse, search, a plugin's page and publishing by URL", {
  timeout: 300_000,
}, async (t) => {
  const { page } = browser;

  await step(t, "the marketplace lists core as a first-party plugin", async () => {
    await page.getByTestId("nav-marketplace").click();
    await waitForPath(page, new RegExp(`^/t/${TENANT}/marketplace$`));
    const core = card(page, "core");
    await core.waitFor();
    await waitForText(core.getByTestId("plugin-publisher"), /first-party/);
    await waitForText(core.getByTestId("plugin-version"), /^v\d+\.\d+\.\d+/);
    assert.equal(await core.getByTestId("private-badge").count(), 0, "core is public");
    assert.equal(await page.getByTestId("nav-marketplace").getAttribute("aria-current"), "page");
    await screenshot(page, "marketplace");
  });

  await step(t, "search and the category filter narrow the list and stay in the URL", async () => {
    await page.getByTestId("plugin-search").fill("no plugin is called this");
    await waitForPath(page, /\?q=no/);
    await page.getByTestId("plugins-empty").waitFor();
    await waitForText(page.getByTestId("plugins-empty"), /Nothing matches/);
    await screenshot(page, "search-empty");

    await page.getByTestId("plugin-search").fill("core");
    await waitForPath(page, /\?q=core$/);
    await card(page, "core").waitFor();
    await page.getByTestId("plugin-category").selectOption("utility");
    await waitForPath(page, /category=utility/);
    await card(page, "core").waitFor();
    await screenshot(page, "search-core");
  });

  await step(t, "core's page shows its connection and operators with their schemas", async () => {
    await card(page, "core").getByTestId("plugin-link").click();
    await waitForPath(page, new RegExp(`^/t/${TENANT}/marketplace/core$`));
    await waitForText(page.getByTestId("plugin-publisher"), /first-party/);
    const http = page.locator('[data-testid="operator"][data-operator="http"]');
    await waitForText(http.getByTestId("operator-kind"), /^action$/);
    await waitForText(http.getByTestId("operator-timeout"), /\d+[smh]/);
    await http.locator('[data-testid="operator-input"] [data-field="url"]').waitFor();
    assert.ok((await page.getByTestId("operator").count()) >= 4, "core has its operators listed");
    assert.equal(await page.getByRole("link", { name: "Marketplace" }).first().isVisible(), true);
    await screenshot(page, "core-page");
  });

  await step(t, "publishing an invalid manifest shows each problem with its path", async () => {
    await page
      .getByRole("navigation", { name: "Breadcrumb" })
      .getByRole("link", { name: "Marketplace" })
      .click();
    await waitForPath(page, /\/marketplace(\?.*)?$/);
    await page.getByTestId("open-publish").click();
    await screenshot(page, "publish-form");
    await publish(page, broken.url);
    const error = page.getByTestId("publish-error");
    await waitForText(error, /manifest is not valid/);
    await waitForText(error, /manifest\.operators\[0\]\.input\.type/);
    await waitForText(error, /manifest\.version/);
    await screenshot(page, "publish-invalid");
  });

  await step(t, "publishing a valid manifest lands on its page with the secret field marked", async () => {
    await publish(page, good.url);
    await waitForPath(page, new RegExp(`^/t/${TENANT}/marketplace/acme-notes$`));
    await waitForText(page.locator("h1"), /^Acme Notes$/);
    await page.getByTestId("private-badge").waitFor();
    assert.equal(await page.getByTestId("operator").count(), 2);
    const sensor = page.locator('[data-testid="operator"][data-operator="note-created"]');
    await waitForText(sensor.getByTestId("operator-kind"), /^sensor$/);
    await waitForText(sensor.getByTestId("operator-timeout"), /10m/);
    const apiKey = page.locator('[data-testid="connection"] [data-field="api_key"]');
    assert.equal(await apiKey.getAttribute("data-secret"), "true");
    await waitForText(apiKey, /required/);
    await waitForText(apiKey.getByTestId("secret-flag"), /^secret$/);
    const workspace = page.locator('[data-testid="connection"] [data-field="workspace"]');
    assert.equal(await workspace.getAttribute("data-secret"), "false");
    await waitForText(
      page.locator('[data-operator="create-note"] [data-testid="operator-input"] [data-field="tags"]'),
      /array of string/,
    );
    await screenshot(page, "acme-notes-page");
  });

  await step(t, "the new plugin is listed as private to the tenant", async () => {
    await page.getByTestId("nav-marketplace").click();
    await waitForPath(page, new RegExp(`^/t/${TENANT}/marketplace$`));
    const acme = card(page, "acme-notes");
    await acme.getByTestId("private-badge").waitFor();
    await waitForText(acme.getByTestId("plugin-publisher"), new RegExp(TENANT));
    await screenshot(page, "marketplace-with-private");
  });

  await step(t, "a changed manifest under a published version is refused with its reason", async () => {
    plugin.description = "Something else under the same version.";
    await page.getByTestId("open-publish").click();
    await publish(page, good.url);
    await waitForText(page.getByTestId("publish-error"), /already published with a different manifest/);
    await screenshot(page, "publish-conflict");
  });

  await step(t, "a second version is listed and an older one can be viewed", async () => {
    plugin.version = "1.1.0";
    await publish(page, good.url);
    await waitForPath(page, /\/marketplace\/acme-notes$/);
    const versions = page.getByTestId("plugin-version-item");
    await page.locator('[data-testid="plugin-version-item"][data-version="1.0.0"]').waitFor();
    assert.equal(await versions.first().getAttribute("data-version"), "1.1.0", "newest first");
    await page.locator('[data-testid="plugin-version-item"][data-version="1.0.0"]').click();
    await waitForPath(page, /\?version=1\.0\.0$/);
    await waitForText(page.getByTestId("older-version"), /Viewing version 1\.0\.0/);
    await page.locator('[data-operator="create-note"]').waitFor();
    await screenshot(page, "older-version");
  });

  assert.deepEqual(
    browser.consoleErrors.filter((e) => !/status of 4\d\d/.test(e)),
    [],
  );
});
