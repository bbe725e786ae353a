import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { TenantVault } from "../../worker/crypto/envelope";
import { expectProblem, ownerWithTenant } from "./helpers";

async function storedSecret(slug: string, name: string) {
  return env.DB.prepare(
    "SELECT s.ciphertext, t.id AS tenant_id, t.data_key FROM secrets s JOIN tenants t ON t.id = s.tenant_id WHERE t.slug = ? AND s.name = ?",
  )
    .bind(slug, name)
    .first<{ ciphertext: string; tenant_id: string; data_key: string }>();
}

describe("secrets", () => {
  it("stores values encrypted under the tenant's data key and lists names only", async () => {
    const { owner, slug } = await ownerWithTenant();
    expect(
      (
        await owner.call("PUT", `/api/tenants/${slug}/secrets/GITHUB_TOKEN`, {
          body: { value: "ghp_supersecret" },
        })
      ).status,
    ).toBe(204);
    const list = await owner.json<{ items: { name: string; updated_at: string }[] }>(
      "GET",
      `/api/tenants/${slug}/secrets`,
    );
    expect(list.body.items.map((i) => i.name)).toEqual(["GITHUB_TOKEN"]);
    expect(JSON.stringify(list.body)).not.toContain("ghp_supersecret");
    const row = await storedSecret(slug, "GITHUB_TOKEN");
    expect(row?.ciphertext).toMatch(/^v1\./);
    expect(row?.ciphertext).not.toContain("ghp_supersecret");
    if (!row) throw new Error("no row");
    const vault = await TenantVault.open(env.MASTER_KEY, row.tenant_id, row.data_key);
    expect(await vault.decrypt(row.ciphertext, `secret:${row.tenant_id}:GITHUB_TOKEN`)).toBe(
      "ghp_supersecret",
    );
    // Bound to its name: the same ciphertext under another name does not decrypt.
    await expect(vault.decrypt(row.ciphertext, `secret:${row.tenant_id}:OTHER`)).rejects.toThrow();
  });

  it("overwrites a secret and deletes it; deleting an unknown one is 404", async () => {
    const { owner, slug } = await ownerWithTenant();
    await owner.call("PUT", `/api/tenants/${slug}/secrets/API_KEY`, { body: { value: "one" } });
    await owner.call("PUT", `/api/tenants/${slug}/secrets/API_KEY`, { body: { value: "two" } });
    const list = await owner.json<{ items: unknown[] }>("GET", `/api/tenants/${slug}/secrets`);
    expect(list.body.items).toHaveLength(1);
    expect((await owner.call("DELETE", `/api/tenants/${slug}/secrets/API_KEY`)).status).toBe(204);
    expectProblem(await owner.json("DELETE", `/api/tenants/${slug}/secrets/API_KEY`), 404);
    const audit = await owner.json<{ items: { action: string; target: string }[] }>(
      "GET",
      `/api/tenants/${slug}/audit`,
    );
    expect(audit.body.items.slice(0, 3).map((i) => `${i.action} ${i.target}`)).toEqual([
      "secret.delete API_KEY",
      "secret.put API_KEY",
      "secret.put API_KEY",
    ]);
  });

  it("refuses bad names and empty values with 422 and stores nothing", async () => {
    const { owner, slug } = await ownerWithTenant();
    expectProblem(
      await owner.json("PUT", `/api/tenants/${slug}/secrets/has-dash`, { body: { value: "x" } }),
      422,
    );
    expectProblem(await owner.json("PUT", `/api/tenants/${slug}/secrets/OK`, { body: { value: "" } }), 422);
    expectProblem(
      await owner.json("PUT", `/api/tenants/${slug}/secrets/OK`, { body: { value: "x", extra: 1 } }),
      422,
    );
    const list = await owner.json<{ items: unknown[] }>("GET", `/api/tenants/${slug}/secrets`);
    expect(list.body.items).toEqual([]);
  });
});

describe("audit log", () => {
  it("pages newest first with a cursor", async () => {
    const { owner, slug } = await ownerWithTenant();
    for (const name of ["A", "B", "C"])
      await owner.call("PUT", `/api/tenants/${slug}/secrets/${name}`, { body: { value: "v" } });
    const first = await owner.json<{
      items: { target: string; actor: string; at: string }[];
      next_cursor: string | null;
    }>("GET", `/api/tenants/${slug}/audit?limit=2`);
    expect(first.body.items.map((i) => i.target)).toEqual(["C", "B"]);
    expect(first.body.items[0]?.actor).toMatch(/@example\.com$/);
    const second = await owner.json<{ items: { target: string }[]; next_cursor: string | null }>(
      "GET",
      `/api/tenants/${slug}/audit?limit=2&cursor=${first.body.next_cursor}`,
    );
    expect(second.body.items.map((i) => i.target)).toEqual(["A", slug]);
    expect(second.body.next_cursor).toBeNull();
  });

  it("rejects a limit over 500 and a garbage cursor with 422", async () => {
    const { owner, slug } = await ownerWithTenant();
    expectProblem(await owner.json("GET", `/api/tenants/${slug}/audit?limit=501`), 422);
    expectProblem(await owner.json("GET", `/api/tenants/${slug}/audit?cursor=zzz`), 422);
  });
});
