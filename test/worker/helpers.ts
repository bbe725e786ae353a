/** A small client for driving the Worker in workerd the way a browser or an API client would. */
import { exports } from "cloudflare:workers";

export const ORIGIN = "http://localhost";

export type CallOptions = {
  body?: unknown;
  /** Sent as-is (text, or bytes that need not be UTF-8) instead of JSON. */
  raw?: string | Uint8Array<ArrayBuffer>;
  contentType?: string;
  headers?: Record<string, string>;
};

export class Client {
  constructor(
    public cookie?: string,
    public token?: string,
  ) {}

  async call(method: string, path: string, options: CallOptions = {}): Promise<Response> {
    const headers = new Headers(options.headers);
    if (this.cookie) headers.set("cookie", this.cookie);
    if (this.token) headers.set("authorization", `Bearer ${this.token}`);
    if (method !== "GET" && !headers.has("origin") && this.cookie) headers.set("origin", ORIGIN);
    let body: string | Uint8Array<ArrayBuffer> | undefined;
    if (options.raw !== undefined) {
      body = options.raw;
      headers.set("content-type", options.contentType ?? "application/json");
    } else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers.set("content-type", options.contentType ?? "application/json");
    }
    const response = await exports.default.fetch(new Request(`${ORIGIN}${path}`, { method, headers, body }));
    const setCookie = response.headers.get("set-cookie");
    const session = setCookie?.match(/updraft_session=([^;]*)/)?.[1];
    if (session !== undefined) this.cookie = session ? `updraft_session=${session}` : undefined;
    return response;
  }

  async json<T = Record<string, unknown>>(method: string, path: string, options: CallOptions = {}) {
    const response = await this.call(method, path, options);
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: (text ? JSON.parse(text) : null) as T,
    };
  }
}

export function uniqueEmail(label = "user"): string {
  return `${label}-${crypto.randomUUID().slice(0, 8)}@example.com`;
}

export function uniqueSlug(label = "acme"): string {
  return `${label}-${crypto.randomUUID().slice(0, 8)}`;
}

export async function signUp(email = uniqueEmail(), password = "correct horse battery"): Promise<Client> {
  const client = new Client();
  const res = await client.json("POST", "/api/auth/sign-up/email", {
    body: { name: email.split("@")[0], email, password },
  });
  if (res.status !== 201) throw new Error(`sign-up failed: ${res.status} ${JSON.stringify(res.body)}`);
  return client;
}

/** A signed-up owner with a fresh tenant. */
export async function ownerWithTenant(slug = uniqueSlug()): Promise<{ owner: Client; slug: string }> {
  const owner = await signUp();
  const res = await owner.json("POST", "/api/tenants", { body: { slug, name: `Tenant ${slug}` } });
  if (res.status !== 201)
    throw new Error(`tenant creation failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { owner, slug };
}

/** The secret an invitation's accept link carries: `{origin}/invitations/{token}`. */
export function invitationToken(acceptUrl: string): string {
  const token = new URL(acceptUrl).pathname.match(/^\/invitations\/([^/]+)$/)?.[1];
  if (!token) throw new Error(`not an accept link: ${acceptUrl}`);
  return decodeURIComponent(token);
}

/** Adds a member with the given role through the real invitation flow. */
export async function addMember(owner: Client, slug: string, role: "admin" | "editor" | "viewer" | "owner") {
  const email = uniqueEmail(role);
  const member = await signUp(email);
  const invite = await owner.json<{ accept_url: string }>("POST", `/api/tenants/${slug}/invitations`, {
    body: { email, role },
  });
  if (invite.status !== 201)
    throw new Error(`invite failed: ${invite.status} ${JSON.stringify(invite.body)}`);
  const token = invitationToken(invite.body.accept_url);
  const accept = await member.json("POST", `/api/invitations/${token}/accept`);
  if (accept.status !== 200)
    throw new Error(`accept failed: ${accept.status} ${JSON.stringify(accept.body)}`);
  const me = await member.json<{ user: { id: string } }>("GET", "/api/me");
  return { client: member, email, userId: me.body.user.id };
}

export async function tokenFor(
  owner: Client,
  slug: string,
  role: "admin" | "editor" | "viewer",
): Promise<Client> {
  const res = await owner.json<{ token: string }>("POST", `/api/tenants/${slug}/tokens`, {
    body: { name: `${role} token`, role },
  });
  if (res.status !== 201) throw new Error(`token failed: ${res.status}`);
  return new Client(undefined, res.body.token);
}

export function expectProblem(res: { status: number; headers: Headers; body: unknown }, status: number) {
  if (res.status !== status)
    throw new Error(`expected ${status}, got ${res.status}: ${JSON.stringify(res.body)}`);
  if (!res.headers.get("content-type")?.startsWith("application/problem+json")) {
    throw new Error(`expected problem+json, got ${res.headers.get("content-type")}`);
  }
  const body = res.body as { type?: unknown; detail?: unknown; status?: unknown };
  if (typeof body.type !== "string" || typeof body.detail !== "string" || body.status !== status) {
    throw new Error(`not a problem document: ${JSON.stringify(body)}`);
  }
  return body as {
    type: string;
    title: string;
    status: number;
    detail: string;
    errors?: { path: string; message: string }[];
  };
}
