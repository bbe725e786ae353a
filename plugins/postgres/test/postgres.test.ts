import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { invoke, signedPost } from "../../core/test/helpers.ts";
import { mapped } from "../src/database.ts";

const connection = (extra: Record<string, unknown> = {}) => ({
  host: "127.0.0.1",
  port: Number(env.PG_PORT),
  database: "postgres",
  user: "postgres",
  password: "pglite-secret",
  ssl: "disable",
  ...extra,
});
const call = (operator: string, input: unknown, extra: Record<string, unknown> = {}) =>
  invoke(operator, input, { connection: connection(extra) });
const table = () => `t_${crypto.randomUUID().replace(/-/g, "").slice(0, 12)}`;

describe("postgres against PGlite over the wire protocol", () => {
  it("runs statements in one transaction, then queries with bound parameters", async () => {
    const name = table();
    const created = await call("execute", {
      statements: [
        { sql: `create table ${name} (id int primary key, label text, amount numeric)` },
        {
          sql: `insert into ${name} values ($1, $2, $3), ($4, $5, $6)`,
          params: [1, "a", 1.5, 2, "b'; drop table x; --", 2],
        },
      ],
    });
    expect(created.body).toMatchObject({
      status: "success",
      output: { results: [{ command: "CREATE TABLE" }, { command: "INSERT", row_count: 2 }] },
    });
    const rows = await call("query", {
      sql: `select id, label from ${name} where id >= $1 order by id`,
      params: [1],
    });
    expect(rows.body.output).toEqual({
      rows: [
        { id: 1, label: "a" },
        { id: 2, label: "b'; drop table x; --" },
      ],
      row_count: 2,
      truncated: false,
      columns: ["id", "label"],
    });
  });

  it("stops at max_rows and says so", async () => {
    const answer = await call("query", { sql: "select g from generate_series(1, 5000) g", max_rows: 10 });
    expect(answer.body.output).toMatchObject({ row_count: 10, truncated: true });
  });

  it("rolls back everything when a statement fails halfway, naming it, without retry", async () => {
    const name = table();
    await call("execute", { statements: [{ sql: `create table ${name} (id int primary key)` }] });
    const failed = await call("execute", {
      statements: [
        { sql: `insert into ${name} values (1)` },
        { sql: `insert into ${name} values (1)` },
        { sql: `insert into ${name} values (3)` },
      ],
    });
    expect(failed.body).toMatchObject({ status: "failure", retryable: false });
    expect(String(failed.body.error)).toMatch(
      /statement 2 of 3 failed; the transaction was rolled back: .*duplicate key.*\[23505\]/,
    );
    const left = await call("query", { sql: `select count(*)::int as n from ${name}` });
    expect(left.body.output).toMatchObject({ rows: [{ n: 0 }] });
  });

  it("fails a syntax error without retry, with PostgreSQL's position", async () => {
    const answer = await call("query", { sql: "selec 1" });
    expect(answer.body).toMatchObject({ status: "failure", retryable: false });
    expect(String(answer.body.error)).toMatch(/syntax error.*\[42601\]/);
  });

  it("retries an unreachable server, and maps credentials and transient codes; the password never shows", async () => {
    const down = await call("query", { sql: "select 1" }, { port: 1 });
    expect(down.body).toMatchObject({ status: "failure", retryable: true });
    expect(JSON.stringify(down.body)).not.toContain("pglite-secret");
    const auth = mapped(
      { code: "28P01", message: 'password authentication failed for user "x" (hunter22)' },
      "hunter22",
    );
    expect(auth.constructor.name).toBe("NonRetriableError");
    expect(auth.message).not.toContain("hunter22");
    expect(mapped({ code: "40P01", message: "deadlock detected" }, "pw").constructor.name).toBe("Error");
    expect(mapped({ code: "53300", message: "too many connections" }, "pw").constructor.name).toBe("Error");
  });

  it("refuses private hosts in production, and a host list that would hide one", async () => {
    const listed = await call("query", { sql: "select 1" }, { host: "10.0.0.5,db.example.com" });
    expect(listed.body).toMatchObject({ status: "failure", retryable: false });
    const { withDatabase } = await import("../src/database.ts");
    await expect(
      withDatabase(
        connection({ host: "10.0.0.5" }),
        { UPDRAFT_ALLOW_PRIVATE_NETWORK: "false" },
        new AbortController().signal,
        async () => 1,
      ),
    ).rejects.toThrow(/refusing to connect/);
  });

  it("tests the connection with select version()", async () => {
    const good = await signedPost("/connection/test", { connection: connection() });
    expect(good.body).toMatchObject({ ok: true, detail: expect.stringContaining("PostgreSQL") });
    const bad = await signedPost("/connection/test", { connection: connection({ port: 1 }) });
    expect(bad.body).toMatchObject({ ok: false });
  });
});
