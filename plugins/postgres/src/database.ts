/**
 * A connection to the tenant's PostgreSQL for one invocation (opened, used, ended), under the
 * private-network rule, and PostgreSQL's errors mapped to the SDK's result kinds by their SQLSTATE.
 */
import { NonRetriableError, secret } from "@updraft/plugin-sdk";
import { privateNetworkAllowed, refusalFor } from "@updraft/plugin-sdk/network";
import postgres from "postgres";
import { z } from "zod";

export const Connection = z.strictObject({
  host: z
    .string()
    .min(1)
    .max(253)
    .regex(/^[A-Za-z0-9.-]+$|^\[[0-9A-Fa-f:.]+\]$/, "one host name or IP address")
    .describe("The server's host name (a public address)."),
  port: z.number().int().min(1).max(65_535).default(5432),
  database: z.string().min(1).max(63),
  user: z.string().min(1).max(63),
  password: secret(z.string().max(1_000)).describe("The user's password."),
  ssl: z
    .enum(["require", "disable"])
    .default("require")
    .describe("TLS to the server; disable only on a private link."),
});
export type Connection = z.output<typeof Connection>;

/** SQLSTATE classes and codes worth asking again: the server or the moment, not the statement. */
const TRANSIENT = /^(08|53|57P0[1-3]|40001|40P01|55P03|58)/;

export type Sql = ReturnType<typeof postgres>;

/** Runs `work` on a fresh connection and always ends it; errors come out as SDK errors. */
export async function withDatabase<T>(
  raw: Record<string, unknown>,
  env: unknown,
  signal: AbortSignal,
  work: (sql: Sql) => Promise<T>,
): Promise<T> {
  const connection = Connection.parse(raw);
  if (!privateNetworkAllowed(env as { UPDRAFT_ALLOW_PRIVATE_NETWORK?: unknown })) {
    const refusal = refusalFor(new URL(`https://${connection.host}:${connection.port}`));
    if (refusal) throw new NonRetriableError(`refusing to connect to ${connection.host}: ${refusal}`);
  }
  const sql = postgres({
    host: [connection.host],
    port: connection.port,
    database: connection.database,
    username: connection.user,
    password: connection.password,
    ssl: connection.ssl === "require" ? "require" : false,
    max: 1,
    prepare: false,
    connect_timeout: 10,
    idle_timeout: 1,
    onnotice: () => {},
  });
  const abort = () => void sql.end({ timeout: 0 });
  signal.addEventListener("abort", abort, { once: true });
  try {
    return await work(sql);
  } catch (thrown) {
    throw mapped(thrown, connection.password);
  } finally {
    signal.removeEventListener("abort", abort);
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}

/** The SDK error for a driver or server error, with PostgreSQL's words and never the password. */
export function mapped(thrown: unknown, password: string): Error {
  if (thrown instanceof NonRetriableError) return thrown;
  const error = thrown as { code?: unknown; message?: unknown; position?: unknown; detail?: unknown };
  const code = typeof error.code === "string" ? error.code : "";
  let message = typeof error.message === "string" ? error.message : String(thrown);
  if (typeof error.detail === "string") message += ` (${error.detail})`;
  if (typeof error.position === "string") message += ` at character ${error.position}`;
  if (password.length >= 4) message = message.split(password).join("***");
  const said = `PostgreSQL: ${message}${code ? ` [${code}]` : ""}`;
  if (code === "28P01" || code === "28000")
    return new NonRetriableError(`${said} — check the connection's user and password`);
  // A SQLSTATE has a digit in its class (driver codes such as EPIPE do not).
  if (/^[0-9][0-9A-Z]{4}$|^[A-Z][0-9][0-9A-Z]{3}$/.test(code))
    return TRANSIENT.test(code) ? new Error(said) : new NonRetriableError(said);
  // No SQLSTATE: the network or the driver (refused, reset, timed out) — worth asking again.
  return new Error(said);
}
