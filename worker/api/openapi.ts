/** Small builders so every route declares its body, responses and errors the same way. */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { z } from "zod";
import type { AppEnv } from "../app-env";
import { Problem } from "../contracts/api";
import { formatPath, problems } from "../problem";

/** A sub-app whose validation failures become 422 problems with `errors[].path`. */
export function newApi() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const errors = result.error.issues.map((issue) => ({
          path: formatPath(issue.path),
          message: issue.message,
        }));
        throw problems.validation(
          errors,
          `The request ${result.target === "json" ? "body" : result.target} is not valid.`,
        );
      }
    },
  });
}

export function jsonBody<T extends z.ZodType>(schema: T) {
  return { body: { required: true, content: { "application/json": { schema } } } } as const;
}

export function json<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { "application/json": { schema } } } as const;
}

const problem = (description: string) => ({
  description,
  content: { "application/problem+json": { schema: Problem } },
});

/** The errors every authenticated route may answer. */
export const errorResponses = {
  400: problem("Malformed request"),
  401: problem("Not signed in, or the token is unknown or revoked"),
  403: problem("The role is too low, or a cross-site cookie write"),
  404: problem("Not found (also: another tenant's object)"),
  409: problem("Conflict"),
  413: problem("Body over 1 MiB"),
  422: problem("Validation failed; see errors[].path"),
  429: problem("Rate limited or over quota; see Retry-After"),
} as const;
