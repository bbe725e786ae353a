/**
 * What core/http carries across redirects. The fake target on two ports gives two real origins; the
 * https hops are served by a stand-in for `fetch`, as the test cannot hold a trusted certificate.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type Answer, invoke } from "./helpers.ts";

const redirect = (from: string, to: string, code = 302) =>
  `${from}/redirect?code=${code}&to=${encodeURIComponent(to)}`;

// Every value that could be a credential contains "secret", so a leak shows up in the target's echo.
const HEADERS = {
  Authorization: "Bearer secret-authorization",
  Cookie: "session=secret-cookie",
  "Proxy-Authorization": "Basic secret-proxy",
  "X-Api-Key": "secret-api-key",
  "X-Auth-Token": "secret-auth-token",
  "Private-Token": "secret-private-token",
  "X-Tenant": "secret-looking-but-custom",
  Accept: "application/json",
  "Accept-Language": "de",
  "User-Agent": "updraft-test",
  "Idempotency-Key": "order-42",
};

/** The headers the target received, as it echoed them. */
function received(answer: Answer): Record<string, string> {
  expect(answer.body, JSON.stringify(answer.body)).toMatchObject({ status: "success" });
  return (answer.body.output as { body: { headers: Record<string, string> } }).body.headers;
}

const SAFE = {
  accept: "application/json",
  "accept-language": "de",
  "user-agent": "updraft-test",
  "idempotency-key": "order-42",
};

describe("core/http headers across redirects", () => {
  it("keeps every header on a same-origin redirect", async () => {
    const url = redirect(env.TARGET_ORIGIN, "/echo");
    const headers = received(await invoke("http", { url, headers: HEADERS }));
    expect(headers).toMatchObject({
      ...SAFE,
      "x-api-key": "secret-api-key",
      cookie: "session=secret-cookie",
    });
  });

  it("drops every header but a safe few when a redirect changes origin", async () => {
    const url = redirect(env.TARGET_ORIGIN, `${env.OTHER_TARGET_ORIGIN}/echo`);
    const headers = received(await invoke("http", { url, headers: HEADERS }));
    expect(headers).toMatchObject(SAFE);
    expect(JSON.stringify(headers)).not.toContain("secret");
  });

  it("keeps the body's content type on a cross-origin 307, which resends the body", async () => {
    const url = redirect(env.TARGET_ORIGIN, `${env.OTHER_TARGET_ORIGIN}/echo`, 307);
    const answer = await invoke("http", { method: "POST", url, headers: HEADERS, body: { a: 1 } });
    const output = answer.body.output as { body: { body: string; headers: Record<string, string> } };
    expect(output.body.body).toBe('{"a":1}');
    expect(output.body.headers["content-type"]).toBe("application/json");
    expect(JSON.stringify(output.body.headers)).not.toContain("secret");
  });

  it("does not restore dropped headers when a later hop returns to the first origin", async () => {
    const back = redirect(env.OTHER_TARGET_ORIGIN, `${env.TARGET_ORIGIN}/echo`);
    const url = redirect(env.TARGET_ORIGIN, back);
    const headers = received(await invoke("http", { url, headers: HEADERS }));
    expect(JSON.stringify(headers)).not.toContain("secret");
  });
});

describe("core/http between https and http", () => {
  const SECURE = "https://secure.example";
  let fetched: string[] = [];

  // https://secure.example answers in place of a real TLS server; everything else goes out for real.
  function serveSecure(answer: (url: URL, headers: Headers) => Response) {
    const realFetch = globalThis.fetch;
    fetched = [];
    vi.spyOn(globalThis, "fetch").mockImplementation((input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      fetched.push(url.origin);
      if (url.origin !== SECURE) return realFetch(input, init);
      return Promise.resolve(answer(url, new Headers(init?.headers)));
    });
  }

  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("refuses a redirect from https to http without retry and without following it", async () => {
    serveSecure(
      () => new Response(null, { status: 302, headers: { location: `${env.TARGET_ORIGIN}/echo` } }),
    );
    const answer = await invoke("http", { url: `${SECURE}/start`, headers: HEADERS });
    expect(answer.body).toMatchObject({ status: "failure", retryable: false });
    expect(String(answer.body.error)).toContain("from https to http");
    expect(fetched).toEqual([SECURE]);
  });

  it("refuses a downgrade to http on the same host", async () => {
    serveSecure(() => new Response(null, { status: 301, headers: { location: "http://secure.example/" } }));
    const answer = await invoke("http", { url: `${SECURE}/start` });
    expect(answer.body).toMatchObject({ status: "failure", retryable: false });
    expect(fetched).toEqual([SECURE]);
  });

  it("follows an upgrade from http to https, as a new origin without the credentials", async () => {
    serveSecure((url, headers) =>
      Response.json({ path: url.pathname, headers: Object.fromEntries(headers) }),
    );
    const url = redirect(env.TARGET_ORIGIN, `${SECURE}/landed`);
    const answer = await invoke("http", { url, headers: HEADERS });
    expect(answer.body).toMatchObject({ status: "success", output: { body: { path: "/landed" } } });
    expect(fetched).toEqual([env.TARGET_ORIGIN, SECURE]);
    expect(JSON.stringify(answer.body.output)).not.toContain("secret");
  });
});
