/** The connection settings of an S3-compatible store, and the signed client they make. */
import { NonRetriableError, secret } from "@updraft/plugin-sdk";
import { assertPublicDestination } from "@updraft/plugin-sdk/network";
import { AwsClient } from "aws4fetch";
import { z } from "zod";

export const Connection = z.strictObject({
  endpoint: z
    .url({
      protocol: /^https?$/,
      error: "expected the store's https URL, e.g. https://s3.eu-west-1.amazonaws.com",
    })
    .describe(
      "The S3 API endpoint, without the bucket (https://s3.<region>.amazonaws.com, an R2 or MinIO URL).",
    ),
  region: z.string().min(1).max(64).default("us-east-1").describe("The bucket's region (R2: auto)."),
  bucket: z
    .string()
    .regex(
      /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
      "a bucket name: 3-63 lower-case letters, digits, dots, dashes",
    )
    .describe("The bucket every operator works in."),
  access_key_id: z.string().min(1).max(256),
  secret_access_key: secret(z.string().min(1).max(256)),
  path_style: z
    .boolean()
    .default(true)
    .describe("Address the bucket in the path (endpoint/bucket/key), as MinIO and most non-AWS stores want."),
});
export type Connection = z.output<typeof Connection>;

export interface Store {
  client: AwsClient;
  connection: Connection;
  /** The URL of `key` in the bucket (or of the bucket itself without a key). */
  url(key?: string, query?: Record<string, string>): URL;
}

/**
 * S3 wants every byte of a key percent-encoded except unreserved characters and the slashes. A `.` or
 * `..` part is refused: URL parsing would resolve it and address another bucket.
 */
export function encodeKey(key: string): string {
  if (key.split("/").some((part) => part === "." || part === ".."))
    throw new NonRetriableError(
      `the key ${JSON.stringify(key.slice(0, 200))} has a . or .. part, which S3 URLs cannot carry`,
    );
  return key
    .split("/")
    .map((part) =>
      encodeURIComponent(part).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
    )
    .join("/");
}

/** The store for a connection, under the private-network rule (refused endpoints are not retried). */
export function storeFor(raw: Record<string, unknown>, env: unknown): Store {
  const connection = Connection.parse(raw);
  const endpoint = new URL(connection.endpoint);
  assertPublicDestination(endpoint, env, "the endpoint");
  const client = new AwsClient({
    accessKeyId: connection.access_key_id,
    secretAccessKey: connection.secret_access_key,
    region: connection.region,
    service: "s3",
    retries: 0,
  });
  const base = endpoint.href.replace(/\/+$/, "");
  return {
    client,
    connection,
    url(key, query = {}) {
      const path = key === undefined ? "" : `/${encodeKey(key)}`;
      const url = connection.path_style
        ? new URL(`${base}/${connection.bucket}${path}`)
        : new URL(
            `${endpoint.protocol}//${connection.bucket}.${endpoint.host}${endpoint.pathname.replace(/\/+$/, "")}${path}`,
          );
      for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
      return url;
    },
  };
}
