// Dashboard behaviour beyond the main journey: visible problem details, the default example, webhook and
// schedule facts, malformed YAML on save, deleting, and switching tenants.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  launchBrowser,
  screenshot,
  signUpWithTenant,
  startServer,
  waitForPath,
  waitForText,
} from "./harness.mjs";

const user = {
  name: "Dana Dev",
  email: `dana-${Date.now().toString(36)}@example.com`,
  password: "a long enough password",
};
const SCHEDULED_SPEC = `name: Nightly report
schedule: { cron: "0 9 * * 1-5", timezone: Europe/Berlin, catchup: false }
triggers:
  - webhook:
      id: github
      verify: { scheme: github }
tasks:
  - id: fetch
    uses: core/http@^1
    with: { method: GET, url: "https://example.com/report" }
`;

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {Awaited<ReturnType<typeof launchBrowser>>} */
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser(server.url);
  await signUpWithTenant(browser.page, user, { name: "Dana Labs", slug: "dana-labs" });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test("problem details from the API are shown on the forms", async () => {
  const { page } = browser;
  // A taken slug (409).
  await page.goto("/tenants/new");
  await page.getByLabel("Name").fill("Dana Labs");
  await page.getByRole("button", { name: "Create tenant" }).click();
  await waitForText(page.getByTestId("error"), /dana-labs.*taken/i);

  // A second browser, signed out: wrong password (401) and an email that is taken (409).
  const other = await launchBrowser(server.url);
  try {
    const p = other.page;
    await p.goto("/sign-in");
    await p.getByLabel("Email").fill(user.email);
    await p.getByLabel("Password").fill("not the password");
    await p.getByRole("button", { name: "Sign in" }).click();
    await waitForText(p.getByTestId("error"), /email or password/i);
    await screenshot(p, "sign-in-error");

    await p.getByRole("link", { name: "Create an account" }).click();
    await p.getByLabel("Name").fill("Someone");
    await p.getByLabel("Email").fill(user.email);
    await p.getByLabel("Password").fill("whatever-long");
    await p.getByRole("button", { name: "Create account" }).click();
    await waitForText(p.getByTestId("error"), /already exists/i);
  } finally {
    await other.close();
  }
});

test("the new-pipeline example is valid and gets a webhook with a generated secret", async () => {
  const { page } = browser;
  await page.goto("/t/dana-labs/pipelines/new");
  const editor = page.getByTestId("spec-editor");
  assert.match(await editor.inputValue(), /core\/http@\^1[\s\S]*core\/transform@\^1/);
  await page.getByTestId("validate").click();
  await waitForText(page.getByTestId("validation-status"), /^Valid$/);
  await page.getByTestId("save").click();
  await waitForPath(page, /\/pipelines\/hello-updraft$/);
  const url = await waitForText(page.getByTestId("webhook-url"), /\/hooks\/\S+/);
  assert.ok(
    url.trim().startsWith(`${server.url}/hooks/`),
    `the webhook URL is on the product's origin: ${url}`,
  );
  await waitForText(page.getByTestId("webhook-secret"), /^•+$/);
  await page.getByRole("button", { name: "Reveal" }).click();
  await waitForText(page.getByTestId("webhook-secret"), /^(?!•)\S{16,}/);
});

test("a scheduled pipeline shows its next runs; malformed YAML is refused on save with its line", async () => {
  const { page } = browser;
  await page.goto("/t/dana-labs/pipelines/new");
  await page.getByTestId("pipeline-slug").fill("nightly-report");
  await page.getByTestId("spec-editor").fill(SCHEDULED_SPEC);
  await waitForText(page.getByTestId("validation-status"), /^Valid$/);
  await page.getByTestId("save").click();
  await waitForPath(page, /\/pipelines\/nightly-report$/);
  await waitForText(page.getByTestId("next-runs"), /\d/);
  assert.equal(await page.locator('[data-testid="next-runs"] li').count(), 5);
  await page.locator('[data-testid="trigger"][data-kind="webhook"]').waitFor();
  await screenshot(page, "scheduled-pipeline");

  // Saved before the debounced validation can answer: the PUT's own 400 problem is shown.
  await page.getByTestId("spec-editor").fill(SCHEDULED_SPEC.replace("    uses:", "   uses:"));
  await page.getByTestId("save").click();
  await waitForText(page.getByTestId("save-error"), /malformed/i);
  await waitForText(page.getByTestId("spec-error").first(), /^\s*\d+:\d+/);
  assert.equal(await page.locator('[data-testid="spec-editor-gutter"] .ln.error').count(), 1);
  await waitForText(page.getByTestId("pipeline-version"), /^v1$/);
  await screenshot(page, "malformed-yaml");

  // A backfill's runs are listed with their logical dates (two weekday fires at 09:00 Berlin).
  const status = await page.evaluate(async () => {
    const response = await fetch("/api/tenants/dana-labs/pipelines/nightly-report/backfill", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        from: "2026-11-02T00:00:00Z",
        to: "2026-11-04T00:00:00Z",
        reprocess: "missing",
      }),
    });
    return response.status;
  });
  assert.equal(status, 201);
  await page.goto("/t/dana-labs/pipelines/nightly-report?tab=runs");
  await waitForText(page.getByTestId("run-row-logical-date").first(), /2026/);
  assert.equal(await page.getByTestId("run-row-logical-date").count(), 2);
  await screenshot(page, "backfilled-runs");
});

test("deleting a pipeline asks first and removes it from the list", async () => {
  const { page } = browser;
  await page.goto("/t/dana-labs/pipelines/nightly-report");
  await page.getByTestId("delete-pipeline").click();
  await page.getByTestId("confirm-dialog").filter({ visible: true }).waitFor();
  await screenshot(page, "delete-confirm");
  await page.getByTestId("confirm-action").filter({ visible: true }).click();
  await waitForPath(page, /^\/t\/dana-labs$/);
  await page.locator('[data-testid="pipeline-row"][data-slug="hello-updraft"]').waitFor();
  assert.equal(await page.locator('[data-testid="pipeline-row"][data-slug="nightly-report"]').count(), 0);
});

test("the tenant switcher creates and switches tenants; / opens the first one", async () => {
  const { page } = browser;
  await page.getByTestId("tenant-switcher").selectOption({ label: "+ New tenant…" });
  await waitForPath(page, /^\/tenants\/new$/);
  await page.getByLabel("Name").fill("Second Shop");
  await page.getByRole("button", { name: "Create tenant" }).click();
  await waitForPath(page, /^\/t\/second-shop$/);
  await page.getByTestId("pipelines-empty").waitFor();

  await page.getByTestId("tenant-switcher").selectOption("dana-labs");
  await waitForPath(page, /^\/t\/dana-labs$/);
  await page.locator('[data-testid="pipeline-row"][data-slug="hello-updraft"]').waitFor();

  await page.goto("/");
  await waitForPath(page, /^\/t\/(dana-labs|second-shop)$/);
  await page.goto("/t/no-such-tenant");
  await page.getByTestId("tenant-not-found").waitFor();
  await page.goto("/t/dana-labs/settings");
  await waitForText(page.getByTestId("tenant-usage"), /Pipelines\s*1\s*\/\s*\d+/);
  await screenshot(page, "settings");
  assert.deepEqual(
    browser.consoleErrors.filter((e) => !/Failed to load resource/.test(e)),
    [],
    "no script errors in the console",
  );
});

test("the audit log pages with its cursor", async () => {
  const { page } = browser;
  // 55 more entries than a page holds, written straight through the API with this browser's session.
  for (let i = 0; i < 55; i++) {
    const response = await page.request.put(`/api/tenants/dana-labs/secrets/BULK_${i}`, {
      data: { value: `value-${i}` },
      headers: { origin: server.url },
    });
    assert.equal(response.status(), 204);
  }
  await page.goto("/t/dana-labs/audit");
  await page.getByTestId("audit-table").waitFor();
  const firstPage = await page.getByTestId("audit-row").count();
  assert.equal(firstPage, 50);
  await page.getByTestId("audit-load-more").click();
  await page.waitForFunction(
    (n) => document.querySelectorAll('[data-testid="audit-row"]').length > n,
    firstPage,
  );
  const all = await page.getByTestId("audit-row").evaluateAll((rows) => rows.map((r) => r.dataset.action));
  assert.equal(all.filter((a) => a === "secret.put").length, 55);
  assert.ok(all.includes("tenant.create"), "the oldest entry is reached");
  assert.equal(await page.getByTestId("audit-load-more").count(), 0, "no more pages");
});
