/** Headers as the ledger and a run see them: credentials redacted, and a bounded part of them kept. */

/** Header values shown as this: whatever authenticates a delivery. */
export const REDACTED = "[redacted]";
const SECRET_HEADERS =
  /^(authorization|proxy-authorization|cookie|set-cookie|x-hub-signature(-256)?|stripe-signature|x-slack-signature|webhook-signature|x-signature|x-api-key)$/;

/** Headers recorded per delivery, and their bytes in all (names and values): the rest is not kept. */
export const RECORDED_HEADERS = 100;
export const RECORDED_HEADER_BYTES = 32 * 1024;

/**
 * The headers kept: those that say what the delivery is first (content-type, the schemes' ids and
 * timestamps), then the rest in order, within RECORDED_HEADERS and RECORDED_HEADER_BYTES.
 */
export function capHeaders(headers: readonly [string, string][]): [string, string][] {
  const first = (name: string) =>
    /^(content-type|user-agent|webhook-|x-github-|stripe-|x-slack-)/i.test(name) ? 0 : 1;
  const ordered = [...headers].sort((a, b) => first(a[0]) - first(b[0]));
  const kept: [string, string][] = [];
  let bytes = 0;
  for (const [name, value] of ordered) {
    bytes += name.length + value.length;
    if (kept.length >= RECORDED_HEADERS || bytes > RECORDED_HEADER_BYTES) break;
    kept.push([name, value]);
  }
  return kept;
}

/**
 * Headers as recorded: secret-bearing values replaced, names lower-case. `also`: more names to
 * redact (the header a generic HMAC trigger reads its signature from).
 */
export function redact(
  headers: readonly [string, string][],
  also: readonly string[] = [],
): [string, string][] {
  const more = new Set(also.map((name) => name.toLowerCase()));
  return headers.map(([name, value]) => {
    const lower = name.toLowerCase();
    return [lower, SECRET_HEADERS.test(lower) || more.has(lower) ? REDACTED : value];
  });
}
