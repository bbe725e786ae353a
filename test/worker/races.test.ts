/**
 * Requests that race one another: 20 at once through the Worker, with the outcome read from D1 itself
 * (memberships, audit rows) rather than from what the handlers answered.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  addMember,
  Client,
  expectProblem,
  invitationToken,
  ownerWithTenant,
  signUp,
  uniqueEmail,
} from "./helpers";

const CONCURRENCY = 20;

type Answer = Awaited<ReturnType<Client["json"]>>;

function all(count: number, send: (i: number) => Promise<Answer>): Promise<Answer[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => send(i)));
}

function statuses(answers: Answer[]): number[] {
  return answers.map((a) => a.status).sort();
}

async function count(query: string, ...params: string[]): Promise<number> {
  const row = await env.DB.prepare(query)
    .bind(...params)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

function auditCount(slug: string, action: string, targetLike = "%"): Promise<number> {
  return count(
    `SELECT count(*) AS n FROM audit_log a JOIN tenants t ON t.id = a.tenant_id
     WHERE t.slug = ? AND a.action = ? AND a.target LIKE ?`,
    slug,
    action,
    targetLike,
  );
}

function owners(slug: string): Promise<number> {
  return count(
    "SELECT count(*) AS n FROM memberships m JOIN tenants t ON t.id = m.tenant_id WHERE t.slug = ? AND m.role = 'owner'",
    slug,
  );
}

afterEach(() => {
  vi.useRealTimers();
});

describe("concurrent accepts of one invitation", () => {
  it("lets exactly one of 20 accepts win; the others get 409 and nothing is written twice", async () => {
    const { owner, slug } = await ownerWithTenant();
    const email = uniqueEmail("invitee");
    const invite = await owner.json<{ accept_url: string }>("POST", `/api/tenants/${slug}/invitations`, {
      body: { email, role: "editor" },
    });
    expect(invite.status).toBe(201);
    const token = invitationToken(invite.body.accept_url);
    const invitee = await signUp(email);
    const answers = await all(CONCURRENCY, () => invitee.json("POST", `/api/invitations/${token}/accept`));
    expect(statuses(answers)).toEqual([200, ...Array(CONCURRENCY - 1).fill(409)]);
    for (const answer of answers.filter((a) => a.status !== 200)) expectProblem(answer, 409);
    const members = await count(
      "SELECT count(*) AS n FROM memberships m JOIN tenants t ON t.id = m.tenant_id JOIN users u ON u.id = m.user_id WHERE t.slug = ? AND u.email = ?",
      slug,
      email,
    );
    expect(members).toBe(1);
    expect(await auditCount(slug, "member.join")).toBe(1);
  });
});

describe("the last owner under concurrency", () => {
  /** A tenant with two owners, each signed in. */
  async function twoOwners() {
    const { owner, slug } = await ownerWithTenant();
    const me = await owner.json<{ user: { id: string } }>("GET", "/api/me");
    const other = await addMember(owner, slug, "owner");
    return { slug, a: { client: owner, userId: me.body.user.id }, b: other };
  }

  it("keeps an owner when two owners demote each other at the same time, every time", async () => {
    for (let round = 0; round < 8; round++) {
      const { slug, a, b } = await twoOwners();
      const demote = (by: Client, userId: string) =>
        by.json("PATCH", `/api/tenants/${slug}/members/${userId}`, { body: { role: "admin" } });
      const answers = await Promise.all([demote(a.client, b.userId), demote(b.client, a.userId)]);
      expect(statuses(answers)).toEqual([200, 409]);
      expect(await owners(slug)).toBe(1);
      expect(await auditCount(slug, "member.role", "%owner→admin")).toBe(1);
    }
  });

  it("keeps an owner when two owners remove each other, or both leave, at the same time", async () => {
    for (let round = 0; round < 8; round++) {
      const { slug, a, b } = await twoOwners();
      const leaving = round % 2 === 1;
      const answers = await Promise.all([
        a.client.json("DELETE", `/api/tenants/${slug}/members/${leaving ? a.userId : b.userId}`),
        b.client.json("DELETE", `/api/tenants/${slug}/members/${leaving ? b.userId : a.userId}`),
      ]);
      expect(statuses(answers)).toEqual([204, 409]);
      expect(await owners(slug)).toBe(1);
      expect(await auditCount(slug, leaving ? "member.leave" : "member.remove")).toBe(1);
    }
  });

  it("keeps an owner when five owners demote or remove one another in 20 requests at once", async () => {
    for (const how of ["demote", "remove"] as const) {
      const { owner, slug } = await ownerWithTenant();
      const me = await owner.json<{ user: { id: string } }>("GET", "/api/me");
      const everyone = [
        { client: owner, userId: me.body.user.id },
        ...(await Promise.all([1, 2, 3, 4].map(() => addMember(owner, slug, "owner")))),
      ];
      const requests = everyone.flatMap((by) =>
        everyone.filter((target) => target !== by).map((target) => ({ by, target })),
      );
      expect(requests).toHaveLength(CONCURRENCY);
      const answers = await Promise.all(
        requests.map(({ by, target }) => {
          const path = `/api/tenants/${slug}/members/${target.userId}`;
          return how === "demote"
            ? by.client.json("PATCH", path, { body: { role: "admin" } })
            : by.client.json("DELETE", path);
        }),
      );
      // 403 and 404: the caller was itself demoted or removed (or its target removed) before its turn.
      for (const answer of answers) expect([200, 204, 403, 404, 409]).toContain(answer.status);
      const left = await owners(slug);
      expect(left).toBeGreaterThanOrEqual(1);
      const audited =
        how === "demote"
          ? await auditCount(slug, "member.role", "%owner→admin")
          : await auditCount(slug, "member.remove");
      expect(audited).toBe(everyone.length - left);
    }
  });
});

describe("parallel sign-in guesses", () => {
  const signIn = (email: string, password: string, ip: string) =>
    new Client().json("POST", "/api/auth/sign-in/email", {
      body: { email, password },
      headers: { "cf-connecting-ip": ip },
    });

  it("lets at most the limit of 20 parallel wrong guesses reach the password check; the rest get 429", async () => {
    const email = uniqueEmail();
    await signUp(email, "the right password");
    const ip = "198.51.100.21";
    const answers = await all(CONCURRENCY, (i) => signIn(email, `wrong ${i}`, ip));
    const checked = answers.filter((a) => a.status === 401);
    const refused = answers.filter((a) => a.status === 429);
    expect(checked.length + refused.length).toBe(CONCURRENCY);
    expect(checked.length).toBeGreaterThan(0);
    expect(checked.length).toBeLessThanOrEqual(5);
    for (const answer of refused) {
      expectProblem(answer, 429);
      const wait = Number(answer.headers.get("retry-after"));
      expect(wait).toBeGreaterThan(0);
      expect(wait).toBeLessThanOrEqual(15 * 60);
    }
    expectProblem(await signIn(email, "the right password", ip), 429);
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 15 * 60 * 1000 + 1000 });
    expect((await signIn(email, "the right password", ip)).status).toBe(200);
  });

  it("forgets a client's failures on success, and does not count successes against the address", async () => {
    const ip = `203.0.113.${Math.floor(Math.random() * 200)}`;
    const email = uniqueEmail();
    await signUp(email, "the right password");
    for (let i = 0; i < 4; i++) expectProblem(await signIn(email, `wrong ${i}`, ip), 401);
    expect((await signIn(email, "the right password", ip)).status).toBe(200);
    for (let i = 0; i < 5; i++) expectProblem(await signIn(email, `wrong ${i}`, ip), 401);
    expectProblem(await signIn(email, "the right password", ip), 429);
    // 40 more failures from that address make 49 (its limit is 50), on as many accounts.
    const failures = await all(40, () => signIn(uniqueEmail(), "nope nope", ip));
    expect(new Set(failures.map((a) => a.status))).toEqual(new Set([401]));
    const other = uniqueEmail();
    await signUp(other, "another right password");
    for (let i = 0; i < 3; i++) {
      expect((await signIn(other, "another right password", ip)).status).toBe(200);
    }
    expectProblem(await signIn(uniqueEmail(), "nope nope", ip), 401);
    expectProblem(await signIn(uniqueEmail(), "nope nope", ip), 429);
  });
});
