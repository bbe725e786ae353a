// The hosted-tenant journey in a real browser against the real Worker (DESIGN.md §1, journey 1, plus
// pipeline editing): sign up, create a tenant, write a pipeline, tokens, secrets, members, audit, sign out.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { launchBrowser, screenshot, startServer, stepper, waitForPath, waitForText } from "./harness.mjs";

const INVALID_SPEC = `name: Orders sync
description: Pull new orders and shape them.
tasks:
  - id: fetch
    uses: core/http@^1
    with: { method: GET, url: "https://example.com/orders" }
  - id: shape
    uses: core/transform@^1
    needs: [fetch, missing]
    with: { expression: "$" }
`;
const VALID_SPEC = INVALID_SPEC.replace("needs: [fetch, missing]", "needs: [fetch]");
const EDITED_SPEC = VALID_SPEC.replace("Pull new orders", "Pull new and updated orders");

const run = Date.now().toString(36);
const owner = { name: "Olivia Owner", email: `owner-${run}@example.com`, password: "correct horse battery" };
const invitee = { name: "Ivan Invitee", email: `ivan-${run}@example.com`, password: "another good password" };
const TENANT = "acme-data";
const PIPELINE = "orders-sync";

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {Awaited<ReturnType<typeof launchBrowser>>} */
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser(server.url);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const step = stepper(
  () => browser,
  () => server,
);

test("a new user sets up a tenant, writes a pipeline and manages access", { timeout: 300_000 }, async (t) => {
  const { page } = browser;
  /** @type {string} */
  let acceptUrl = "";

  await step(t, "signs up and is asked to create a tenant", async () => {
    await page.goto("/");
    await waitForPath(page, /^\/sign-in/);
    await page.getByRole("link", { name: "Create an account" }).click();
    await waitForPath(page, /^\/sign-up/);
    await page.getByLabel("Name").fill(owner.name);
    await page.getByLabel("Email").fill(owner.email);
    await page.getByLabel("Password").fill(owner.password);
    await screenshot(page, "sign-up");
    await page.getByRole("button", { name: "Create account" }).click();
    await waitForPath(page, /^\/tenants\/new$/);
  });

  await step(t, "creates a tenant and lands on its empty pipeline list", async () => {
    await page.getByLabel("Name").fill("Acme Data");
    assert.equal(await page.getByLabel("Slug").inputValue(), TENANT);
    await page.getByRole("button", { name: "Create tenant" }).click();
    await waitForPath(page, new RegExp(`^/t/${TENANT}$`));
    await page.getByTestId("pipelines-empty").waitFor();
    assert.equal(await page.getByTestId("tenant-switcher").inputValue(), TENANT);
    await screenshot(page, "empty-pipelines");
  });

  await step(t, "shows an invalid spec's error with its line, then saves the fixed spec", async () => {
    await page.getByTestId("new-pipeline").click();
    await waitForPath(page, /\/pipelines\/new$/);
    await page.getByTestId("pipeline-slug").fill(PIPELINE);
    await page.getByTestId("spec-editor").fill(INVALID_SPEC);
    // Live validation, debounced while typing.
    const error = page.getByTestId("spec-error").first();
    const text = await waitForText(error, /missing/);
    assert.match(text, /^\s*9:\d+\s+tasks\[1\]\.needs/, `the error names line 9 and the path: ${text}`);
    await page.locator('[data-testid="spec-editor-gutter"] .ln.error[data-line="9"]').waitFor();
    await waitForText(page.getByTestId("validation-status"), /1 problem/);
    await screenshot(page, "invalid-spec");

    await page.getByTestId("spec-editor").fill(VALID_SPEC);
    await waitForText(page.getByTestId("validation-status"), /^Valid$/);
    assert.equal(await page.getByTestId("spec-error").count(), 0);
    await page.getByTestId("save").click();
    await waitForPath(page, new RegExp(`/pipelines/${PIPELINE}$`));
    await waitForText(page.getByTestId("pipeline-version"), /^v1$/);
    await screenshot(page, "pipeline-v1");
  });

  await step(t, "saves an edit as version 2 and shows both versions", async () => {
    await page.getByTestId("spec-editor").fill(EDITED_SPEC);
    await waitForText(page.getByTestId("validation-status"), /^Valid$/);
    await page.getByTestId("save").click();
    await waitForText(page.getByTestId("pipeline-version"), /^v2$/);
    await waitForText(page.getByTestId("toast").last(), /version 2/);

    await page.getByTestId("tab-versions").click();
    await waitForText(page.getByTestId("versions"), /v2[\s\S]*v1/);
    await page.locator('[data-testid="version-item"][data-version="1"]').click();
    const old = page.getByTestId("version-source");
    await page.waitForFunction(() =>
      /Pull new orders/.test(document.querySelector('[data-testid="version-source"]')?.value ?? ""),
    );
    assert.equal(await old.getAttribute("readonly"), "");
    await screenshot(page, "versions");
  });

  await step(t, "lists the pipeline with its version, then pauses it", async () => {
    await page.getByRole("link", { name: "Pipelines", exact: true }).first().click();
    await waitForPath(page, new RegExp(`^/t/${TENANT}$`));
    const row = page.locator(`[data-testid="pipeline-row"][data-slug="${PIPELINE}"]`);
    await waitForText(row, /Orders sync[\s\S]*Active[\s\S]*v2/);
    await screenshot(page, "pipeline-list");

    await row.getByRole("link", { name: "Orders sync" }).click();
    await page.getByTestId("pause-toggle").click();
    await waitForText(page.getByTestId("pipeline-state"), /^Paused$/);
    await waitForText(page.getByTestId("pause-toggle"), /Resume/);
    await page.reload();
    await waitForText(page.getByTestId("pipeline-state"), /^Paused$/);
    await screenshot(page, "pipeline-paused");
  });

  await step(t, "creates an API token and sees it exactly once", async () => {
    await page.getByRole("link", { name: "API tokens" }).click();
    await page.getByTestId("tokens-empty").waitFor();
    await page.getByLabel("Name").fill("ci-deploy");
    await page.getByTestId("token-role").selectOption("editor");
    await page.getByRole("button", { name: "Create token" }).click();
    const token = (await waitForText(page.getByTestId("token-value"), /\S{16,}/)).trim();
    await waitForText(page.getByTestId("token-created"), /shown only once/);
    await page.locator('[data-testid="token-row"][data-name="ci-deploy"]').waitFor();
    await screenshot(page, "token-once");

    await page.reload();
    await page.locator('[data-testid="token-row"][data-name="ci-deploy"]').waitFor();
    assert.equal(await page.getByTestId("token-value").count(), 0);
    assert.ok(!(await page.content()).includes(token), "the token is not shown after a reload");

    // The token works over the API until it is revoked in the dashboard, then fails at once.
    const asToken = () =>
      fetch(`${server.url}/api/tenants/${TENANT}`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal((await asToken()).status, 200);
    const row = page.locator('[data-testid="token-row"][data-name="ci-deploy"]');
    await row.getByTestId("revoke-token").click();
    await page.getByTestId("confirm-action").filter({ visible: true }).click();
    await page.getByTestId("tokens-empty").waitFor();
    assert.equal((await asToken()).status, 401);
  });

  await step(t, "stores a secret without ever showing it, then deletes it", async () => {
    await page.getByRole("link", { name: "Secrets" }).click();
    await page.getByTestId("secrets-empty").waitFor();
    await page.getByTestId("secret-name").fill("SLACK_TOKEN");
    await page.getByTestId("secret-value").fill("xoxb-very-secret-value");
    await page.getByRole("button", { name: "Save secret" }).click();
    const row = page.locator('[data-testid="secret-row"][data-name="SLACK_TOKEN"]');
    await row.waitFor();
    assert.equal(await page.getByTestId("secret-value").inputValue(), "");
    assert.ok(!(await page.content()).includes("xoxb-very-secret-value"));
    await screenshot(page, "secret-stored");

    await row.getByTestId("delete-secret").click();
    await page.getByTestId("confirm-action").filter({ visible: true }).click();
    await row.waitFor({ state: "detached" });
    await page.getByTestId("secrets-empty").waitFor();
  });

  await step(t, "invites a second user and shows the pending invitation", async () => {
    await page.getByRole("link", { name: "Members" }).click();
    await page.locator(`[data-testid="member-row"][data-email="${owner.email}"]`).waitFor();
    await page.getByLabel("Email").fill(invitee.email);
    await page.getByTestId("invite-role").selectOption("viewer");
    await page.getByRole("button", { name: "Send invitation" }).click();
    acceptUrl = (await waitForText(page.getByTestId("accept-url"), /\/invitations\/\S+/)).trim();
    assert.match(new URL(acceptUrl).pathname, /^\/invitations\/[^/]+$/);
    await page.locator(`[data-testid="invitation-row"][data-email="${invitee.email}"]`).waitFor();
    await screenshot(page, "invitation-created");
    // The link's token is shown once, in the answer to creating it: the pending list never carries it.
    const token = new URL(acceptUrl).pathname.split("/").pop() ?? "";
    assert.ok(!(await page.getByTestId("invitations-table").innerHTML()).includes(token));
    await page.reload();
    await page.locator(`[data-testid="invitation-row"][data-email="${invitee.email}"]`).waitFor();
    assert.equal(await page.getByTestId("accept-url").count(), 0);
    assert.ok(!(await page.content()).includes(token));
  });

  await step(t, "the invitee signs up from the link and accepts", async () => {
    const second = await launchBrowser(server.url);
    try {
      const p = second.page;
      await p.goto(new URL(acceptUrl).pathname);
      await p.getByTestId("invite-sign-up").click();
      await waitForPath(p, /^\/sign-up\?next=/);
      await p.getByLabel("Name").fill(invitee.name);
      await p.getByLabel("Email").fill(invitee.email);
      await p.getByLabel("Password").fill(invitee.password);
      await p.getByRole("button", { name: "Create account" }).click();
      await waitForPath(p, /^\/invitations\//);
      await waitForText(p.getByTestId("invitation"), /Acme Data[\s\S]*viewer/);
      await screenshot(p, "invitee-invitation");
      await p.getByTestId("accept-invitation").click();
      await waitForPath(p, new RegExp(`^/t/${TENANT}$`));
      await waitForText(p.getByTestId("pipeline-row").first(), /Orders sync/);
      // A viewer reads but does not create pipelines.
      assert.equal(await p.getByTestId("new-pipeline").count(), 0);
      await screenshot(p, "invitee-viewer");
      // …and sees the spec read-only, without the webhook secret or edit controls.
      await p.getByRole("link", { name: "Orders sync" }).click();
      await waitForText(p.getByTestId("pipeline-version"), /^v2$/);
      assert.equal(await p.getByTestId("spec-editor").getAttribute("readonly"), "");
      assert.equal(await p.getByTestId("save").count(), 0);
      assert.equal(await p.getByTestId("pause-toggle").count(), 0);
    } finally {
      await second.close();
    }
  });

  await step(t, "the owner makes the new member an editor", async () => {
    await page.reload();
    const row = page.locator(`[data-testid="member-row"][data-email="${invitee.email}"]`);
    await row.waitFor();
    await row.getByTestId("member-role").selectOption("editor");
    await waitForText(page.getByTestId("toast").last(), /now editor/);
    await page.reload();
    assert.equal(await row.getByTestId("member-role").inputValue(), "editor");
    await page.getByTestId("invitations-empty").waitFor();
    await screenshot(page, "members");
  });

  await step(t, "the audit log shows what happened", async () => {
    await page.getByRole("link", { name: "Audit log" }).click();
    await page.getByTestId("audit-table").waitFor();
    const actions = await page
      .getByTestId("audit-row")
      .evaluateAll((rows) => rows.map((r) => r.dataset.action));
    for (const action of [
      "tenant.create",
      "pipeline.save",
      "pipeline.pause",
      "token.create",
      "token.revoke",
      "secret.put",
      "secret.delete",
      "member.invite",
      "member.join",
      "member.role",
    ]) {
      assert.ok(actions.includes(action), `the audit log shows ${action}: ${actions.join(", ")}`);
    }
    await screenshot(page, "audit-log");
  });

  await step(t, "signs out and is kept out of the tenant", async () => {
    await page.getByTestId("sign-out").click();
    await waitForPath(page, /^\/sign-in/);
    await page.goto(`/t/${TENANT}/members`);
    await waitForPath(page, /^\/sign-in\?next=/);
    await screenshot(page, "signed-out");
    assert.deepEqual(
      browser.consoleErrors.filter((e) => !/Failed to load resource/.test(e)),
      [],
      "no script errors in the console",
    );
  });
});
