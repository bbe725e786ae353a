/**
 * The data steps of D1 migrations, run again over rows shaped as before the migration: the test D1 has
 * every migration applied already (setup.ts), so a backfill is read from the same migration files
 * wrangler applies and re-run on purpose-built rows.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ownerWithTenant } from "./helpers";
import { savePipeline } from "./runs-helpers";

/** The statement of `migration` (a file name prefix) that contains `text`. */
function statement(migration: string, text: string): string {
  const found = env.TEST_MIGRATIONS.find((m) => m.name.startsWith(migration));
  const query = found?.queries.find((q) => q.includes(text));
  if (!query) throw new Error(`no statement with ${text} in ${migration}`);
  return query;
}

function webhook(verify: object) {
  return {
    name: "Hooked",
    triggers: [{ webhook: { id: "in", verify } }],
    tasks: [{ id: "a", uses: "core/noop@^1", with: { value: 1 } }],
  };
}

async function tenantColumn<T>(slug: string, select: string, from: string): Promise<T[]> {
  const rows = await env.DB.prepare(
    `SELECT p.slug, ${select} FROM ${from} JOIN tenants t ON t.id = p.tenant_id WHERE t.slug = ? ORDER BY p.slug`,
  )
    .bind(slug)
    .all<T>();
  return rows.results;
}

describe("D1 backfills", () => {
  it("0012 names the tenant secret of triggers saved before 0011, read from the latest version only", async () => {
    const { owner, slug } = await ownerWithTenant();
    await savePipeline(
      owner,
      slug,
      "named",
      webhook({ scheme: "bearer", secret: "{{ secrets.HOOK_TOKEN }}" }),
    );
    await savePipeline(owner, slug, "tight", webhook({ scheme: "standard", secret: "{{secrets.OTHER}}" }));
    await savePipeline(
      owner,
      slug,
      "spaced",
      webhook({ scheme: "github", secret: "{{   secrets.WIDE   }}" }),
    );
    await savePipeline(owner, slug, "generated", webhook({ scheme: "standard" }));
    await savePipeline(owner, slug, "moved", webhook({ scheme: "bearer", secret: "{{ secrets.OLD }}" }));
    await savePipeline(owner, slug, "moved", webhook({ scheme: "standard" }));
    // As saved before 0011: no trigger says which tenant secret it names.
    await env.DB.prepare(
      "UPDATE triggers SET secret_name = NULL WHERE tenant_id = (SELECT id FROM tenants WHERE slug = ?)",
    )
      .bind(slug)
      .run();

    await env.DB.prepare(statement("0012_", "UPDATE triggers SET secret_name")).run();
    const named = await tenantColumn<{ slug: string; secret_name: string | null }>(
      slug,
      "tr.secret_name",
      "triggers tr JOIN pipelines p ON p.id = tr.pipeline_id",
    );
    expect(named).toEqual([
      { slug: "generated", secret_name: null },
      // Its first version named OLD; the latest generates its secret.
      { slug: "moved", secret_name: null },
      { slug: "named", secret_name: "HOOK_TOKEN" },
      { slug: "spaced", secret_name: "WIDE" },
      { slug: "tight", secret_name: "OTHER" },
    ]);
  });

  it("0012 starts existing pipelines at revision 0, and 0013 takes their objects as in step", async () => {
    const { owner, slug } = await ownerWithTenant();
    await savePipeline(owner, slug, "old", webhook({ scheme: "standard" }));
    await savePipeline(owner, slug, "older", webhook({ scheme: "standard" }));
    await savePipeline(owner, slug, "older", webhook({ scheme: "basic" }));
    const revisions = await tenantColumn<{ slug: string; revision: number }>(
      slug,
      "p.revision",
      "pipelines p",
    );
    // The column's default is what a pipeline from before 0012 has; a re-save bumps it.
    expect(revisions).toEqual([
      { slug: "old", revision: 0 },
      { slug: "older", revision: 1 },
    ]);
    // As before 0013: revisions moved on and no acknowledgement was recorded.
    await env.DB.prepare(
      `UPDATE pipelines SET revision = revision + 4, synced_revision = 0
       WHERE tenant_id = (SELECT id FROM tenants WHERE slug = ?)`,
    )
      .bind(slug)
      .run();

    await env.DB.prepare(statement("0013_", "UPDATE pipelines SET synced_revision")).run();
    const synced = await tenantColumn<{ slug: string; revision: number; synced_revision: number }>(
      slug,
      "p.revision, p.synced_revision",
      "pipelines p",
    );
    expect(synced).toEqual([
      { slug: "old", revision: 4, synced_revision: 4 },
      { slug: "older", revision: 5, synced_revision: 5 },
    ]);
  });
});
