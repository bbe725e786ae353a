import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  addMember,
  Client,
  expectProblem,
  invitationToken,
  ownerWithTenant,
  signUp,
  tokenFor,
  uniqueSlug,
} from "./helpers";
import { leftovers, pipelineStub, savePipeline } from "./runs-helpers";

describe("tenants", () => {
  it("creates a tenant whose creator is owner, with quotas and usage", async () => {
    const { owner, slug } = await ownerWithTenant();
    const me = await owner.json<{ tenants: { slug: string; role: string }[] }>("GET", "/api/me");
    expect(me.body.tenants).toEqual([{ slug, name: `Tenant ${slug}`, role: "owner" }]);
    const tenant = await owner.json<Record<string, unknown>>("GET", `/api/tenants/${slug}`);
    expect(tenant.status).toBe(200);
    expect(tenant.body).toMatchObject({
      slug,
      plan: "free",
      role: "owner",
      usage: { pipelines: 0, members: 1 },
    });
    expect(tenant.body.quotas).toMatchObject({ pipelines: 100 });
  });

  it("answers 409 when the slug is taken and 422 for a bad slug", async () => {
    const { slug } = await ownerWithTenant();
    const other = await signUp();
    expectProblem(await other.json("POST", "/api/tenants", { body: { slug, name: "Again" } }), 409);
    const bad = expectProblem(
      await other.json("POST", "/api/tenants", { body: { slug: "-Nope!", name: "Bad" } }),
      422,
    );
    expect(bad.errors?.[0]?.path).toBe("slug");
  });

  it("writes the tenant's creation in its audit log", async () => {
    const { owner, slug } = await ownerWithTenant();
    const audit = await owner.json<{ items: { action: string; target: string; actor: string }[] }>(
      "GET",
      `/api/tenants/${slug}/audit`,
    );
    expect(audit.body.items.map((i) => i.action)).toEqual(["tenant.create"]);
  });

  it("refuses tenant creation with an API token", async () => {
    const { owner, slug } = await ownerWithTenant();
    const admin = await tokenFor(owner, slug, "admin");
    expectProblem(await admin.json("POST", "/api/tenants", { body: { slug: uniqueSlug(), name: "x" } }), 403);
  });

  it("lets only an owner delete the tenant, with everything in it", async () => {
    const { owner, slug } = await ownerWithTenant();
    const admin = await addMember(owner, slug, "admin");
    expectProblem(await admin.client.json("DELETE", `/api/tenants/${slug}`), 403);
    expect((await owner.call("DELETE", `/api/tenants/${slug}`)).status).toBe(204);
    expectProblem(await owner.json("GET", `/api/tenants/${slug}`), 404);
    const rows = await env.DB.prepare(
      "SELECT count(*) AS n FROM memberships m JOIN tenants t ON t.id = m.tenant_id WHERE t.slug = ?",
    )
      .bind(slug)
      .first<{ n: number }>();
    expect(rows?.n).toBe(0);
  });

  it("retires every pipeline of a deleted tenant: no run goes on and no schedule fires again", async () => {
    const { owner, slug } = await ownerWithTenant();
    const spec = (name: string) => ({
      name,
      schedule: { cron: "0 0 * * *", timezone: "UTC", catchup: false },
      tasks: [{ id: "wait", uses: "core/sleep@^1", with: { duration: "1h" } }],
    });
    await savePipeline(owner, slug, "a", spec("A"));
    await savePipeline(owner, slug, "b", spec("B"));
    const stubs = [await pipelineStub(slug, "a"), await pipelineStub(slug, "b")];
    expect((await owner.json("POST", `/api/tenants/${slug}/pipelines/a/runs`, { body: {} })).status).toBe(
      201,
    );
    await stubs[0]?.settled();
    for (const stub of stubs) expect((await leftovers(stub)).alarm).not.toBeNull();
    expect((await owner.call("DELETE", `/api/tenants/${slug}`)).status).toBe(204);
    for (const stub of stubs) expect(await leftovers(stub)).toMatchObject({ rows: {}, alarm: null });
  });
});

describe("members and invitations", () => {
  it("invites a member who accepts as the invited address and appears with the role", async () => {
    const { owner, slug } = await ownerWithTenant();
    const editor = await addMember(owner, slug, "editor");
    const members = await owner.json<{ items: { email: string; role: string }[] }>(
      "GET",
      `/api/tenants/${slug}/members`,
    );
    expect(members.body.items).toContainEqual(
      expect.objectContaining({ email: editor.email, role: "editor" }),
    );
    const me = await editor.client.json<{ tenants: { slug: string; role: string }[] }>("GET", "/api/me");
    expect(me.body.tenants).toContainEqual(expect.objectContaining({ slug, role: "editor" }));
  });

  it("returns an absolute accept_url on the product's origin", async () => {
    const { owner, slug } = await ownerWithTenant();
    const res = await owner.json<{ id: string; accept_url: string }>(
      "POST",
      `/api/tenants/${slug}/invitations`,
      {
        body: { email: "someone@example.com", role: "viewer" },
      },
    );
    expect(res.status).toBe(201);
    expect(res.body.accept_url).toMatch(/^http:\/\/localhost\/invitations\/[^/]+$/);
  });

  it("refuses an invitation accepted by another address, and a second acceptance", async () => {
    const { owner, slug } = await ownerWithTenant();
    const invite = await owner.json<{ accept_url: string }>("POST", `/api/tenants/${slug}/invitations`, {
      body: { email: "intended@example.com", role: "viewer" },
    });
    const stranger = await signUp();
    const token = invitationToken(invite.body.accept_url);
    expectProblem(await stranger.json("POST", `/api/invitations/${token}/accept`), 403);
    expectProblem(await stranger.json("GET", `/api/tenants/${slug}`), 404);
    expectProblem(await stranger.json("POST", "/api/invitations/inv_doesnotexist/accept"), 404);
  });

  it("changes a role, and only an owner may grant ownership", async () => {
    const { owner, slug } = await ownerWithTenant();
    const admin = await addMember(owner, slug, "admin");
    const viewer = await addMember(owner, slug, "viewer");
    const promoted = await admin.client.json("PATCH", `/api/tenants/${slug}/members/${viewer.userId}`, {
      body: { role: "editor" },
    });
    expect(promoted.status).toBe(200);
    expect(promoted.body).toMatchObject({ role: "editor" });
    expectProblem(
      await admin.client.json("PATCH", `/api/tenants/${slug}/members/${viewer.userId}`, {
        body: { role: "owner" },
      }),
      403,
    );
    expect(
      (
        await owner.json("PATCH", `/api/tenants/${slug}/members/${viewer.userId}`, {
          body: { role: "owner" },
        })
      ).status,
    ).toBe(200);
  });

  it("never demotes or removes the last owner", async () => {
    const { owner, slug } = await ownerWithTenant();
    const me = await owner.json<{ user: { id: string } }>("GET", "/api/me");
    const id = me.body.user.id;
    expectProblem(
      await owner.json("PATCH", `/api/tenants/${slug}/members/${id}`, { body: { role: "admin" } }),
      409,
    );
    expectProblem(await owner.json("DELETE", `/api/tenants/${slug}/members/${id}`), 409);
    const members = await owner.json<{ items: { role: string }[] }>("GET", `/api/tenants/${slug}/members`);
    expect(members.body.items).toEqual([expect.objectContaining({ role: "owner" })]);
  });

  it("lets a member leave and an admin remove a member", async () => {
    const { owner, slug } = await ownerWithTenant();
    const viewer = await addMember(owner, slug, "viewer");
    const editor = await addMember(owner, slug, "editor");
    expect((await viewer.client.call("DELETE", `/api/tenants/${slug}/members/${viewer.userId}`)).status).toBe(
      204,
    );
    expectProblem(await viewer.client.json("GET", `/api/tenants/${slug}`), 404);
    expect((await owner.call("DELETE", `/api/tenants/${slug}/members/${editor.userId}`)).status).toBe(204);
    const audit = await owner.json<{ items: { action: string }[] }>("GET", `/api/tenants/${slug}/audit`);
    expect(audit.body.items.map((i) => i.action)).toEqual(
      expect.arrayContaining(["member.leave", "member.remove", "member.join"]),
    );
  });

  it("shows an invitation to anyone holding its link, and refuses a second invitation to the same address", async () => {
    const { owner, slug } = await ownerWithTenant();
    const invite = await owner.json<{ accept_url: string }>("POST", `/api/tenants/${slug}/invitations`, {
      body: { email: "twice@example.com", role: "editor" },
    });
    const token = invitationToken(invite.body.accept_url);
    const preview = await new Client().json("GET", `/api/invitations/${token}`);
    expect(preview.status).toBe(200);
    expect(preview.body).toMatchObject({ tenant: { slug }, email: "twice@example.com", role: "editor" });
    expectProblem(await new Client().json("POST", `/api/invitations/${token}/accept`), 401);
    expectProblem(
      await owner.json("POST", `/api/tenants/${slug}/invitations`, {
        body: { email: "Twice@example.com", role: "viewer" },
      }),
      409,
    );
  });

  it("lists and revokes pending invitations", async () => {
    const { owner, slug } = await ownerWithTenant();
    const invite = await owner.json<{ id: string; accept_url: string }>(
      "POST",
      `/api/tenants/${slug}/invitations`,
      { body: { email: "later@example.com", role: "viewer" } },
    );
    const list = await owner.json<{ items: { id: string }[] }>("GET", `/api/tenants/${slug}/invitations`);
    expect(list.body.items.map((i) => i.id)).toEqual([invite.body.id]);
    expect((await owner.call("DELETE", `/api/tenants/${slug}/invitations/${invite.body.id}`)).status).toBe(
      204,
    );
    const invitee = await signUp("later@example.com");
    const token = invitationToken(invite.body.accept_url);
    expectProblem(await invitee.json("POST", `/api/invitations/${token}/accept`), 404);
  });
});

describe("API tokens", () => {
  it("shows a token once, stores only its hash, and lists it without the value", async () => {
    const { owner, slug } = await ownerWithTenant();
    const created = await owner.json<{ id: string; token: string; role: string }>(
      "POST",
      `/api/tenants/${slug}/tokens`,
      {
        body: { name: "ci", role: "editor" },
      },
    );
    expect(created.status).toBe(201);
    expect(created.body.token).toMatch(/^upd_/);
    const list = await owner.json<{ items: Record<string, unknown>[] }>("GET", `/api/tenants/${slug}/tokens`);
    expect(list.body.items).toHaveLength(1);
    expect(JSON.stringify(list.body)).not.toContain(created.body.token);
    const stored = await env.DB.prepare("SELECT token_hash FROM api_tokens WHERE id = ?")
      .bind(created.body.id)
      .first<{ token_hash: string }>();
    expect(stored?.token_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("authenticates with the token, within its tenant and role", async () => {
    const { owner, slug } = await ownerWithTenant();
    const viewer = await tokenFor(owner, slug, "viewer");
    expect((await viewer.json("GET", `/api/tenants/${slug}/members`)).status).toBe(200);
    expectProblem(await viewer.json("PUT", `/api/tenants/${slug}/secrets/X`, { body: { value: "v" } }), 403);
    const other = await ownerWithTenant();
    expectProblem(await viewer.json("GET", `/api/tenants/${other.slug}`), 404);
  });

  it("stops working the moment it is revoked", async () => {
    const { owner, slug } = await ownerWithTenant();
    const created = await owner.json<{ id: string; token: string }>("POST", `/api/tenants/${slug}/tokens`, {
      body: { name: "t", role: "admin" },
    });
    const client = new Client(undefined, created.body.token);
    expect((await client.call("GET", `/api/tenants/${slug}`)).status).toBe(200);
    expect((await owner.call("DELETE", `/api/tenants/${slug}/tokens/${created.body.id}`)).status).toBe(204);
    expectProblem(await client.json("GET", `/api/tenants/${slug}`), 401);
  });

  it("answers 401 for an unknown token and for a malformed Authorization header", async () => {
    expectProblem(await new Client(undefined, "upd_nope").json("GET", "/api/me"), 401);
    const res = await new Client().json("GET", "/api/me", { headers: { authorization: "Basic abc" } });
    expectProblem(res, 401);
  });

  it("never issues a token above the creator's role", async () => {
    const { owner, slug } = await ownerWithTenant();
    const admin = await tokenFor(owner, slug, "admin");
    expect(
      (await admin.json("POST", `/api/tenants/${slug}/tokens`, { body: { name: "x", role: "admin" } }))
        .status,
    ).toBe(201);
    expectProblem(
      await owner.json("POST", `/api/tenants/${slug}/tokens`, { body: { name: "x", role: "owner" } }),
      422,
    );
  });
});
