/**
 * Webhook ingress (issue 12, first slice): deliveries signed by the providers' own libraries reach
 * the pipeline's object by hook id, are verified, deduplicated and recorded, and start one run each.
 */
import { sign as githubSign } from "@octokit/webhooks-methods";
import { describe, expect, it } from "vitest";
import type { DeliveryDetail } from "../../worker/hooks/types";
import { anonymous, hooked, standardHeaders } from "./hooks-helpers";

describe("webhook ingress", () => {
  it("accepts a Standard Webhooks delivery, starts one run with trigger.body, and answers duplicates with it", async () => {
    const { path, secret, detail, stub } = await hooked("standard");
    const body = JSON.stringify({ n: 7 });
    const headers = standardHeaders(secret, "msg_1", body);
    const first = await anonymous.json<{ run_id: string; delivery_id: string; status_url: string }>(
      "POST",
      path,
      { raw: body, headers },
    );
    expect(first.status).toBe(202);
    expect(first.body.status_url).toMatch(new RegExp(`/runs/${first.body.run_id}$`));
    const run = await detail(first.body.run_id);
    expect(run.status).toBe("success");
    expect(run.tasks[0]?.output).toEqual({ value: 7 });
    const again = await anonymous.json("POST", path, { raw: body, headers });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ run_id: first.body.run_id, duplicate: true });
    expect((await stub.listRuns({ limit: 10 })).items).toHaveLength(1);
    const ledger = await stub.listDeliveries({ limit: 10 });
    expect(ledger.items.map((d) => d.status)).toEqual(["duplicate", "accepted"]);
    // RPC types cannot name the body's `unknown`: the object answers a DeliveryDetail.
    const recorded = (await stub.getDelivery(first.body.delivery_id)) as unknown as DeliveryDetail | null;
    expect(recorded?.headers["webhook-signature"]).toBe("[redacted]");
    expect(recorded?.body).toEqual({ n: 7 });
  });

  it("creates exactly one run for 50 concurrent duplicates", async () => {
    const { path, secret, stub } = await hooked("standard");
    const body = JSON.stringify({ n: 1 });
    const headers = standardHeaders(secret, "msg_dup", body);
    const answers = await Promise.all(
      Array.from({ length: 50 }, () =>
        anonymous.json<{ run_id: string }>("POST", path, { raw: body, headers }),
      ),
    );
    expect(answers.filter((a) => a.status === 202)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 200)).toHaveLength(49);
    expect(new Set(answers.map((a) => a.body.run_id)).size).toBe(1);
    expect((await stub.listRuns({ limit: 100 })).items).toHaveLength(1);
  });

  it("refuses wrong, garbled, missing and stale signatures with 401, records them, and starts nothing", async () => {
    const { path, secret, stub } = await hooked("standard");
    const body = JSON.stringify({ n: 1 });
    const good = standardHeaders(secret, "msg_x", body);
    const stale = standardHeaders(secret, "msg_y", body, new Date(Date.now() - 10 * 60_000));
    const wrong = standardHeaders(`whsec_${btoa("another secret of 32 bytes......")}`, "msg_z", body);
    const cases = [
      wrong,
      stale,
      { ...good, "webhook-signature": "v1,not base64!!" },
      { "webhook-id": "msg_x" },
      good, // with another body below
    ];
    for (const [i, headers] of cases.entries()) {
      const sent = i === cases.length - 1 ? JSON.stringify({ n: 2 }) : body;
      const res = await anonymous.json<{ detail: string }>("POST", path, { raw: sent, headers });
      expect(res.status).toBe(401);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      expect(res.body.detail).toBe("The delivery could not be verified.");
    }
    expect((await stub.listRuns({ limit: 10 })).items).toEqual([]);
    const ledger = await stub.listDeliveries({ limit: 10 });
    expect(ledger.items.map((d) => d.status)).toEqual(Array(cases.length).fill("unverified"));
  });

  it("verifies GitHub's X-Hub-Signature-256 made by @octokit/webhooks-methods and dedups by the signature, not the unsigned X-GitHub-Delivery", async () => {
    const { path, secret, stub } = await hooked("github");
    const body = JSON.stringify({ n: 3, action: "opened" });
    const headers = { "x-hub-signature-256": await githubSign(secret, body), "x-github-delivery": "d-1" };
    expect((await anonymous.json("POST", path, { raw: body, headers })).status).toBe(202);
    expect((await anonymous.json("POST", path, { raw: body, headers })).body).toMatchObject({
      duplicate: true,
    });
    // A captured delivery sent again under another delivery id is still the same delivery.
    const resent = { ...headers, "x-github-delivery": "d-2" };
    expect((await anonymous.json("POST", path, { raw: body, headers: resent })).body).toMatchObject({
      duplicate: true,
    });
    const bad = { ...headers, "x-hub-signature-256": await githubSign("not the secret", body) };
    expect((await anonymous.json("POST", path, { raw: body, headers: bad })).status).toBe(401);
    expect((await stub.listRuns({ limit: 10 })).items).toHaveLength(1);
  });

  it("answers 404 for unknown or malformed hook ids, 413 over 1 MiB, 410 when paused", async () => {
    const { path, secret, owner, base, stub } = await hooked("standard");
    for (const unknown of [
      "/hooks/nope",
      `${path.slice(0, -3)}AAA`,
      `/hooks/hk_${"0".repeat(64)}_${"A".repeat(22)}`,
    ]) {
      expect((await anonymous.json("POST", unknown, { raw: "{}" })).status).toBe(404);
    }
    const huge = "x".repeat(1024 * 1024 + 1);
    const tooLarge = await anonymous.json("POST", path, {
      raw: huge,
      headers: standardHeaders(secret, "m", huge),
    });
    expect(tooLarge.status).toBe(413);
    expect((await owner.json("POST", `${base}/pause`)).status).toBe(200);
    const body = "{}";
    const paused = await anonymous.json("POST", path, {
      raw: body,
      headers: standardHeaders(secret, "p", body),
    });
    expect(paused.status).toBe(410);
    expect((await stub.listRuns({ limit: 10 })).items).toEqual([]);
  });
});
