/** An invitation's link is a bearer capability: only its hash is stored, and it is shown once. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { newSecretToken, sha256Hex } from "../../worker/crypto/random";
import { Client, expectProblem, invitationToken, ownerWithTenant, signUp, uniqueEmail } from "./helpers";

type CreatedInvitation = {
  id: string;
  email: string;
  role: string;
  created_at: string;
  expires_at: string;
  accept_url: string;
};

async function invite(owner: Client, slug: string, email: string) {
  const res = await owner.json<CreatedInvitation>("POST", `/api/tenants/${slug}/invitations`, {
    body: { email, role: "viewer" },
  });
  expect(res.status).toBe(201);
  return { created: res.body, token: invitationToken(res.body.accept_url) };
}

describe("invitation links", () => {
  it("stores only the SHA-256 of the link's token, never the token itself", async () => {
    const { owner, slug } = await ownerWithTenant();
    const { created, token } = await invite(owner, slug, uniqueEmail("invitee"));
    const row = await env.DB.prepare("SELECT * FROM invitations WHERE id = ?")
      .bind(created.id)
      .first<Record<string, unknown>>();
    expect(row).not.toBeNull();
    expect(JSON.stringify(row)).not.toContain(token);
    expect(row?.token_hash).toBe(await sha256Hex(token));
  });

  it("lists a pending invitation by its public id, without the token or anything derived from it", async () => {
    const { owner, slug } = await ownerWithTenant();
    const email = uniqueEmail("invitee");
    const { created, token } = await invite(owner, slug, email);
    const list = await owner.json<{ items: Record<string, unknown>[] }>(
      "GET",
      `/api/tenants/${slug}/invitations`,
    );
    expect(list.status).toBe(200);
    expect(list.body.items).toEqual([
      {
        id: created.id,
        email,
        role: "viewer",
        created_at: created.created_at,
        expires_at: created.expires_at,
      },
    ]);
    const listed = JSON.stringify(list.body);
    expect(listed).not.toContain(token);
    expect(listed).not.toContain(await sha256Hex(token));
  });

  it("opens and accepts by the link's token only: the public id, the stored hash and unknown tokens are 404", async () => {
    const { owner, slug } = await ownerWithTenant();
    const email = uniqueEmail("invitee");
    const { created, token } = await invite(owner, slug, email);
    const invitee = await signUp(email);
    for (const wrong of [created.id, await sha256Hex(token), newSecretToken("inv"), "inv_doesnotexist"]) {
      expectProblem(await new Client().json("GET", `/api/invitations/${wrong}`), 404);
      expectProblem(await invitee.json("POST", `/api/invitations/${wrong}/accept`), 404);
    }
    const preview = await new Client().json("GET", `/api/invitations/${token}`);
    expect(preview.status).toBe(200);
    expect(preview.body).toMatchObject({ tenant: { slug }, email, role: "viewer" });
    const accepted = await invitee.json("POST", `/api/invitations/${token}/accept`);
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ tenant: { slug }, role: "viewer" });
    const me = await invitee.json<{ tenants: { slug: string; role: string }[] }>("GET", "/api/me");
    expect(me.body.tenants).toContainEqual(expect.objectContaining({ slug, role: "viewer" }));
    expectProblem(await invitee.json("POST", `/api/invitations/${token}/accept`), 409);
  });

  it("revokes by the public id, not by the token, after which the link answers 404", async () => {
    const { owner, slug } = await ownerWithTenant();
    const email = uniqueEmail("invitee");
    const { created, token } = await invite(owner, slug, email);
    expectProblem(await owner.json("DELETE", `/api/tenants/${slug}/invitations/${token}`), 404);
    expect((await owner.call("DELETE", `/api/tenants/${slug}/invitations/${created.id}`)).status).toBe(204);
    const invitee = await signUp(email);
    expectProblem(await invitee.json("GET", `/api/invitations/${token}`), 404);
    expectProblem(await invitee.json("POST", `/api/invitations/${token}/accept`), 404);
    const list = await owner.json<{ items: unknown[] }>("GET", `/api/tenants/${slug}/invitations`);
    expect(list.body.items).toEqual([]);
  });
});
