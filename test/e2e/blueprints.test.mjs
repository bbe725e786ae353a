// The blueprint gallery on the New pipeline page: the ready pipelines with what each needs and how
// it starts; "Use this" puts one in the editor with its id as the slug (and in the URL, so a link opens
// it); creating it lands on the pipeline; a taken slug gets a free one; going back to the example asks
// before replacing edits; a connector that is not installed says to install it first.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  launchBrowser,
  screenshot,
  signUpWithTenant,
  startServer,
  stepper,
  waitForPath,
  waitForText,
} from "./harness.mjs";

const TENANT = "blueprint-lab";
const user = {
  name: "Bea Blueprint",
  email: `bea-${Date.now().toString(36)}@example.com`,
  password: "a long enough password",
};

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {Awaited<ReturnType<typeof launchBrowser>>} */
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser(server.url);
  await signUpWithTenant(browser.page, user, { name: "Blueprint Lab", slug: TENANT });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const step = stepper(
  () => browser,
  () => server,
);

/** @param {import("playwright-core").Page} page @param {string} id */
const card = (page, id) => page.locator(`[data-testid="blueprint-card"][data-blueprint="${id}"]`);

/** @param {import("playwright-core").Page} page @param {RegExp} pattern */
async function waitForSpec(page, pattern) {
  const editor = page.getByTestId("spec-editor");
  const deadline = Date.now() + 15_000;
  let last = "";
  while (Date.now() < deadline) {
    last = await editor.inputValue();
    if (pattern.test(last)) return last;
    await page.waitForTimeout(100);
  }
  throw new Error(`expected the editor to match ${pattern}, it holds: ${JSON.stringify(last.slice(0, 300))}`);
}

test("blueprint gallery: choose one, create it, and start from it by link", {
  timeout: 240_000,
}, async (t) => {
  const { page } = browser;

  await step(t, "New pipeline lists the blueprints with their plugins and triggers", async () => {
    await page.getByTestId("new-pipeline").click();
    await waitForPath(page, /\/pipelines\/new$/);
    await card(page, "fan-out").waitFor();
    // One card per blueprint the server lists, whatever else has been added beside the five below.
    const listed = await page.evaluate(async () => (await (await fetch("/api/blueprints")).json()).items);
    assert.equal(await page.getByTestId("blueprint-card").count(), listed.length);
    for (const id of ["forward-webhook", "daily-etl", "wait-then-notify", "fan-out", "failure-alert"]) {
      const plugins = card(page, id).locator("[data-testid='blueprint-plugins'] li");
      assert.deepEqual(await plugins.evaluateAll((li) => li.map((e) => e.getAttribute("data-plugin"))), [
        "core",
      ]);
    }
    await card(page, "daily-etl").locator("[data-trigger='schedule']").waitFor();
    await card(page, "forward-webhook").locator("[data-trigger='webhook']").waitFor();
    await waitForText(card(page, "fan-out").getByTestId("blueprint-triggers"), /by hand/);
    assert.equal(
      await card(page, "fan-out").getByTestId("blueprint-install").count(),
      0,
      "core needs no installation",
    );
    // The example stays the default.
    await waitForSpec(page, /^name: Hello Updraft/);
    assert.equal(await page.getByTestId("pipeline-slug").inputValue(), "hello-updraft");
    await screenshot(page, "gallery");
  });

  await step(t, "Use this puts the blueprint in the editor, its id in the slug and the URL", async () => {
    await card(page, "fan-out").getByTestId("blueprint-use").click();
    await waitForSpec(page, /^name: Fan out over a list/);
    assert.equal(await page.getByTestId("pipeline-slug").inputValue(), "fan-out");
    await waitForPath(page, /\/pipelines\/new\?blueprint=fan-out$/);
    await waitForText(page.getByTestId("validation-status"), /^Valid$/);
    await waitForText(page.getByTestId("blueprint-chosen"), /Fan out over a list/);
    assert.equal(await page.getByTestId("blueprint-list").isHidden(), true, "the gallery collapses");
    await screenshot(page, "editor-filled");
  });

  await step(t, "creating it lands on the pipeline with its three tasks", async () => {
    await page.getByTestId("save").click();
    await waitForPath(page, new RegExp(`^/t/${TENANT}/pipelines/fan-out$`));
    await waitForText(page.locator("h1"), /^Fan out over a list$/);
    await waitForText(page.getByTestId("pipeline-version"), /^v1$/);
    const spec = await waitForSpec(page, /id: summary/);
    assert.deepEqual(
      [...spec.matchAll(/^ {2}- id: (\S+)$/gm)].map((m) => m[1]),
      ["list", "each", "summary"],
    );
    const saved = await page.evaluate(async (tenant) => {
      const response = await fetch(`/api/tenants/${tenant}/pipelines/fan-out`);
      return response.json();
    }, TENANT);
    assert.deepEqual(
      saved.spec.tasks.map((/** @type {{ id: string }} */ task) => task.id),
      ["list", "each", "summary"],
    );
    await screenshot(page, "pipeline");
  });

  await step(t, "a link with ?blueprint opens it, with a free slug when its id is taken", async () => {
    await page.goto(`/t/${TENANT}/pipelines/new?blueprint=fan-out`);
    await waitForSpec(page, /^name: Fan out over a list/);
    await waitForText(page.getByTestId("slug-note"), /"fan-out" exists already/);
    assert.equal(await page.getByTestId("pipeline-slug").inputValue(), "fan-out-2");
    await screenshot(page, "slug-taken");
  });

  await step(t, "back to the example asks before replacing edits", async () => {
    await page.getByTestId("spec-editor").fill("name: My own\ntasks: []\n");
    await page.getByTestId("blueprint-reset").click();
    const dialog = page.getByTestId("blueprint-replace");
    await waitForText(dialog, /Your edits in the editor are replaced by the example spec/);
    await screenshot(page, "replace-dialog");
    await page.getByTestId("blueprint-replace-confirm").click();
    await waitForSpec(page, /^name: Hello Updraft/);
    await waitForPath(page, /\/pipelines\/new$/);
    assert.equal(await page.getByTestId("pipeline-slug").inputValue(), "hello-updraft");
    assert.equal(await page.getByTestId("blueprint-list").isVisible(), true, "the gallery opens again");
  });

  await step(t, "a connector that is not installed says to install it first", async () => {
    // A blueprint that needs a connector the marketplace does not even have, added to the answer.
    await page.route("**/api/blueprints", async (route) => {
      const response = await route.fetch();
      const body = await response.json();
      const base = body.items[0];
      body.items.push({
        ...base,
        id: "notes-digest",
        title: "Notes digest",
        plugins: ["core", "acme-notes"],
      });
      await route.fulfill({ response, json: body });
    });
    await page.reload();
    const needs = card(page, "notes-digest").getByTestId("blueprint-install");
    await waitForText(needs, /^install acme-notes first$/);
    assert.equal(await needs.getAttribute("href"), `/t/${TENANT}/marketplace/acme-notes`);
    await screenshot(page, "install-first");
    await page.unroute("**/api/blueprints");
  });

  await step(t, "on a narrow window the cards stack without overflowing", async () => {
    await page.setViewportSize({ width: 760, height: 900 });
    const overflow = await page.evaluate(
      () =>
        [...document.querySelectorAll("[data-testid='blueprint-card']")].filter(
          (card) => card.scrollWidth > card.clientWidth,
        ).length,
    );
    assert.equal(overflow, 0);
    await screenshot(page, "narrow");
    await page.setViewportSize({ width: 1440, height: 900 });
  });

  assert.deepEqual(
    browser.consoleErrors.filter((e) => !/status of 4\d\d/.test(e)),
    [],
  );
});
