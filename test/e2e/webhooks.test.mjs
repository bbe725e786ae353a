// Webhooks in the dashboard (issue 12): the trigger panel's URL and secret, deliveries signed by a real
// Standard Webhooks sender arriving live in the inspector, a delivery's recorded request, replaying it,
// rotating the secret (both secrets verify in the grace period) and the panel's signed test delivery.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, test } from "node:test";
import { Webhook } from "standardwebhooks";
import {
  launchBrowser,
  screenshot,
  signUpWithTenant,
  startServer,
  stepper,
  waitForPath,
  waitForText,
} from "./harness.mjs";

const TENANT = "hooks-lab";
const PIPELINE = "order-events";
const user = {
  name: "Wes Webhook",
  email: `wes-${Date.now().toString(36)}@example.com`,
  password: "a long enough password",
};
const SPEC = `name: Order events
description: Runs for every signed order event.
triggers:
  - webhook:
      id: orders
      verify: { scheme: standard }
tasks:
  - id: echo
    uses: core/noop@^1
    with: { value: "{{ trigger.body.order.id }}" }
`;

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {Awaited<ReturnType<typeof launchBrowser>>} */
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser(server.url);
  await signUpWithTenant(browser.page, user, { name: "Hooks Lab", slug: TENANT });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const step = stepper(
  () => browser,
  () => server,
);

/**
 * Sends a delivery as a Standard Webhooks sender does, signed with `secret` (or a wrong signature).
 * @param {string} url
 * @param {string} secret
 * @param {unknown} payload
 * @param {{ forge?: boolean }} [options]
 */
async function deliver(url, secret, payload, { forge = false } = {}) {
  const id = `msg_${randomUUID()}`;
  const at = new Date();
  const body = JSON.stringify(payload);
  const signature = forge
    ? `v1,${Buffer.from("not the signature of this body").toString("base64")}`
    : new Webhook(secret).sign(id, at, body);
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
      "webhook-signature": signature,
    },
    body,
  });
  const text = await response.text();
  /** @type {Record<string, unknown>} */
  let json = {};
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON: the assertion below prints the text
  }
  return { status: response.status, json, text };
}

/** @param {import("playwright-core").Page} page */
const rows = (page) => page.getByTestId("delivery-row");

test("webhook deliveries: panel, live inspector, replay, rotation and test delivery", {
  timeout: 300_000,
}, async (t) => {
  const { page } = browser;
  let url = "";
  let secret = "";
  /** @type {string} */
  let acceptedId = "";

  await step(t, "a pipeline with a webhook trigger shows its URL and masked secret", async () => {
    await page.getByTestId("new-pipeline").click();
    await waitForPath(page, /\/pipelines\/new$/);
    await page.getByTestId("pipeline-slug").fill(PIPELINE);
    await page.getByTestId("spec-editor").fill(SPEC);
    await waitForText(page.getByTestId("validation-status"), /^Valid$/);
    await page.getByTestId("save").click();
    await waitForPath(page, new RegExp(`/pipelines/${PIPELINE}$`));

    const trigger = page.getByRole("listitem", { name: "Trigger orders" });
    await waitForText(trigger.getByTestId("webhook-url"), /\/hooks\/\S+/);
    await waitForText(trigger.getByTestId("webhook-secret"), /^•+$/);
    await screenshot(page, "trigger-panel-masked");

    // The copy buttons put the real values on the clipboard, masked or not.
    await trigger.getByRole("button", { name: "Copy url" }).click();
    url = await page.evaluate(() => navigator.clipboard.readText());
    assert.ok(url.startsWith(`${server.url}/hooks/`), `the webhook URL is on the product's origin: ${url}`);
    await trigger.getByRole("button", { name: "Copy secret" }).click();
    secret = await page.evaluate(() => navigator.clipboard.readText());
    assert.match(secret, /^whsec_/);
    // The secret is not in the page until revealed.
    assert.ok(!(await page.content()).includes(secret), "a masked secret is not in the DOM");
    await trigger.getByRole("button", { name: "Reveal secret" }).click();
    assert.equal((await trigger.getByTestId("webhook-secret").textContent())?.trim(), secret);
    await screenshot(page, "trigger-panel-revealed");
    await trigger.getByRole("button", { name: "Hide secret" }).click();
  });

  await step(t, "signed and forged deliveries appear live in the inspector", async () => {
    await page.getByTestId("deliveries-link").click();
    await waitForPath(page, new RegExp(`/pipelines/${PIPELINE}/deliveries$`));
    await page.getByTestId("deliveries-empty").waitFor();
    await page.locator('[data-testid="live-mode"][data-mode="live"]').waitFor();
    await screenshot(page, "inspector-empty");
    // Nothing below reloads the page: this marker would be gone after a reload.
    await page.evaluate(() => {
      /** @type {any} */ (window).__noReload = true;
    });

    const good = await deliver(url, secret, { type: "order.created", order: { id: "ord_1", total: 42 } });
    assert.equal(good.status, 202, good.text);
    acceptedId = String(good.json.delivery_id);
    const bad = await deliver(
      url,
      secret,
      { type: "order.created", order: { id: "ord_2" } },
      { forge: true },
    );
    assert.equal(bad.status, 401, bad.text);

    await page.locator('[data-testid="delivery-row"][data-verdict="unverified"]').waitFor();
    const accepted = page.locator(`[data-testid="delivery-row"][data-delivery="${acceptedId}"]`);
    await accepted.waitFor();
    assert.equal(await rows(page).count(), 2);
    // Newest first: the forged one came second.
    assert.equal(await rows(page).first().getAttribute("data-verdict"), "unverified");
    await waitForText(accepted.getByTestId("delivery-http-status"), /^202$/);
    await waitForText(accepted.getByTestId("delivery-run"), /\S+/);
    assert.equal(await page.evaluate(() => /** @type {any} */ (window).__noReload), true);
    await screenshot(page, "inspector-live");
  });

  await step(t, "the verdict filter narrows the list and keeps it in the URL", async () => {
    await page.getByTestId("delivery-verdict-filter").selectOption("unverified");
    await waitForPath(page, /verdict=unverified/);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="delivery-row"]').length === 1);
    assert.equal(await rows(page).first().getAttribute("data-verdict"), "unverified");
    await page.getByTestId("delivery-verdict-filter").selectOption("duplicate");
    await page.getByTestId("deliveries-empty").waitFor();
    await screenshot(page, "inspector-filtered-empty");
    await page.getByTestId("delivery-clear-filter").click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="delivery-row"]').length === 2);
  });

  await step(t, "a delivery shows its redacted headers, pretty body, verdict and run", async () => {
    const accepted = page.locator(`[data-testid="delivery-row"][data-delivery="${acceptedId}"]`);
    await accepted.getByTestId("delivery-open").click();
    await waitForPath(page, new RegExp(`delivery=${acceptedId}`));
    const detail = page.getByRole("region", { name: `Delivery ${acceptedId}` });
    await waitForText(detail.getByTestId("detail-verdict"), /^accepted$/);
    await waitForText(detail.getByTestId("detail-http-status"), /^202$/);
    await waitForText(detail.getByTestId("detail-verified"), /^verified$/);
    await waitForText(detail.getByTestId("detail-elapsed"), /^\d+(\.\d+)? ms$/);
    const signature = detail.locator('[data-testid="detail-headers"] tr[data-name="webhook-signature"] td');
    await waitForText(signature, /^\[redacted\]$/);
    const id = detail.locator('[data-testid="detail-headers"] tr[data-name="webhook-id"] td');
    await waitForText(id, /^msg_/);
    const body = detail.getByTestId("detail-body");
    assert.equal(await body.getAttribute("data-format"), "json");
    await waitForText(body, /^\{\n {2}"type": "order.created",\n {2}"order": \{\n {4}"id": "ord_1"/);
    await waitForText(detail.getByTestId("detail-run"), /\S+/);
    await screenshot(page, "delivery-detail");

    // The forged one: not verified, its signature redacted too, and it cannot be replayed.
    await rows(page).first().getByTestId("delivery-open").click();
    const forged = page.getByTestId("delivery-detail");
    await waitForText(forged.getByTestId("detail-verdict"), /^unverified$/);
    await waitForText(forged.getByTestId("detail-http-status"), /^401$/);
    await waitForText(
      forged.locator('[data-testid="detail-headers"] tr[data-name="webhook-signature"] td'),
      /^\[redacted\]$/,
    );
    assert.equal(await forged.getByTestId("replay-delivery").isDisabled(), true);
    await screenshot(page, "delivery-detail-unverified");
  });

  await step(t, "replaying a delivery starts a run and records a new delivery live", async () => {
    await page
      .locator(`[data-testid="delivery-row"][data-delivery="${acceptedId}"]`)
      .getByTestId("delivery-open")
      .click();
    const detail = page.getByRole("region", { name: `Delivery ${acceptedId}` });
    await detail.getByRole("radio", { name: "latest" }).check();
    await detail.getByTestId("replay-delivery").click();
    const result = detail.getByTestId("replay-result");
    await waitForText(result, /Replayed as run \S+/);
    const replayRun = (await result.getByTestId("replay-run").textContent())?.trim() ?? "";
    // The replay is recorded as a delivery of its own, which arrives live.
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="delivery-row"]').length === 3);
    await screenshot(page, "delivery-replayed");

    await result.getByTestId("replay-delivery-link").click();
    const replay = page.getByTestId("delivery-detail");
    await waitForText(replay.getByTestId("detail-replayed-from"), new RegExp(`^${acceptedId}$`));
    await waitForText(replay.getByTestId("detail-run"), new RegExp(`^${replayRun}$`));
    await screenshot(page, "replay-delivery-detail");

    // The run link leads to the run, which finishes with the delivery's body.
    await replay.getByTestId("detail-run").click();
    await waitForPath(page, new RegExp(`/runs/${replayRun}$`));
    await waitForText(page.getByTestId("run-status"), /^success$/, 30_000);
    await page.locator('[data-testid="dag-node"][data-task="echo"][data-status="success"]').waitFor();
    await screenshot(page, "replayed-run");
  });

  await step(t, "rotating the secret asks first; old and new secrets both verify", async () => {
    await page.goto(`/t/${TENANT}/pipelines/${PIPELINE}`);
    const trigger = page.getByRole("listitem", { name: "Trigger orders" });
    await trigger.getByTestId("webhook-url").waitFor();
    await trigger.getByRole("button", { name: "Rotate secret" }).click();
    const dialog = page.getByRole("dialog", { name: "Rotate the secret of orders?" });
    await dialog.waitFor();
    await screenshot(page, "rotate-confirm");
    await dialog.getByRole("button", { name: "Rotate secret" }).click();
    await dialog.waitFor({ state: "hidden" });

    await waitForText(trigger.getByTestId("rotated-secret"), /previous secret keeps working until/);
    const rotated = (await trigger.getByTestId("webhook-secret").textContent())?.trim() ?? "";
    assert.match(rotated, /^whsec_/);
    assert.notEqual(rotated, secret);
    await screenshot(page, "secret-rotated");

    const old = await deliver(url, secret, { type: "order.updated", order: { id: "ord_3" } });
    assert.equal(old.status, 202, `the previous secret still verifies: ${old.text}`);
    const fresh = await deliver(url, rotated, { type: "order.updated", order: { id: "ord_4" } });
    assert.equal(fresh.status, 202, `the new secret verifies: ${fresh.text}`);

    // After a reload the panel shows the grace period from the pipeline itself.
    await page.reload();
    await waitForText(
      page.getByRole("listitem", { name: "Trigger orders" }).getByTestId("secret-grace"),
      /previous secret keeps working until/,
    );
    secret = rotated;
  });

  await step(t, "the panel sends a signed test delivery and shows the answer", async () => {
    const trigger = page.getByRole("listitem", { name: "Trigger orders" });
    await trigger.getByRole("button", { name: "Send test delivery" }).click();
    const answer = trigger.getByRole("status", { name: "Test delivery answer" });
    await waitForText(answer.getByTestId("test-delivery-status"), /^HTTP 202$/);
    await waitForText(answer.getByTestId("test-delivery-response"), /"run_id"/);
    await screenshot(page, "test-delivery");

    // A custom body goes through the same way.
    await trigger.getByText("Test body").click();
    await trigger.getByLabel(/JSON to send/).fill('{"type": "order.created", "order": {"id": "ord_test"}}');
    await trigger.getByRole("button", { name: "Send test delivery" }).click();
    await waitForText(answer.getByTestId("test-delivery-status"), /^HTTP 202$/);
    await answer.getByRole("link", { name: "Open delivery" }).click();
    const detail = page.getByTestId("delivery-detail");
    await waitForText(detail.getByTestId("detail-body"), /"id": "ord_test"/);
    await waitForText(detail.getByTestId("detail-verdict"), /^accepted$/);
    await screenshot(page, "test-delivery-in-inspector");
  });

  await step(t, "a range replay previews what would run, then runs it", async () => {
    await page.locator('[data-testid="delivery-row"][data-verdict="unverified"]').waitFor();
    const before = await rows(page).count();
    await page.getByTestId("replay-range").click();
    const dialog = page.getByRole("dialog", { name: "Replay deliveries" });
    await dialog.waitFor();
    await dialog.getByTestId("replay-range-preview").click();
    const preview = dialog.getByTestId("replay-preview");
    await waitForText(preview, /\d+ deliver(y|ies) would be replayed/);
    const planned = await preview.getByTestId("replay-item").count();
    assert.ok(planned >= 4, `the accepted deliveries are in the preview: ${planned}`);
    await screenshot(page, "replay-range-preview");
    assert.equal(await rows(page).count(), before, "a dry run records nothing");

    await dialog.getByTestId("replay-range-confirm").click();
    const result = dialog.getByTestId("replay-range-result");
    await waitForText(result, new RegExp(`Replayed ${planned} deliver`));
    await screenshot(page, "replay-range-done");
    await dialog.getByRole("button", { name: "Done" }).click();
    await page.waitForFunction(
      (n) => document.querySelectorAll('[data-testid="delivery-row"]').length >= n,
      before + planned,
    );
    await screenshot(page, "inspector-after-range-replay");
  });

  await step(t, "the list pages with Load more, and filters by time", async () => {
    // Enough refused deliveries (they start no runs) for a second page of 50.
    for (let i = 0; i < 45; i++) {
      const bad = await deliver(url, secret, { n: i }, { forge: true });
      assert.equal(bad.status, 401, bad.text);
    }
    await page.goto(`/t/${TENANT}/pipelines/${PIPELINE}/deliveries`);
    await page.getByTestId("deliveries-table").waitFor();
    assert.equal(await rows(page).count(), 50);
    const total = await page.evaluate(async (path) => {
      let count = 0;
      let cursor = "";
      do {
        const response = await fetch(`${path}?limit=100${cursor ? `&cursor=${cursor}` : ""}`);
        const page = await response.json();
        count += page.items.length;
        cursor = page.next_cursor ?? "";
      } while (cursor);
      return count;
    }, `/api/tenants/${TENANT}/pipelines/${PIPELINE}/deliveries`);
    assert.ok(total > 50, `more than a page recorded: ${total}`);
    await page.getByTestId("deliveries-load-more").click();
    await page.waitForFunction(
      (n) => document.querySelectorAll('[data-testid="delivery-row"]').length === n,
      total,
    );
    assert.equal(await page.getByTestId("deliveries-load-more").count(), 0);
    const ids = await rows(page).evaluateAll((list) => list.map((r) => r.getAttribute("data-delivery")));
    assert.equal(new Set(ids).size, ids.length, "no delivery is listed twice");
    await screenshot(page, "inspector-all-pages");

    // Nothing was received after an hour from now; everything was received before it.
    const pad = (/** @type {number} */ n) => String(n).padStart(2, "0");
    const later = new Date(Date.now() + 3_600_000);
    const local = `${later.getFullYear()}-${pad(later.getMonth() + 1)}-${pad(later.getDate())}T${pad(later.getHours())}:${pad(later.getMinutes())}`;
    const filters = page.getByRole("form", { name: "Filter deliveries" });
    await filters.getByLabel("From", { exact: true }).fill(local);
    await waitForPath(page, /from=/);
    await page.getByTestId("deliveries-empty").waitFor();
    await page.getByTestId("delivery-clear-filter").click();
    await filters.getByLabel("To", { exact: true }).fill(local);
    await waitForPath(page, /to=/);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="delivery-row"]').length === 50);
    await screenshot(page, "inspector-time-filter");
    assert.deepEqual(
      browser.consoleErrors.filter((e) => !/Failed to load resource/.test(e)),
      [],
      "no script errors in the console",
    );
  });
});
