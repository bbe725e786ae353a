/** Email + password identity: sign-up, sign-in (throttled), sign-out. */
import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { deleteCookie, setCookie } from "hono/cookie";
import type { AppEnv } from "../app-env";
import { burnPasswordCheck, hashPassword, verifyPassword } from "../auth/password";
import { newSession, SESSION_COOKIE, SESSION_TTL_MS } from "../auth/sessions";
import { countAttempt, forgiveAttempt, signInKeys } from "../auth/throttle";
import { SessionResponse, SignInBody, SignUpBody } from "../contracts/api";
import { newId } from "../crypto/random";
import { batch, db } from "../db/client";
import { isDuplicateKey } from "../db/constraints";
import { publicOrigin } from "../origin";
import { problems } from "../problem";
import { clientIp } from "./access";
import { errorResponses, json, jsonBody, newApi } from "./openapi";

function setSessionCookie(c: Context<AppEnv>, token: string) {
  setCookie(c, SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: "Lax",
    secure: publicOrigin(c).startsWith("https:"),
    path: "/",
    maxAge: Math.floor(SESSION_TTL_MS / 1000),
  });
}

export const authApi = newApi()
  .openapi(
    createRoute({
      method: "post",
      path: "/sign-up/email",
      operationId: "signUp",
      tags: ["identity"],
      request: jsonBody(SignUpBody),
      responses: { 201: json(SessionResponse, "Signed up and signed in"), ...errorResponses },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const email = body.email.toLowerCase();
      const d = db(c.env.DB);
      const taken = await d.selectFrom("users").select("id").where("email", "=", email).executeTakeFirst();
      if (taken) throw problems.conflict("An account with this email already exists; sign in instead.");
      const now = new Date();
      const user = { id: newId("usr"), email, name: body.name };
      const session = await newSession(user.id, now);
      try {
        await batch(c.env.DB, [
          d.insertInto("users").values({
            ...user,
            password_hash: await hashPassword(body.password),
            created_at: now.toISOString(),
          }),
          d.insertInto("sessions").values(session.row),
        ]);
      } catch (error) {
        // Two sign-ups racing for one address: the UNIQUE constraint decides, the loser gets a 409.
        if (isDuplicateKey(error)) throw problems.conflict("An account with this email already exists.");
        throw error;
      }
      setSessionCookie(c, session.token);
      return c.json({ user }, 201);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/sign-in/email",
      operationId: "signIn",
      tags: ["identity"],
      request: jsonBody(SignInBody),
      responses: { 200: json(SessionResponse, "Signed in"), ...errorResponses },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const email = body.email.trim().toLowerCase();
      const d = db(c.env.DB);
      const now = new Date();
      const ip = clientIp(c);
      // Counted before the password is checked: parallel guesses cannot all get in before one fails.
      const attempt = await countAttempt(c.env.DB, signInKeys(email, ip), now);
      if (attempt.kind === "refused") {
        throw problems.rateLimited("Too many failed sign-ins; try again later.", attempt.retryAfterSeconds);
      }
      const user = await d.selectFrom("users").selectAll().where("email", "=", email).executeTakeFirst();
      const ok = user
        ? await verifyPassword(body.password, user.password_hash)
        : await burnPasswordCheck(body.password);
      if (!user || !ok) throw problems.unauthenticated("The email or password is wrong.");
      const session = await newSession(user.id, now);
      await batch(c.env.DB, [d.insertInto("sessions").values(session.row), ...forgiveAttempt(d, attempt)]);
      setSessionCookie(c, session.token);
      return c.json({ user: { id: user.id, email: user.email, name: user.name } }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/sign-out",
      operationId: "signOut",
      tags: ["identity"],
      responses: { 204: { description: "Signed out; the session is deleted" }, ...errorResponses },
    }),
    async (c) => {
      const principal = c.get("principal");
      if (principal?.kind === "user") {
        await db(c.env.DB).deleteFrom("sessions").where("token_hash", "=", principal.sessionHash).execute();
      }
      deleteCookie(c, SESSION_COOKIE, { path: "/" });
      return c.body(null, 204);
    },
  );
