/**
 * S3's answers: error bodies (XML `<Error><Code/><Message/></Error>`) mapped to the SDK's result kinds
 * with the service's own words, and bounded reads. Never a credential: only Code and Message are kept.
 */
import { NonRetriableError, RetryAfterError } from "@updraft/plugin-sdk";
import { readTextCapped } from "@updraft/plugin-sdk/network";

/** Codes that mean the credentials or their rights are wrong: asking again will not help. */
const REFUSED = new Set(["InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidToken"]);

const XML_ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** Decodes XML text (entities and character references). */
export function xmlText(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]{1,6}|#\d{1,7}|amp|lt|gt|quot|apos);/g, (_, entity: string) => {
    const code = entity.startsWith("#x")
      ? Number.parseInt(entity.slice(2), 16)
      : entity.startsWith("#")
        ? Number(entity.slice(1))
        : Number.NaN;
    if (!Number.isNaN(code)) return code <= 0x10ffff ? String.fromCodePoint(code) : "\ufffd";
    return XML_ENTITIES[entity] ?? "";
  });
}

/** The text of the first `<name>` element in `xml`, decoded, or undefined. */
export function element(xml: string, name: string): string | undefined {
  const match = new RegExp(`<${name}>([^<]{0,4096})</${name}>`).exec(xml);
  return match?.[1] === undefined ? undefined : xmlText(match[1]);
}

/** Throws the SDK error a failed S3 answer stands for; `what` says which request it was. */
export async function raiseFor(response: Response, what: string): Promise<never> {
  const xml = await readTextCapped(response, 64 * 1024).catch(() => "");
  const code = element(xml, "Code");
  const message = element(xml, "Message")?.slice(0, 500);
  const said = `${what}: S3 answered ${response.status}${code ? ` ${code}` : ""}${message ? `: ${message}` : ""}`;
  if (response.status === 503 || response.status === 429 || code === "SlowDown") {
    const seconds = Number(response.headers.get("retry-after"));
    throw new RetryAfterError(Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 1_000, said);
  }
  if (response.status >= 500) throw new Error(said);
  if (code && REFUSED.has(code))
    throw new NonRetriableError(`${said} (check the connection's keys and rights)`);
  throw new NonRetriableError(said);
}

/** A network error or timeout, worded; retryable. */
export function unreachable(what: string, thrown: unknown): Error {
  if (thrown instanceof NonRetriableError || thrown instanceof RetryAfterError) return thrown;
  return new Error(
    `${what}: the store could not be reached: ${thrown instanceof Error ? thrown.message : String(thrown)}`,
  );
}
