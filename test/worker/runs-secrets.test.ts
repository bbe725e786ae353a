/** Secrets reach the plugin inside the invocation and nowhere else: not in run detail, outputs or logs. */
import { describe, expect, it } from "vitest";
import { task, withPipeline } from "./runs-helpers";

const SECRET = "s3cr3t-value-7f1c2e";

describe("run secrets", () => {
  it("substitutes secrets into the invocation but keeps them out of run detail and logs", async () => {
    const { owner, slug, base, start } = await withPipeline({
      name: "Secrets",
      tasks: [
        // transform's output is the secret's length: proof that the plugin received the value.
        {
          id: "length",
          uses: "core/transform@^1",
          with: { expression: "$length($)", data: "{{ secrets.API_TOKEN }}" },
        },
        // noop echoes its input: the secret would come back as output and must be redacted.
        { id: "echo", uses: "core/noop@^1", with: { value: "Bearer {{ secrets.API_TOKEN }}" } },
        { id: "leak", uses: "core/fail@^1", with: { message: "{{ secrets.API_TOKEN }}" } },
      ],
    });
    const put = await owner.json("PUT", `/api/tenants/${slug}/secrets/API_TOKEN`, {
      body: { value: SECRET },
    });
    expect(put.status).toBe(204);
    const run = await start();
    expect(task(run, "length")).toMatchObject({ status: "success", output: SECRET.length });
    expect(task(run, "echo")).toMatchObject({ status: "success", output: { value: "Bearer ***" } });
    expect(task(run, "leak")).toMatchObject({
      status: "failed",
      error: { kind: "plugin_error", message: expect.stringContaining("***") },
    });
    const detail = await owner.call("GET", `${base}/runs/${run.id}`);
    expect(await detail.text()).not.toContain(SECRET);
    for (const id of ["length", "echo", "leak"]) {
      const logs = await owner.call("GET", `${base}/runs/${run.id}/tasks/${id}/logs`);
      expect(logs.status).toBe(200);
      expect(await logs.text()).not.toContain(SECRET);
    }
  });

  it("fails a task whose secret is not set, without calling the plugin", async () => {
    const { start } = await withPipeline({
      name: "No secret",
      tasks: [{ id: "a", uses: "core/noop@^1", retries: 2, with: { value: "{{ secrets.MISSING }}" } }],
    });
    const run = await start();
    expect(task(run, "a")).toMatchObject({
      status: "failed",
      attempts: 1,
      error: { kind: "input_invalid", message: "secret MISSING is not set" },
    });
  });
});
