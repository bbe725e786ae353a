import { type Compilable, Kysely, type SqlBool, SqliteAdapter, sql } from "kysely";
import { D1Dialect } from "kysely-d1";
import type { Database } from "./schema";

export type Db = Kysely<Database>;

/**
 * D1 has no connections: every query is its own request to the database. Kysely's SQLite adapter says
 * "one connection", so Kysely would put every query of the isolate behind one mutex, and a lock released
 * by one request would resume another request's query in the wrong request context; one cancelled request
 * then wedged every D1 query that followed. Saying "many connections" drops the mutex: no promise of one
 * request is ever awaited by another.
 */
class D1Adapter extends SqliteAdapter {
  override get supportsMultipleConnections(): boolean {
    return true;
  }
}

class ConcurrentD1Dialect extends D1Dialect {
  override createAdapter(): SqliteAdapter {
    return new D1Adapter();
  }
}

const clients = new WeakMap<D1Database, Db>();

/** One Kysely per D1 binding per isolate: with no mutex it holds no pending work between requests. */
export function db(d1: D1Database): Db {
  let client = clients.get(d1);
  if (!client) {
    client = new Kysely<Database>({ dialect: new ConcurrentD1Dialect({ database: d1 }) });
    clients.set(d1, client);
  }
  return client;
}

/**
 * Runs the statements atomically in one D1 batch (kysely-d1 has no transactions). Kysely builds and
 * compiles them; D1 executes them as one implicit transaction.
 */
export async function batch(d1: D1Database, statements: ReadonlyArray<Compilable>): Promise<D1Result[]> {
  if (statements.length === 0) return [];
  return d1.batch(
    statements.map((s) => {
      const { sql, parameters } = s.compile();
      return d1.prepare(sql).bind(...parameters);
    }),
  );
}

/**
 * True when the statement just before this one in the same D1 batch changed a row: D1 runs a batch's
 * statements in order on one connection, and SQLite's changes() counts the last one that completed. The
 * write that decides a race goes first; what follows it is guarded by this.
 */
export const previousStatementChanged = sql<SqlBool>`changes() > 0`;
