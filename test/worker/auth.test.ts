import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { Client, expectProblem, signUp, uniqueEmail } from "./helpers";

describe("sign-up, sign-in, sign-out", () => {
  it("signs up, sets an HttpOnly SameSite session cookie and knows the caller", async () => {
    const client = new Client();
    const email = uniqueEmail();
    const res = await client.call("POST", "/api/auth/sign-up/email", {
      body: { name: "Ada", email, password: "long enough pw" },
    });
    expect(res.status).toBe(201);
    const cookie = res.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/updraft_session=/);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    const me = await client.json<{ user: { email: string }; tenants: unknown[] }>("GET", "/api/me");
    expect(me.status).toBe(200);
    expect(me.body.user.email).toBe(email);
    expect(me.body.tenants).toEqual([]);
  });

  it("stores a slow salted hash, never the password", async () => {
    const email = uniqueEmail();
    await signUp(email, "secret password 1");
    const row = await env.DB.prepare("SELECT password_hash FROM users WHERE email = ?")
      .bind(email)
      .first<{ password_hash: string }>();
    expect(row?.password_hash).toMatch(/^pbkdf2-sha256\$100000\$/);
    expect(row?.password_hash).not.toContain("secret password 1");
  });

  it("answers 409 for an email that is taken, in any case", async () => {
    const email = uniqueEmail();
    await signUp(email);
    const res = await new Client().json("POST", "/api/auth/sign-up/email", {
      body: { name: "x", email: email.toUpperCase(), password: "long enough pw" },
    });
    expectProblem(res, 409);
  });

  it("signs in with the right password and answers 401 for a wrong one or an unknown email", async () => {
    const email = uniqueEmail();
    await signUp(email, "the right password");
    const ok = await new Client().json("POST", "/api/auth/sign-in/email", {
      body: { email, password: "the right password" },
    });
    expect(ok.status).toBe(200);
    expectProblem(
      await new Client().json("POST", "/api/auth/sign-in/email", {
        body: { email, password: "wrong password" },
      }),
      401,
    );
    expectProblem(
      await new Client().json("POST", "/api/auth/sign-in/email", {
        body: { email: uniqueEmail(), password: "whatever1" },
      }),
      401,
    );
  });

  it("rate-limits one client's failures on an account with 429 and Retry-After, even for the right password", async () => {
    const email = uniqueEmail();
    await signUp(email, "the right password");
    const from = { "cf-connecting-ip": "198.51.100.7" };
    for (let i = 0; i < 5; i++) {
      const res = await new Client().json("POST", "/api/auth/sign-in/email", {
        body: { email, password: `wrong ${i}` },
        headers: from,
      });
      expect(res.status).toBe(401);
    }
    const blocked = await new Client().json("POST", "/api/auth/sign-in/email", {
      body: { email, password: "the right password" },
      headers: from,
    });
    expectProblem(blocked, 429);
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
    // Someone else's guessing does not lock the owner out from their own address.
    const owner = await new Client().json("POST", "/api/auth/sign-in/email", {
      body: { email, password: "the right password" },
      headers: { "cf-connecting-ip": "198.51.100.8" },
    });
    expect(owner.status).toBe(200);
  });

  it("rate-limits sign-in failures per client address across accounts", async () => {
    const ip = `203.0.113.${Math.floor(Math.random() * 200)}`;
    for (let i = 0; i < 50; i++) {
      await new Client().call("POST", "/api/auth/sign-in/email", {
        body: { email: uniqueEmail(), password: "nope nope" },
        headers: { "cf-connecting-ip": ip },
      });
    }
    const res = await new Client().json("POST", "/api/auth/sign-in/email", {
      body: { email: uniqueEmail(), password: "nope nope" },
      headers: { "cf-connecting-ip": ip },
    });
    expectProblem(res, 429);
  });

  it("signs out: the session stops working at once", async () => {
    const client = await signUp();
    const cookie = client.cookie;
    expect((await client.call("POST", "/api/auth/sign-out")).status).toBe(204);
    const stale = new Client(cookie);
    expectProblem(await stale.json("GET", "/api/me"), 401);
  });

  it("answers 401 for an expired session", async () => {
    const client = await signUp();
    await env.DB.prepare("UPDATE sessions SET expires_at = '2000-01-01T00:00:00.000Z'").run();
    const res = await client.json("GET", "/api/me");
    expect(expectProblem(res, 401).detail).toMatch(/expired/);
  });

  it("answers 401 to anonymous callers", async () => {
    expectProblem(await new Client().json("GET", "/api/me"), 401);
  });

  it("refuses a sign-up from a foreign origin (login CSRF)", async () => {
    const res = await new Client().json("POST", "/api/auth/sign-up/email", {
      body: { name: "x", email: uniqueEmail(), password: "long enough pw" },
      headers: { origin: "https://evil.example" },
    });
    expectProblem(res, 403);
  });

  it("validates sign-up bodies with paths and never creates a user for bad input", async () => {
    const email = uniqueEmail();
    const res = await new Client().json("POST", "/api/auth/sign-up/email", {
      body: { name: "", email, password: "short", admin: true },
    });
    const problem = expectProblem(res, 422);
    const paths = (problem.errors ?? []).map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(["name", "password"]));
    expect(problem.errors?.some((e) => /admin/.test(e.message) || e.path === "admin" || e.path === "")).toBe(
      true,
    );
    const row = await env.DB.prepare("SELECT id FROM users WHERE email = ?").bind(email).first();
    expect(row).toBeNull();
  });
});
