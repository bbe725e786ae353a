/** Catalog entry for the email plugin: one operator, `send`, through the connection's provider. */
import { defineOperator, definePlugin, NonRetriableError, secret } from "@updraft/plugin-sdk";
import { assertPublicDestination, readJsonCapped } from "@updraft/plugin-sdk/network";
import { z } from "zod";
import { answerOf, DEFAULT_API_URL, type Message, type Provider, requestFor } from "./providers.ts";

// A plain, bounded pattern, not z.email(): the platform refuses manifest regexes that could backtrack.
const Address = z
  .string()
  .max(320)
  .regex(/^[^\s@<>,;]{1,64}@[^\s@<>,;.]{1,63}\.[^\s@<>,;]{1,190}$/, "an email address");
const Addresses = z.union([Address, z.array(Address).min(1).max(50)]);

export const Connection = z.strictObject({
  provider: z.enum(["resend", "postmark", "sendgrid"]).describe("Whose HTTP API sends the mail."),
  api_key: secret(z.string().min(1).max(500)).describe(
    "The provider's API key (Postmark: the server token).",
  ),
  from: Address.describe("The default sender, on a domain the provider has verified."),
  api_url: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe("Only for a regional endpoint or a proxy."),
});
type Connection = z.output<typeof Connection>;

const list = (value: string | string[] | undefined) => (value === undefined ? undefined : [value].flat());

/** The provider's base URL under the private-network rule. */
function baseOf(connection: Connection, env: unknown): string {
  const base = (connection.api_url ?? DEFAULT_API_URL[connection.provider]).replace(/\/+$/, "");
  assertPublicDestination(new URL(base), env, "the API URL");
  return base;
}

async function deliver(
  connection: Connection,
  message: Message,
  key: string,
  options: { env: unknown; signal: AbortSignal },
): Promise<string> {
  const provider: Provider = connection.provider;
  const request = requestFor(provider, connection.api_key, message, key);
  let response: Response;
  try {
    response = await fetch(`${baseOf(connection, options.env)}${request.path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...request.headers },
      body: JSON.stringify(request.body),
      redirect: "manual",
      signal: options.signal,
    });
  } catch (thrown) {
    if (thrown instanceof NonRetriableError) throw thrown;
    throw new Error(`${provider} could not be reached: ${thrown instanceof Error ? thrown.message : thrown}`);
  }
  return answerOf(provider, response);
}

const send = defineOperator({
  name: "send",
  kind: "action",
  description:
    "Sends an email (`subject` with `text` and/or `html`) to `to` (one address or up to 50), with optional " +
    "`cc`, `bcc`, `reply_to` and `from` (the connection's sender by default), through the connection's " +
    "provider. A refusal (bad address, unverified sender, wrong key) fails the task with the provider's reason.",
  input: z
    .strictObject({
      to: Addresses,
      cc: Addresses.optional(),
      bcc: Addresses.optional(),
      reply_to: Address.optional(),
      from: Address.optional(),
      subject: z.string().min(1).max(998),
      text: z.string().max(1_000_000).optional(),
      html: z.string().max(1_000_000).optional(),
    })
    .refine((input) => input.text !== undefined || input.html !== undefined, {
      message: "give text, html, or both",
    }),
  output: z.strictObject({ provider: z.string(), id: z.string(), to: z.array(z.string()) }),
  timeout: "30s",
  async run(ctx) {
    const connection = Connection.parse(ctx.connection);
    const { input } = ctx;
    const to = list(input.to) ?? [];
    const message: Message = {
      from: input.from ?? connection.from,
      to,
      cc: list(input.cc),
      bcc: list(input.bcc),
      reply_to: input.reply_to,
      subject: input.subject,
      text: input.text,
      html: input.html,
    };
    const id = await deliver(connection, message, ctx.invocation.idempotency_key, {
      env: ctx.env,
      signal: ctx.signal,
    });
    ctx.log("info", `sent "${input.subject}" to ${to.length} recipient(s) with ${connection.provider}`);
    return { provider: connection.provider, id, to };
  },
});

/** Each provider's side-effect-free call that shows whether the key is good (and may send). */
const CHECKS: Record<
  Provider,
  {
    path: string;
    headers: (key: string) => Record<string, string>;
    verdict: (status: number, body: Record<string, unknown> | undefined) => { ok: boolean; detail: string };
  }
> = {
  resend: {
    path: "/domains",
    headers: (key) => ({ authorization: `Bearer ${key}` }),
    // A sending-only key may not list domains: Resend says so, and that key can still send.
    verdict: (status, body) =>
      status === 200 || body?.name === "restricted_api_key"
        ? { ok: true, detail: "Resend accepts the key." }
        : {
            ok: false,
            detail: `Resend refused the key (${status}): ${String(body?.message ?? "no reason")}`,
          },
  },
  postmark: {
    path: "/server",
    headers: (key) => ({ "x-postmark-server-token": key }),
    verdict: (status, body) =>
      status === 200
        ? { ok: true, detail: `Postmark server "${String(body?.Name ?? "?")}" accepts the token.` }
        : {
            ok: false,
            detail: `Postmark refused the token (${status}): ${String(body?.Message ?? "no reason")}`,
          },
  },
  sendgrid: {
    path: "/v3/scopes",
    headers: (key) => ({ authorization: `Bearer ${key}` }),
    verdict: (status, body) => {
      const scopes = Array.isArray(body?.scopes) ? (body.scopes as unknown[]) : [];
      if (status !== 200) return { ok: false, detail: `SendGrid refused the key (${status})` };
      return scopes.includes("mail.send")
        ? { ok: true, detail: "SendGrid accepts the key, with the mail.send scope." }
        : { ok: false, detail: "SendGrid accepts the key, but it lacks the mail.send scope." };
    },
  },
};

export const email = definePlugin({
  name: "email",
  version: "1.0.0",
  title: "Email",
  description:
    "Sends email through Resend, Postmark or SendGrid (the connection picks the provider); a refusal fails " +
    "the task with the provider's reason, rate limits become back-offs.",
  categories: ["notifications", "email"],
  icon:
    "data:image/svg+xml;base64," +
    btoa(
      '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path fill="none" stroke="#0f766e" ' +
        'stroke-width="2" d="M3 6h18v12H3zM3 6l9 7 9-7"/></svg>',
    ),
  homepage: "https://github.com/updraft/updraft/tree/main/plugins/email",
  connection: Connection,
  operators: [send],
  async testConnection(raw, ctx) {
    // A throw is a failed test with its message: the SDK's connection test says so (bounded).
    const connection = Connection.parse(raw);
    const check = CHECKS[connection.provider];
    const response = await fetch(`${baseOf(connection, ctx.env)}${check.path}`, {
      headers: { accept: "application/json", ...check.headers(connection.api_key) },
      redirect: "manual",
      signal: ctx.signal,
    });
    const body = (await readJsonCapped(response, 64 * 1024)) as Record<string, unknown> | undefined;
    return check.verdict(response.status, body);
  },
});
