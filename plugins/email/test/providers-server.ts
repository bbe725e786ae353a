/**
 * Stand-ins for three email APIs on 127.0.0.1, each speaking its provider's wire format (none has an
 * open-source server): Resend (`/resend/emails`, `/resend/domains`, Bearer, Idempotency-Key), Postmark
 * (`/postmark/email`, `/postmark/server`, X-Postmark-Server-Token, ErrorCode) and SendGrid v3
 * (`/sendgrid/v3/mail/send`, `/sendgrid/v3/scopes`, Bearer, 202 + X-Message-Id). The good key is
 * `key-good`; recipient `bounce@invalid.test` is refused, `busy@example.com` is rate-limited once per provider.
 * `GET /sent` lists what was accepted, as `{provider, to, subject}`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    mailPort: number;
  }
}

type Sent = { provider: string; to: string[]; subject: string; from: string; key?: string };
const sent: Sent[] = [];
const idempotent = new Map<string, string>();
/** Providers that already rate-limited `busy@example.com` once. */
const limited = new Set<string>();
let n = 0;

function reply(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  response.writeHead(status, { "content-type": "application/json", ...headers });
  response.end(body === undefined ? "" : JSON.stringify(body));
}

async function answer(request: IncomingMessage, response: ServerResponse) {
  const url = new URL(request.url ?? "/", "http://mail");
  if (url.pathname === "/sent") return reply(response, 200, sent);
  let text = "";
  for await (const chunk of request) text += chunk;
  // biome-ignore lint/suspicious/noExplicitAny: three providers' request shapes, read field by field below.
  const body = text ? (JSON.parse(text) as Record<string, any>) : {};
  const bearer = request.headers.authorization === "Bearer key-good";
  const [, provider = "", ...rest] = url.pathname.split("/");
  const path = `/${rest.join("/")}`;
  const rateLimit = (to: string[]) => {
    if (!to.includes("busy@example.com") || limited.has(provider)) return false;
    limited.add(provider);
    return true;
  };
  switch (`${provider} ${request.method} ${path}`) {
    case "resend GET /domains":
      return bearer
        ? reply(response, 200, { data: [] })
        : reply(response, 401, { statusCode: 401, name: "validation_error", message: "API key is invalid" });
    case "resend POST /emails": {
      if (!bearer)
        return reply(response, 401, {
          statusCode: 401,
          name: "validation_error",
          message: "API key is invalid",
        });
      const key = String(request.headers["idempotency-key"] ?? "");
      const known = idempotent.get(key);
      if (known) return reply(response, 200, { id: known });
      const to = body.to as string[];
      if (rateLimit(to))
        return reply(
          response,
          429,
          { statusCode: 429, name: "rate_limit_exceeded", message: "Too many requests" },
          { "retry-after": "1" },
        );
      if (to.includes("bounce@invalid.test"))
        return reply(response, 422, {
          statusCode: 422,
          name: "validation_error",
          message: "Invalid `to` field.",
        });
      const id = `re_${++n}`;
      if (key) idempotent.set(key, id);
      sent.push({ provider, to, subject: body.subject, from: body.from, key });
      return reply(response, 200, { id });
    }
    case "postmark GET /server":
      return request.headers["x-postmark-server-token"] === "key-good"
        ? reply(response, 200, { ID: 1, Name: "Updraft test" })
        : reply(response, 401, {
            ErrorCode: 10,
            Message: "No Account or Server API tokens were supplied in the HTTP headers.",
          });
    case "postmark POST /email": {
      if (request.headers["x-postmark-server-token"] !== "key-good")
        return reply(response, 401, { ErrorCode: 10, Message: "The Server API token is not valid." });
      const to = String(body.To).split(", ");
      if (to.includes("bounce@invalid.test"))
        return reply(response, 422, {
          ErrorCode: 300,
          Message: "Invalid 'To' address: 'bounce@invalid.test'.",
        });
      sent.push({ provider, to, subject: body.Subject, from: body.From });
      return reply(response, 200, {
        To: body.To,
        SubmittedAt: new Date().toISOString(),
        MessageID: `pm-${++n}`,
        ErrorCode: 0,
        Message: "OK",
      });
    }
    case "sendgrid GET /v3/scopes":
      return bearer
        ? reply(response, 200, { scopes: ["mail.send", "user.profile.read"] })
        : reply(response, 401, { errors: [{ field: null, message: "authorization required" }] });
    case "sendgrid POST /v3/mail/send": {
      if (!bearer)
        return reply(response, 401, {
          errors: [
            { field: null, message: "The provided authorization grant is invalid, expired, or revoked" },
          ],
        });
      const to = (body.personalizations?.[0]?.to ?? []).map((r: { email: string }) => r.email);
      if (rateLimit(to))
        return reply(
          response,
          429,
          { errors: [{ message: "too many requests" }] },
          { "x-ratelimit-reset": String(Math.floor(Date.now() / 1000) + 2) },
        );
      if (to.includes("bounce@invalid.test"))
        return reply(response, 400, {
          errors: [{ field: "personalizations.0.to", message: "Does not contain a valid address." }],
        });
      sent.push({ provider, to, subject: body.subject, from: body.from?.email });
      return reply(response, 202, undefined, { "x-message-id": `sg-${++n}` });
    }
    default:
      return reply(response, 404, { message: "no such route" });
  }
}

export default async function setup(project: TestProject) {
  const server = createServer((request, response) => {
    answer(request, response).catch(() => response.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  project.provide("mailPort", (server.address() as AddressInfo).port);
  return () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
}
