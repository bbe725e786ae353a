// Runs in the dashboard: start a run from the params form, watch the graph, Gantt and grid fill in live,
// read a task's output and logs, retry the failed task and mark it successful, all without a reload.
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

const TENANT = "runs-lab";
const PIPELINE = "fan-out";
const user = {
  name: "Rita Runner",
  email: `rita-${Date.now().toString(36)}@example.com`,
  password: "a long enough password",
};
// numbers → each (for_each over [1,2,3]) ─┐
//                                         ├→ report (all_done)
// flaky (core/fail, no retries) ──────────┘
const SPEC = `name: Fan out
description: Maps over a list, fails on one branch and joins both.
params:
  label: { type: string, minLength: 3, default: nightly, description: "Names the batch" }
tasks:
  - id: numbers
    uses: core/transform@^1
    with: { expression: "[1, 2, 3]" }
  - id: each
    uses: core/noop@^1
    needs: [numbers]
    for_each: "{{ tasks.numbers.output }}"
    with: { value: "{{ item * 10 }}" }
  - id: flaky
    uses: core/fail@^1
    retries: 0
    with: { message: "flaky for {{ params.label }}" }
  - id: report
    uses: core/noop@^1
    needs: [each, flaky]
    trigger_rule: all_done
    with: { value: "done {{ params.label }}" }
`;

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {Awaited<ReturnType<typeof launchBrowser>>} */
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser(server.url);
  await signUpWithTenant(browser.page, user, { name: "Runs Lab", slug: TENANT });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** @param {import("playwright-core").Page} page @param {string} task */
const node = (page, task) => page.locator(`[data-testid="dag-node"][data-task="${task}"]`);

/**
 * Waits until a graph node shows the status.
 * @param {import("playwright-core").Page} page @param {string} task @param {string} status
 */
async function nodeStatus(page, task, status, timeout = 30_000) {
  await page
    .locator(`[data-testid="dag-node"][data-task="${task}"][data-status="${status}"]`)
    .waitFor({ timeout });
}

test("a run started from the params form shows its graph, timeline, grid and task details live", {
  timeout: 240_000,
}, async () => {
  const { page } = browser;

  // A pipeline with one param, saved through the editor.
  await page.getByTestId("new-pipeline").click();
  await waitForPath(page, /\/pipelines\/new$/);
  await page.getByTestId("pipeline-slug").fill(PIPELINE);
  await page.getByTestId("spec-editor").fill(SPEC);
  await waitForText(page.getByTestId("validation-status"), /^Valid$/);
  await page.getByTestId("save").click();
  await waitForPath(page, new RegExp(`/pipelines/${PIPELINE}$`));

  // The Runs tab starts empty.
  await page.getByTestId("tab-runs").click();
  await waitForPath(page, /\?tab=runs$/);
  await page.getByTestId("runs-empty").waitFor();

  // The form is generated from the params schema, with the default filled in.
  await page.getByTestId("run-pipeline").click();
  const form = page.getByTestId("run-form");
  await form.waitFor();
  const label = form.getByLabel("label");
  assert.equal(await label.inputValue(), "nightly");
  // The server's 422 is shown at the field.
  await label.fill("x");
  await form.getByTestId("run-submit").click();
  const fieldError = form.locator('[data-param="label"] [data-testid="param-error"]');
  await waitForText(fieldError, /3|short|fewer/i);
  await screenshot(page, "params-422");
  await label.fill("blue-moon");
  await form.getByTestId("run-submit").click();
  await waitForPath(page, new RegExp(`/pipelines/${PIPELINE}/runs/[^/]+$`));
  const runId = page.url().split("/").pop() ?? "";

  // Nothing below reloads the page: this marker would be gone after a reload.
  await page.evaluate(() => {
    /** @type {any} */ (window).__noReload = true;
  });

  // The graph fills in: the mapped task shows its instances, the failing branch fails, the join still runs.
  await nodeStatus(page, "numbers", "success");
  await nodeStatus(page, "each", "success");
  await nodeStatus(page, "flaky", "failed");
  await nodeStatus(page, "report", "success");
  await waitForText(page.getByTestId("run-status"), /^failed$/);
  // SVG has no innerText: read the node's text content.
  assert.match((await node(page, "each").textContent()) ?? "", /3 instances/);
  assert.equal(await node(page, "each").getByTestId("mini-bar").count(), 1);
  await waitForText(page.getByTestId("run-params"), /label="blue-moon"/);
  assert.equal(await page.locator('[data-testid="gantt-row"][data-task="each"]').count(), 3);
  await screenshot(page, "run-graph-and-gantt");

  // A mapped task's panel: three instances with their outputs.
  await node(page, "each").click();
  const panel = page.getByTestId("task-panel");
  await waitForText(panel, /each\[2\]/);
  assert.equal(await panel.getByTestId("task-instance").count(), 3);
  await waitForText(panel.getByTestId("task-output").nth(2), /"value": 30/);

  // The source task's output, and the failed task's error and logs.
  await node(page, "numbers").click();
  await waitForText(page.getByTestId("task-panel").getByTestId("task-output"), /\[\s*1,\s*2,\s*3\s*\]/);
  await node(page, "flaky").click();
  await waitForText(panel.getByTestId("task-error"), /flaky for blue-moon/);
  // The error's kind shows as a badge beside its message, and in the failure's log line.
  assert.equal(await panel.getByTestId("task-error").getAttribute("data-kind"), "plugin_error");
  await waitForText(panel.getByTestId("task-error-kind"), /^plugin error$/);
  const logs = panel.getByTestId("task-logs");
  await waitForText(logs, /failed \(plugin_error\): flaky for blue-moon/);
  const linesBefore = await logs.locator("li").count();
  await screenshot(page, "task-panel-failed");

  // Retry (with downstream, the default): the task runs again and fails again; its logs grow.
  assert.equal(await panel.getByTestId("retry-downstream").isChecked(), true);
  await panel.getByTestId("task-retry").click();
  await page
    .waitForFunction(
      (before) => (document.querySelectorAll('[data-testid="task-logs"] li').length ?? 0) > before,
      linesBefore,
      { timeout: 30_000 },
    )
    .catch(async () => {
      throw new Error(`the logs did not grow after the retry: ${await logs.textContent().catch(() => "")}`);
    });
  await nodeStatus(page, "flaky", "failed");
  await nodeStatus(page, "report", "success");
  await waitForText(page.getByTestId("run-status"), /^failed$/);

  // Mark success (after a confirmation): the run turns successful without a reload.
  await panel.getByTestId("mark-success").click();
  const dialog = page.getByTestId("mark-dialog");
  await waitForText(dialog, /Mark flaky success\?/);
  await dialog.getByTestId("mark-confirm").click();
  await nodeStatus(page, "flaky", "success");
  await waitForText(page.getByTestId("run-status"), /^success$/, 30_000);
  assert.equal(await page.evaluate(() => /** @type {any} */ (window).__noReload), true);
  await screenshot(page, "run-marked-success");

  // The grid: one column for the run, one row per task, coloured by state.
  await page.goto(`/t/${TENANT}/pipelines/${PIPELINE}?tab=grid`);
  const grid = page.getByTestId("run-grid");
  await grid.waitFor();
  assert.equal(await grid.getByTestId("grid-run").count(), 1);
  for (const [task, status] of [
    ["numbers", "success"],
    ["each", "success"],
    ["flaky", "success"],
    ["report", "success"],
  ]) {
    await grid.locator(`[data-testid="grid-cell"][data-task="${task}"][data-status="${status}"]`).waitFor();
  }
  await screenshot(page, "grid");

  // The runs list, and its status filter.
  await page.getByTestId("tab-runs").click();
  const row = page.locator(`[data-testid="run-row"][data-run="${runId}"]`);
  await waitForText(row.getByTestId("run-row-status"), /success/);
  await screenshot(page, "runs-list");
  await page.getByTestId("run-status-filter").selectOption("failed");
  await waitForPath(page, /status=failed/);
  await page.getByTestId("runs-empty").waitFor();

  // A grid cell opens the run with that task selected.
  await page.getByTestId("tab-grid").click();
  await page.locator(`[data-testid="grid-cell"][data-task="each"]`).click();
  await waitForPath(page, new RegExp(`/runs/${runId}\\?task=each$`));
  await waitForText(page.getByTestId("task-panel"), /each\[0\]/);

  // The tenant-wide list appears in the nav only when the server has it.
  const nav = page.getByTestId("nav-runs");
  const hasTenantRuns = (await fetchStatus(page, `/api/tenants/${TENANT}/runs`)) === 200;
  if (hasTenantRuns) {
    await nav.click();
    await waitForText(page.getByTestId("tenant-runs-table"), new RegExp(runId));
    await screenshot(page, "tenant-runs");
  } else {
    assert.equal(await nav.count(), 0);
  }

  const errors = browser.consoleErrors.filter((e) => !/Failed to load resource|WebSocket/.test(e));
  assert.deepEqual(errors, []);
});

/** @param {import("playwright-core").Page} page @param {string} path */
function fetchStatus(page, path) {
  return page.evaluate((p) => fetch(p).then((r) => r.status), path);
}

test("cancelling a running run, and a refused action's 409 shown in the task panel", {
  timeout: 120_000,
}, async () => {
  const { page } = browser;
  const slow = { name: "Slow", tasks: [{ id: "wait", uses: "core/sleep@^1", with: { duration: "10m" } }] };
  const started = await page.evaluate(
    async ([tenant, spec]) => {
      const base = `/api/tenants/${tenant}/pipelines/slow`;
      const saved = await fetch(base, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(spec),
      });
      if (!saved.ok) throw new Error(`PUT ${saved.status}: ${await saved.text()}`);
      const run = await fetch(`${base}/runs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      return /** @type {{ id: string }} */ (await run.json());
    },
    /** @type {const} */ ([TENANT, slow]),
  );
  await page.goto(`/t/${TENANT}/pipelines/slow/runs/${started.id}`);
  await waitForText(page.getByTestId("run-status"), /^running$/);
  await nodeStatus(page, "wait", "waiting");

  await page.getByTestId("cancel-run").click();
  await page.locator("dialog[open]").getByTestId("confirm-action").click();
  await waitForText(page.getByTestId("run-status"), /^cancelled$/);
  await nodeStatus(page, "wait", "cancelled");
  await waitForText(page.getByTestId("run-note"), /cancelled/);
  assert.equal(await page.getByTestId("cancel-run").count(), 0);

  // The planner refuses a retry in a cancelled run: the panel says why.
  await node(page, "wait").click();
  await page.getByTestId("task-panel").getByTestId("task-retry").click();
  await waitForText(page.getByTestId("task-action-error"), /cancelled/);
  await screenshot(page, "cancelled-409");
});

test("without the live socket the run page polls, and still follows a mark without a reload", {
  timeout: 120_000,
}, async () => {
  const { page } = browser;
  // A server without the WebSocket route: every socket closes before it opens.
  await page.addInitScript(() => {
    class ClosedSocket extends EventTarget {
      /** @type {((event: unknown) => void) | null} */ onclose = null;
      /** @type {((event: unknown) => void) | null} */ onopen = null;
      /** @type {((event: unknown) => void) | null} */ onmessage = null;
      constructor() {
        super();
        setTimeout(() => this.onclose?.({ code: 1006 }), 20);
      }
      close() {}
    }
    /** @type {any} */ (window).WebSocket = ClosedSocket;
  });
  const started = await page.evaluate(
    async ([tenant, pipeline]) => {
      const response = await fetch(`/api/tenants/${tenant}/pipelines/${pipeline}/runs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ params: {} }),
      });
      return /** @type {{ id: string }} */ (await response.json());
    },
    [TENANT, PIPELINE],
  );
  await page.goto(`/t/${TENANT}/pipelines/${PIPELINE}/runs/${started.id}`);
  await waitForText(page.getByTestId("live-mode"), /every 2 s/);
  await nodeStatus(page, "flaky", "failed");
  await waitForText(page.getByTestId("run-status"), /^failed$/);
  await waitForText(page.getByTestId("run-params"), /label="nightly"/);
  await page.evaluate(() => {
    /** @type {any} */ (window).__noReload = true;
  });

  await node(page, "flaky").click();
  await page.getByTestId("task-panel").getByTestId("mark-success").click();
  await page.getByTestId("mark-dialog").getByTestId("mark-confirm").click();
  await waitForText(page.getByTestId("run-status"), /^success$/, 30_000);
  assert.equal(await page.getByTestId("live-mode").getAttribute("data-mode"), "polling");
  assert.equal(await page.evaluate(() => /** @type {any} */ (window).__noReload), true);

  // A finished run offers no Cancel.
  assert.equal(await page.getByTestId("cancel-run").count(), 0);
  await screenshot(page, "polling-run");
});
