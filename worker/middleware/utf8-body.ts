import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { problems } from "../problem";

const BODYLESS_METHODS = new Set(["GET", "HEAD", "OPTIONS", "DELETE"]);
const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/**
 * A text body (JSON, YAML, plain text) must be valid UTF-8. `Request.json()` and `text()` replace bad
 * bytes with U+FFFD, so without this check a tenant could be named "\ufffd\ufffd" by sending garbage.
 * The bytes read here stay cached on the request for the validators that read the body next.
 */
export function utf8Body() {
  return createMiddleware<AppEnv>(async (c, next) => {
    if (BODYLESS_METHODS.has(c.req.method) || !isText(c.req.header("content-type"))) return next();
    const bytes = await c.req.arrayBuffer();
    try {
      strict.decode(bytes);
    } catch {
      throw problems.malformed("The request body is not valid UTF-8.");
    }
    return next();
  });
}

function isText(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const type = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  return type.startsWith("text/") || type.endsWith("json") || type.endsWith("yaml") || type.endsWith("+json");
}
