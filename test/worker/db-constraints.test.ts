/** D1's duplicate-key failures are told apart in one place (worker/db/constraints.ts), against D1's real errors. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { isDuplicateKey } from "../../worker/db/constraints";

async function failureOf(sql: string): Promise<unknown> {
  try {
    await env.DB.prepare(sql).run();
  } catch (error) {
    return error;
  }
  throw new Error(`expected ${sql} to fail`);
}

describe("isDuplicateKey", () => {
  it("recognises a broken PRIMARY KEY or UNIQUE constraint, and no other failure", async () => {
    await env.DB.exec("CREATE TABLE probe (id TEXT PRIMARY KEY, slug TEXT NOT NULL UNIQUE)");
    await env.DB.prepare("INSERT INTO probe (id, slug) VALUES ('a', 'one')").run();
    expect(isDuplicateKey(await failureOf("INSERT INTO probe (id, slug) VALUES ('a', 'two')"))).toBe(true);
    expect(isDuplicateKey(await failureOf("INSERT INTO probe (id, slug) VALUES ('b', 'one')"))).toBe(true);
    expect(isDuplicateKey(await failureOf("INSERT INTO probe (id, slug) VALUES ('c', NULL)"))).toBe(false);
    expect(isDuplicateKey(await failureOf("INSERT INTO nowhere VALUES (1)"))).toBe(false);
    expect(isDuplicateKey(new Error("UNIQUE"))).toBe(false);
  });
});
