// Installing a plugin from the dashboard and using it: publish a plugin by URL, install it with its
// connection settings (the secret in a password input; a 422 shown at its field, a taken name's 409 at
// the name), see the installation with its secret masked, test the connection, find the operator's
// `uses:` line in the pipeline editor, run a pipeline that uses it, upgrade it to a new version keeping
// the secret, and uninstall it: refused while a pipeline uses it, done once the pipeline changed.
//
// The plugin is a small Node server on 127.0.0.1. It does not verify the platform's request signatures
// (the worker tests do, against the SDK's verifier); it records what each call carried, so the test
// checks the connection the run was given independently of what the dashboard shows.
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

const TENANT = "notes-lab";
const PLUGIN = "acme-notes";
const PIPELINE = "daily-note";
const user = {
  name: "Ines Installer",
  email: `ines-${Date.now().toString(36)}@example.com`,
  password: "a long enough password",
};
const viewer = { ...user, name: "Vic Viewer", email: `vic-${Date.now().toString(36)}@example.com` };

/** The version the plugin serves; the upgrade step bumps it. */
const plugin = { version: "1.0.0" };

function manifest() {
  return {
    protocol: 1,
    name: PLUGIN,
    version: plugin.version,
    title: "Acme Notes",
    description: "Create notes in Acme Notes.",
    categories: ["productivity"],
    icon: null,
    homepage: null,
    connection: {
      type: "object",
      properties: {
        api_key: { type: "string", writeOnly: true, description: "A key from Settings → API in Acme Notes." },
        workspace: { type: "string", description: "The workspace's slug." },
        region: { enum: ["us", "eu"], default: "us", description: "Where the workspace lives." },
        archive: { type: "boolean", description: "Archive notes older than a year" },
      },
      required: ["api_key", "workspace"],
    },
    operators: [
      {
        name: "create-note",
        description: "Creates a note and returns its id.",
        kind: "action",
        input: {
          type: "object",
          properties: {
            title: { type: "string", description: "The note's heading." },
            body: { type: "string" },
          },
          required: ["title"],
        },
        output: {
          type: "object",
          properties: { id: { type: "string" }, workspace: { type: "string" } },
          required: ["id"],
        },
        timeout: "30s",
      },
    ],
  };
}

/** @type {Array<{ path: string, body: any }>} */
const calls = [];

/** @param {import("node:http").IncomingMessage} request */
async function jsonOf(request) {
  let text = "";
  for await (const chunk of request) text += chunk;
  return text ? JSON.parse(text) : null;
}

/** The plugin: its manifest, the connection test (`api_key` "good" passes) and one operator. */
async function servePlugin() {
  const server = createServer(async (request, response) => {
    const reply = (/** @type {number} */ status, /** @type {unknown} */ body) => {
      response.writeHead(status, { "content-type": "application/json", "updraft-protocol": "1" });
      response.end(JSON.stringify(body));
    };
    if (request.method === "GET" && request.url === "/manifest") return reply(200, manifest());
    if (request.method !== "POST") return reply(404, { error: "not found" });
    const body = await jsonOf(request);
    calls.push({ path: request.url ?? "", body });
    if (request.url === "/connection/test") {
      const { api_key, workspace } = body.connection ?? {};
      return reply(200, {
        ok: api_key === "good",
        detail: api_key === "good" ? `Signed in to workspace ${workspace}` : "Acme Notes refused the API key",
      });
    }
    if (request.url === "/operators/create-note") {
      return reply(200, {
        status: "success",
        output: { id: `note-${calls.length}`, workspace: body.connection?.workspace ?? "none" },
      });
    }
    return reply(404, { status: "failure", error: "no such operator", retryable: false });
  });
  return listenLocally(server);
}

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {Awaited<ReturnType<typeof launchBrowser>>} */
let browser;
/** @type {Awaited<ReturnType<typeof servePlugin>>} */
let acme;

before(async () => {
  acme = await servePlugin();
  server = await startServer();
  browser = await launchBrowser(server.url);
  await signUpWithTenant(browser.page, user, { name: "Notes Lab", slug: TENANT });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await acme?.close();
});

const step = stepper(
  () => browser,
  () => server,
);

/** @param {import("playwright-core").Page} page */
async function publish(page) {
  await page.getByTestId("nav-marketplace").click();
  await waitForPath(page, /\/marketplace$/);
  await page.getByTestId("open-publish").click();
  await page.getByTestId("publish-url").fill(acme.url);
  await page.getByTestId("publish-submit").click();
  await waitForPath(page, new RegExp(`/marketplace/${PLUGIN}$`));
}

/** @param {import("playwright-core").Locator} scope @param {string} field */
const setting = (scope, field) => scope.locator(`[data-testid="setting"][data-field="${field}"]`);

/** @param {import("playwright-core").Page} page */
const installation = (page) => page.locator(`[data-testid="installation"][data-name="${PLUGIN}"]`);

/** @param {import("playwright-core").Page} page @param {string} spec */
async function saveSpec(page, spec) {
  await page.getByTestId("spec-editor").fill(spec);
  await waitForText(page.getByTestId("validation-status"), /^Valid$/);
  await page.getByTestId("save").click();
}

test("installations: install, test, use in a pipeline, upgrade, uninstall", {
  timeout: 300_000,
}, async (t) => {
  const { page } = browser;

  await step(t, "the install form is generated from the connection schema", async () => {
    await publish(page);
    await page.getByTestId("open-install").click();
    const form = page.getByTestId("install-form");
    await form.waitFor();
    assert.equal(await form.getByTestId("install-version").inputValue(), "1.0.0");
    assert.equal(await form.getByTestId("install-name").inputValue(), PLUGIN);
    const apiKey = setting(form, "api_key").getByTestId("setting-input");
    assert.equal(await apiKey.getAttribute("type"), "password");
    assert.equal(await apiKey.inputValue(), "", "a secret is never prefilled");
    await waitForText(setting(form, "api_key"), /\*[\s\S]*secret[\s\S]*Settings → API/);
    assert.equal(await setting(form, "region").getByTestId("setting-input").inputValue(), '"us"');
    assert.equal(
      await setting(form, "archive").getByTestId("setting-input").getAttribute("type"),
      "checkbox",
    );
    await screenshot(page, "install-form");
  });

  await step(t, "a missing required setting is shown at its field", async () => {
    const form = page.getByTestId("install-form");
    await setting(form, "api_key").getByTestId("setting-input").fill("good");
    await form.getByTestId("install-submit").click();
    await waitForText(setting(form, "workspace").getByTestId("setting-error"), /required|workspace/i);
    await screenshot(page, "install-422");
  });

  await step(t, "installing lands on the installations page with the secret masked", async () => {
    const form = page.getByTestId("install-form");
    await setting(form, "workspace").getByTestId("setting-input").fill("research");
    await setting(form, "region").getByTestId("setting-input").selectOption('"eu"');
    await form.getByTestId("install-submit").click();
    await waitForPath(page, new RegExp(`^/t/${TENANT}/installations$`));
    assert.equal(await page.getByTestId("nav-installations").getAttribute("aria-current"), "page");
    const card = installation(page);
    await waitForText(card.getByTestId("installation-version"), /^v1\.0\.0$/);
    await waitForText(card.getByTestId("installation-plugin"), new RegExp(`^${PLUGIN}$`));
    const settings = card.getByTestId("installation-settings");
    await waitForText(settings, /workspace\s+research/);
    await waitForText(settings.locator('[data-field="api_key"]'), /^•+$/);
    assert.ok(!(await card.innerHTML()).includes("good"), "the secret is nowhere in the page");
  });

  await step(t, "testing the connection shows what the plugin said", async () => {
    const card = installation(page);
    await card.getByTestId("test-connection").click();
    const result = card.getByTestId("test-result");
    await waitForText(result, /Connected[\s\S]*Signed in to workspace research/);
    assert.equal(await result.getAttribute("data-ok"), "true");
    const test = calls.findLast((c) => c.path === "/connection/test");
    assert.equal(test?.body.connection.api_key, "good", "the plugin got the secret in clear");
    await screenshot(page, "installed");
  });

  await step(t, "a viewer sees the installation read-only", async () => {
    await page.getByTestId("nav-members").click();
    await page.getByLabel("Email").fill(viewer.email);
    await page.getByTestId("invite-role").selectOption("viewer");
    await page.getByRole("button", { name: "Send invitation" }).click();
    const acceptUrl = (await waitForText(page.getByTestId("accept-url"), /\/invitations\/\S+/)).trim();
    const second = await launchBrowser(server.url);
    try {
      const p = second.page;
      await p.goto(new URL(acceptUrl).pathname);
      await p.getByTestId("invite-sign-up").click();
      await p.getByLabel("Name").fill(viewer.name);
      await p.getByLabel("Email").fill(viewer.email);
      await p.getByLabel("Password").fill(viewer.password);
      await p.getByRole("button", { name: "Create account" }).click();
      await waitForPath(p, /^\/invitations\//);
      await p.getByTestId("accept-invitation").click();
      await waitForPath(p, new RegExp(`^/t/${TENANT}$`));
      await p.getByTestId("nav-installations").click();
      const card = installation(p);
      await waitForText(card.getByTestId("installation-settings").locator('[data-field="api_key"]'), /^•+$/);
      await p.getByTestId("installations-readonly").waitFor();
      for (const action of ["test-connection", "change-installation", "uninstall"])
        assert.equal(await card.getByTestId(action).count(), 0, `a viewer has no ${action}`);
      await screenshot(p, "viewer");
    } finally {
      await second.close();
    }
  });

  await step(t, "the same name twice is refused at the name", async () => {
    await page.getByTestId("nav-installations").click();
    await installation(page).getByTestId("installation-plugin").click();
    await waitForPath(page, new RegExp(`/marketplace/${PLUGIN}$`));
    await page.getByTestId("open-install").click();
    const form = page.getByTestId("install-form");
    await setting(form, "api_key").getByTestId("setting-input").fill("other");
    await setting(form, "workspace").getByTestId("setting-input").fill("archive");
    await form.getByTestId("install-submit").click();
    await waitForText(form.getByTestId("install-name-error"), /already has an installation named/);
    await screenshot(page, "install-409");
  });

  await step(t, "the pipeline editor lists the installation's operators with their uses: lines", async () => {
    await page.getByTestId("nav-pipelines").click();
    await page.getByTestId("new-pipeline").click();
    await waitForPath(page, /\/pipelines\/new$/);
    await page.getByTestId("operators-panel").locator("summary").first().click();
    const operator = page.locator(`[data-testid="usable-operator"][data-uses="${PLUGIN}/create-note@^1"]`);
    await page.locator(`[data-testid="operator-source"][data-name="${PLUGIN}"] > summary`).click();
    await operator.waitFor();
    await page.locator('[data-testid="operator-source"][data-name="core"]').waitFor();
    await operator.locator("details.input > summary").click();
    await operator.locator('[data-testid="usable-operator-input"] [data-field="title"]').waitFor();
    await screenshot(page, "editor-operators");
  });

  await step(t, "a pipeline that uses the installation runs with its settings", async () => {
    await page.getByTestId("pipeline-slug").fill(PIPELINE);
    await saveSpec(
      page,
      `name: Daily note
tasks:
  - id: note
    uses: ${PLUGIN}/create-note@^1
    with:
      title: Today
`,
    );
    await waitForPath(page, new RegExp(`/pipelines/${PIPELINE}$`));
    await page.getByTestId("run-pipeline").click();
    await page.getByTestId("run-form").getByTestId("run-submit").click();
    await waitForPath(page, new RegExp(`/pipelines/${PIPELINE}/runs/[^/]+$`));
    await waitForText(page.getByTestId("run-status"), /^success$/, 30_000);
    const run = calls.findLast((c) => c.path === "/operators/create-note");
    assert.deepEqual(run?.body.input, { title: "Today" });
    assert.equal(run?.body.connection.api_key, "good");
    assert.equal(run?.body.connection.region, "eu");
    // The graph lays out once its engine has loaded: the task's node shows its status.
    await page.locator('[data-testid="dag-node"][data-task="note"][data-status="success"]').waitFor();
    await screenshot(page, "run-succeeded");
  });

  await step(t, "a new version is installed by changing the installation, the secret kept", async () => {
    plugin.version = "1.1.0";
    await publish(page);
    await page.getByTestId("nav-installations").click();
    const card = installation(page);
    await card.getByTestId("change-installation").click();
    const form = card.getByTestId("change-form");
    await form.getByTestId("change-version").selectOption("1.1.0");
    const apiKey = setting(form, "api_key").getByTestId("setting-input");
    assert.equal(await apiKey.inputValue(), "", "blank keeps the stored secret");
    assert.equal(await setting(form, "workspace").getByTestId("setting-input").inputValue(), "research");
    await screenshot(page, "change-form");
    await form.getByTestId("change-submit").click();
    await waitForText(card.getByTestId("installation-version"), /^v1\.1\.0$/);
    await card.getByTestId("test-connection").click();
    await waitForText(card.getByTestId("test-result"), /Connected/);
  });

  await step(t, "uninstalling is refused while a pipeline uses it, with the pipeline named", async () => {
    const card = installation(page);
    await card.getByTestId("uninstall").click();
    await page.getByTestId("confirm-action").filter({ visible: true }).click();
    await waitForText(card.getByTestId("installation-error"), new RegExp(`used by[\\s\\S]*${PIPELINE}`));
    await screenshot(page, "uninstall-409");
  });

  await step(t, "after the pipeline stops using it, it uninstalls", async () => {
    await page.goto(`/t/${TENANT}/pipelines/${PIPELINE}`);
    await saveSpec(
      page,
      `name: Daily note
tasks:
  - id: note
    uses: core/transform@^1
    with:
      expression: "{ 'title': 'Today' }"
`,
    );
    await waitForText(page.getByTestId("pipeline-version"), /^v2$/);
    // The panel sits under the editor of an existing pipeline too, beside its facts.
    await page.getByTestId("operators-panel").locator("summary").first().click();
    await page.locator(`[data-testid="operator-source"][data-name="${PLUGIN}"]`).waitFor();
    await screenshot(page, "pipeline-operators");
    await page.getByTestId("nav-installations").click();
    await installation(page).getByTestId("uninstall").click();
    await page.getByTestId("confirm-action").filter({ visible: true }).click();
    await page.getByTestId("installations-empty").waitFor();
    await screenshot(page, "uninstalled");
  });

  assert.deepEqual(
    browser.consoleErrors.filter((e) => !/status of 4\d\d/.test(e)),
    [],
  );
});
