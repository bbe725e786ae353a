import { type Compilable, Kysely } from "kysely";
import { D1Dialect } from "kysely-d1";
import type { Database } from "./schema";

export type Db = Kysely<Database>;

const clients = new WeakMap<D1Database, Db>();

/** One Kysely per D1 binding per isolate: the dialect holds no connection state worth recreating. */
export function db(d1: D1Database): Db {
  let client = clients.get(d1);
  if (!client) {
    client = new Kysely<Database>({ dialect: new D1Dialect({ database: d1 }) });
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
