/**
 * A webhook's secret over its life (issue 12 §2, §8): rotation keeps the old secret verifying through
 * its grace and no longer; "send test delivery" signs a sample for every scheme that has a secret; a
 * trigger that names a tenant secret follows that secret when it changes; a scheme change gets a secret
 * of the new scheme's form.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { addMember, expectProblem } from "./helpers";
import { anonymous, hooked, hookSpec, syncedNow } from "./hooks-helpers";
import { savePipeline } from "./runs-helpers";

type Rotated = { secret: string; previous_valid_until: string };

describe("webhook secrets", () => {
  it("rotates a secret: both verify during the grace, the old one stops at its end and the object forgets it", async () => {
    const { owner, base, send, secret: old, trigger, stub, slug } = await hooked("standard");
    const rotated = await owner.json<Rotated>("POST", `${base}/triggers/in/rotate-secret`, {
      body: { grace: "2s" },
    });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(old);
    expect(await trigger()).toMatchObject({
      secret: rotated.body.secret,
      secret_source: "generated",
      previous_secret_until: rotated.body.previous_valid_until,
    });
    expect((await send("a", { n: 1 }, old)).status).toBe(202);
    expect((await send("b", { n: 2 }, rotated.body.secret)).status).toBe(202);

    const until = Date.parse(rotated.body.previous_valid_until);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, until - Date.now()) + 50));
    expect((await send("c", { n: 3 }, old)).status).toBe(401);
    expect((await send("d", { n: 4 }, rotated.body.secret)).status).toBe(202);
    // The grace timer drops the old ciphertext from the object's hooks.
    await runDurableObjectAlarm(stub);
    const secrets = await runInDurableObject(stub, (_instance, state) =>
      state.storage.sql
        .exec<{ config: string }>("SELECT config FROM hooks")
        .toArray()
        .map((row) => (JSON.parse(row.config) as { secrets: unknown[] }).secrets.length),
    );
    expect(secrets).toEqual([1]);
    expect((await trigger()).previous_secret_until).toBeNull();

    // Who may rotate, and what: bad grace, unknown trigger, a viewer.
    expectProblem(
      await owner.json("POST", `${base}/triggers/in/rotate-secret`, { body: { grace: "30d" } }),
      422,
    );
    expectProblem(
      await owner.json("POST", `${base}/triggers/in/rotate-secret`, { body: { grace: "soon" } }),
      422,
    );
    expectProblem(await owner.json("POST", `${base}/triggers/nope/rotate-secret`, { body: {} }), 404);
    const { client: viewer } = await addMember(owner, slug, "viewer");
    expectProblem(await viewer.json("POST", `${base}/triggers/in/rotate-secret`, { body: {} }), 403);
  });

  it("refuses to rotate a tenant secret or no secret, and re-syncs triggers when the tenant secret changes", async () => {
    const { owner, base, slug, path, stub } = await hooked("bearer", {
      verify: { scheme: "bearer", secret: "{{ secrets.HOOK_TOKEN }}" },
    });
    expect(
      (await owner.json("PUT", `/api/tenants/${slug}/secrets/HOOK_TOKEN`, { body: { value: "first" } }))
        .status,
    ).toBe(204);
    // Saved before the secret existed: the object learns it when the secret is written.
    const call = (token: string) =>
      anonymous.json("POST", path, { raw: "{}", headers: { authorization: `Bearer ${token}` } });
    expect((await call("first")).status).toBe(202);
    expect(
      (await owner.json("PUT", `/api/tenants/${slug}/secrets/HOOK_TOKEN`, { body: { value: "second" } }))
        .status,
    ).toBe(204);
    expect((await call("first")).status).toBe(401);
    expect((await call("second")).status).toBe(202);
    expect((await owner.json("DELETE", `/api/tenants/${slug}/secrets/HOOK_TOKEN`)).status).toBe(204);
    expect((await call("second")).status).toBe(401);
    expectProblem(await owner.json("POST", `${base}/triggers/in/rotate-secret`, { body: {} }), 409);

    await savePipeline(owner, slug, "open", {
      name: "Open",
      triggers: [{ webhook: { id: "in", verify: { scheme: "none" } } }],
      tasks: [{ id: "a", uses: "core/noop@^1", with: { value: 1 } }],
    });
    const open = `/api/tenants/${slug}/pipelines/open`;
    expectProblem(await owner.json("POST", `${open}/triggers/in/rotate-secret`, { body: {} }), 409);
    expect((await stub.listRuns({ limit: 10 })).items).toHaveLength(2);
  });

  it("sends a correctly signed test delivery for every scheme that has a secret", async () => {
    const schemes: [string, object][] = [
      ["standard", {}],
      ["github", {}],
      ["stripe", {}],
      ["slack", {}],
      ["bearer", {}],
      ["basic", {}],
      ["none", {}],
      [
        "hmac",
        {
          algorithm: "sha512",
          header: "x-sig",
          prefix: "sha512=",
          encoding: "base64",
          signed_content: "{headers.x-ts}.{body}",
        },
      ],
    ];
    for (const [scheme, options] of schemes) {
      const { owner, base, detail } = await hooked(scheme, { verify: { scheme, ...options } });
      const sent = await owner.json<{ status: number; body: { run_id: string } }>(
        "POST",
        `${base}/triggers/in/test-delivery`,
        { body: { body: { n: 9 } } },
      );
      expect(sent.status, scheme).toBe(200);
      expect(sent.body.status, `${scheme}: ${JSON.stringify(sent.body)}`).toBe(202);
      expect((await detail(sent.body.body.run_id)).tasks[0]?.output, scheme).toEqual({ value: 9 });
      const sample = await owner.json<{ status: number }>("POST", `${base}/triggers/in/test-delivery`, {
        body: {},
      });
      expect(sample.body.status, scheme).toBe(202);
    }
  });

  it("cannot sign for a v1a trigger (only the sender holds its private key) and 404s an unknown trigger", async () => {
    const key = await crypto.subtle.generateKey("Ed25519", true, ["sign", "verify"]);
    const exported = await crypto.subtle.exportKey("raw", (key as CryptoKeyPair).publicKey);
    const raw = new Uint8Array(exported as ArrayBuffer);
    const { owner, base, slug } = await hooked("standard", {
      verify: { scheme: "standard", secret: "{{ secrets.SENDER_KEY }}" },
    });
    const value = `whpk_${btoa(String.fromCharCode(...raw))}`;
    expect(
      (await owner.json("PUT", `/api/tenants/${slug}/secrets/SENDER_KEY`, { body: { value } })).status,
    ).toBe(204);
    expectProblem(await owner.json("POST", `${base}/triggers/in/test-delivery`, { body: {} }), 409);
    expectProblem(await owner.json("POST", `${base}/triggers/nope/test-delivery`, { body: {} }), 404);
  });
  it("drops the first old secret at once when a second rotation comes during the first one's grace", async () => {
    const { owner, base, send, secret: first } = await hooked("standard");
    const rotate = () =>
      owner.json<Rotated>("POST", `${base}/triggers/in/rotate-secret`, { body: { grace: "1h" } });
    const second = await rotate();
    expect((await send("r1", { n: 1 }, first)).status).toBe(202);
    const third = await rotate();
    expect(third.status).toBe(200);
    // Only the secret just replaced keeps its grace (the new one's end); the first stops verifying now.
    expect(Date.parse(third.body.previous_valid_until)).toBeGreaterThanOrEqual(
      Date.parse(second.body.previous_valid_until),
    );
    expect((await send("r2", { n: 2 }, first)).status).toBe(401);
    expect((await send("r3", { n: 3 }, second.body.secret)).status).toBe(202);
    expect((await send("r4", { n: 4 }, third.body.secret)).status).toBe(202);
  });

  it("keeps a rotation when a sync read before it arrives late", async () => {
    const { owner, base, send, secret: old, stub } = await hooked("standard");
    const before = await syncedNow(stub);
    const rotated = await owner.json<Rotated>("POST", `${base}/triggers/in/rotate-secret`, {
      body: { grace: "1h" },
    });
    expect(rotated.status).toBe(200);
    await stub.syncSchedule(before);
    expect((await send("l1", { n: 1 }, rotated.body.secret)).status).toBe(202);
    expect((await send("l2", { n: 2 }, old)).status).toBe(202);
  });

  it("generates a secret of the new form when a re-save changes the scheme to one that needs it", async () => {
    const { owner, base, path, secret: whsec, trigger } = await hooked("standard");
    expect(whsec).toMatch(/^whsec_/);
    await owner.json("POST", `${base}/triggers/in/rotate-secret`, { body: { grace: "1h" } });
    const save = async (scheme: string) => {
      expect((await owner.json("PUT", base, { body: hookSpec(scheme) })).status).toBe(200);
      return trigger();
    };
    const basic = await save("basic");
    expect(basic.secret).toMatch(/^updraft:[A-Za-z0-9_-]+$/);
    // The rotated-out whsec_ secret is no use as credentials: it goes with the old form.
    expect(basic.previous_secret_until).toBeNull();
    const call = (credentials: string) =>
      anonymous.json("POST", path, { raw: "{}", headers: { authorization: `Basic ${btoa(credentials)}` } });
    expect((await call(basic.secret ?? "")).status).toBe(202);

    const github = await save("github");
    expect(github.secret).toMatch(/^whsec_/);
    // The same form: a secret a sender is configured with stays across the change.
    const standard = await save("standard");
    expect(standard.secret).toBe(github.secret);
    const again = await save("basic");
    expect(again.secret).toMatch(/^updraft:/);
    expect(again.secret).not.toBe(basic.secret);
  });
});
