/**
 * The three providers' wire formats: how a message becomes their request, and how their answer
 * becomes an id or the SDK error it stands for (with the provider's own reason, never the key).
 */
import { NonRetriableError, RetryAfterError } from "@updraft/plugin-sdk";
import { readTextCapped } from "@updraft/plugin-sdk/network";

export type Provider = "resend" | "postmark" | "sendgrid";

export const DEFAULT_API_URL: Record<Provider, string> = {
  resend: "https://api.resend.com",
  postmark: "https://api.postmarkapp.com",
  sendgrid: "https://api.sendgrid.com",
};

export interface Message {
  from: string;
  to: string[];
  cc?: string[] | undefined;
  bcc?: string[] | undefined;
  reply_to?: string | undefined;
  subject: string;
  text?: string | undefined;
  html?: string | undefined;
}

export interface Request {
  path: string;
  headers: Record<string, string>;
  body: unknown;
}

/** The provider's request for `message`; `key` is sent as Idempotency-Key where the provider takes one. */
export function requestFor(provider: Provider, apiKey: string, message: Message, key: string): Request {
  switch (provider) {
    case "resend":
      return {
        path: "/emails",
        headers: { authorization: `Bearer ${apiKey}`, "idempotency-key": key.slice(0, 256) },
        body: {
          from: message.from,
          to: message.to,
          cc: message.cc,
          bcc: message.bcc,
          reply_to: message.reply_to,
          subject: message.subject,
          text: message.text,
          html: message.html,
        },
      };
    case "postmark":
      return {
        path: "/email",
        headers: { "x-postmark-server-token": apiKey, accept: "application/json" },
        body: {
          From: message.from,
          To: message.to.join(", "),
          Cc: message.cc?.join(", "),
          Bcc: message.bcc?.join(", "),
          ReplyTo: message.reply_to,
          Subject: message.subject,
          TextBody: message.text,
          HtmlBody: message.html,
        },
      };
    case "sendgrid":
      return {
        path: "/v3/mail/send",
        headers: { authorization: `Bearer ${apiKey}` },
        body: {
          personalizations: [
            {
              to: message.to.map((email) => ({ email })),
              ...(message.cc ? { cc: message.cc.map((email) => ({ email })) } : {}),
              ...(message.bcc ? { bcc: message.bcc.map((email) => ({ email })) } : {}),
            },
          ],
          from: { email: message.from },
          ...(message.reply_to ? { reply_to: { email: message.reply_to } } : {}),
          subject: message.subject,
          content: [
            ...(message.text !== undefined ? [{ type: "text/plain", value: message.text }] : []),
            ...(message.html !== undefined ? [{ type: "text/html", value: message.html }] : []),
          ],
        },
      };
  }
}

/** The provider's reason in its answer's words (Resend `message`, Postmark `Message`, SendGrid `errors`). */
function reasonOf(json: unknown): string | undefined {
  if (typeof json !== "object" || json === null) return undefined;
  const body = json as { message?: unknown; Message?: unknown; errors?: Array<{ message?: unknown }> };
  const reason = body.message ?? body.Message ?? body.errors?.map((e) => e.message).join("; ");
  return typeof reason === "string" ? reason.slice(0, 500) : undefined;
}

/** The message id of an accepted send, or the error a refusal stands for. */
export async function answerOf(provider: Provider, response: Response): Promise<string> {
  const text = await readTextCapped(response, 64 * 1024);
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  const reason = reasonOf(json) ?? (text.slice(0, 200) || "no reason given");
  const said = `${provider} answered ${response.status}: ${reason}`;
  if (response.status === 429) {
    const seconds = Number(response.headers.get("retry-after"));
    const reset = Number(response.headers.get("x-ratelimit-reset"));
    const wait =
      Number.isFinite(seconds) && seconds > 0
        ? seconds * 1000
        : Number.isFinite(reset) && reset > 0
          ? Math.max(1_000, reset * 1000 - Date.now())
          : 30_000;
    throw new RetryAfterError(wait, said);
  }
  // 5xx, and Resend's 409 for the same idempotency key while the first request is still being handled.
  if (response.status >= 500 || response.status === 409) throw new Error(said);
  // Postmark answers some refusals with 200 and a non-zero ErrorCode.
  const postmarkCode = (json as { ErrorCode?: unknown } | undefined)?.ErrorCode;
  if (
    response.status >= 400 ||
    (provider === "postmark" && typeof postmarkCode === "number" && postmarkCode !== 0)
  ) {
    throw new NonRetriableError(said);
  }
  const id =
    provider === "resend"
      ? (json as { id?: unknown } | undefined)?.id
      : provider === "postmark"
        ? (json as { MessageID?: unknown } | undefined)?.MessageID
        : response.headers.get("x-message-id");
  return typeof id === "string" ? id : "";
}
