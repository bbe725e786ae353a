/**
 * A stand-in for GitHub's REST API on 127.0.0.1, speaking its wire format (GitHub has no open-source
 * server to test against): the token `ghp_good`; repositories acme/app (issues, comments, the workflow
 * ci.yml, files README.md and big.bin over 1 MiB), acme/busy (its first call hits the secondary rate
 * limit: 403 + Retry-After) and acme/spent (the primary limit: 403, x-ratelimit-remaining 0 and a reset
 * time). A POST of an issue titled "slow" is created, then answered after 3 s. `GET /_state` shows
 * what was created.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    githubPort: number;
  }
}

type Issue = { id: number; number: number; title: string; body: string; html_url: string; labels: string[] };
type Comment = { id: number; issue: number; body: string; html_url: string };
const issues: Issue[] = [];
const comments: Comment[] = [];
const dispatches: Array<{ workflow: string; ref: string; inputs: unknown }> = [];
let busyOnce = false;
let ids = 1000;

function reply(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  response.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
  response.end(body === undefined ? "" : JSON.stringify(body));
}

async function answer(request: IncomingMessage, response: ServerResponse) {
  const url = new URL(request.url ?? "/", "http://github");
  if (url.pathname === "/_state") return reply(response, 200, { issues, comments, dispatches });
  let text = "";
  for await (const chunk of request) text += chunk;
  if (!request.headers["user-agent"])
    return reply(response, 403, {
      message:
        "Request forbidden by administrative rules. Please make sure your request has a User-Agent header",
    });
  if (request.headers.authorization !== "Bearer ghp_good")
    return reply(response, 401, {
      message: "Bad credentials",
      documentation_url: "https://docs.github.com/rest",
    });
  const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  if (url.pathname === "/rate_limit")
    return reply(response, 200, { rate: { limit: 5000, remaining: 4999, reset: 0 } });
  const match = /^\/repos\/([^/]+)\/([^/]+)(\/.*)$/.exec(url.pathname);
  if (!match) return reply(response, 404, { message: "Not Found" });
  const [, owner, repo, rest = ""] = match;
  const full = `${owner}/${repo}`;
  if (full === "acme/busy" && !busyOnce) {
    busyOnce = true;
    return reply(
      response,
      403,
      { message: "You have exceeded a secondary rate limit." },
      { "retry-after": "3" },
    );
  }
  if (full === "acme/spent")
    return reply(
      response,
      403,
      { message: "API rate limit exceeded for user." },
      {
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": String(Math.floor(Date.now() / 1000) + 5),
      },
    );
  if (full !== "acme/app" && full !== "acme/busy") return reply(response, 404, { message: "Not Found" });
  const route = `${request.method} ${rest}`;
  if (route === "POST /issues") {
    if (typeof body.title !== "string" || body.title === "")
      return reply(response, 422, {
        message: "Validation Failed",
        errors: [{ resource: "Issue", field: "title", code: "missing_field" }],
      });
    const issue: Issue = {
      id: ++ids,
      number: issues.length + 1,
      title: body.title,
      body: String(body.body ?? ""),
      html_url: `https://github.com/${full}/issues/${issues.length + 1}`,
      labels: (body.labels as string[] | undefined) ?? [],
    };
    issues.push(issue);
    if (issue.title === "slow") return void setTimeout(() => reply(response, 201, issue), 3_000);
    return reply(response, 201, issue);
  }
  if (route === "GET /issues")
    return reply(
      response,
      200,
      [...issues].reverse().slice(0, Number(url.searchParams.get("per_page") ?? 30)),
    );
  const commentsOf = /^\/issues\/(\d+)\/comments$/.exec(rest);
  if (commentsOf) {
    const number = Number(commentsOf[1]);
    if (!issues.some((i) => i.number === number)) return reply(response, 404, { message: "Not Found" });
    if (request.method === "GET")
      return reply(
        response,
        200,
        comments.filter((c) => c.issue === number),
      );
    const comment = {
      id: ++ids,
      issue: number,
      body: String(body.body),
      html_url: `https://github.com/${full}/issues/${number}#issuecomment-${ids}`,
    };
    comments.push(comment);
    return reply(response, 201, comment);
  }
  const dispatch = /^\/actions\/workflows\/([^/]+)\/dispatches$/.exec(rest);
  if (dispatch && request.method === "POST") {
    if (decodeURIComponent(dispatch[1] ?? "") !== "ci.yml")
      return reply(response, 404, { message: "Not Found" });
    if (body.ref !== "main")
      return reply(response, 422, { message: "No ref found for: " + String(body.ref) });
    dispatches.push({ workflow: "ci.yml", ref: String(body.ref), inputs: body.inputs });
    return reply(response, 204, undefined);
  }
  const file = /^\/contents\/(.+)$/.exec(rest)?.[1];
  if (file === "README.md")
    return reply(response, 200, {
      type: "file",
      encoding: "base64",
      size: 18,
      sha: "abc123",
      content: `${Buffer.from("# App\nHello, ünï\n").toString("base64")}\n`,
      download_url: `https://raw.githubusercontent.com/${full}/main/README.md`,
    });
  if (file === "big.bin")
    return reply(response, 200, {
      type: "file",
      encoding: "none",
      size: 2_000_000,
      sha: "def456",
      content: "",
      download_url: `https://raw.githubusercontent.com/${full}/main/big.bin`,
    });
  if (file === "src") return reply(response, 200, [{ type: "file", name: "a.ts" }]);
  if (file === "huge.json") {
    response.writeHead(200, {
      "content-type": "application/json",
      "content-length": String(50 * 1024 * 1024),
    });
    return response.end();
  }
  return reply(response, 404, { message: "Not Found" });
}

export default async function setup(project: TestProject) {
  const server = createServer((request, response) => {
    answer(request, response).catch(() => response.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  project.provide("githubPort", (server.address() as AddressInfo).port);
  return () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
}
