import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { addMember, expectProblem, ownerWithTenant } from "./helpers";

// DESIGN.md §3's example, except that `notify` is core/noop rather than slack/post-message (which would need a
// Slack connection to run): the spec saves and its webhooks get URLs.
const YAML_SPEC = `name: GitHub pushes to Slack
params:
  channel: { type: string, default: "#dev" }
schedule: { cron: "0 9 * * 1-5", timezone: Europe/Berlin, catchup: false }
triggers:
  - webhook:
      id: github
      verify: { scheme: github, secret: "{{ secrets.GITHUB_HOOK_SECRET }}" }
      filter: "headers.\`x-github-event\` = 'push'"
      dedupe: "headers.\`x-github-delivery\`"
  - webhook:
      id: generic
      verify: { scheme: standard }
defaults: { retries: 3, retry_delay: 5s, retry_backoff: exponential, timeout: 60s }
concurrency: { max_active_runs: 4, max_active_tasks: 32 }
tasks:
  - id: commits
    uses: core/transform@^1
    with: { expression: "trigger.body.commits.{ 'id': id, 'msg': message }" }
  - id: notify
    uses: core/noop@^1
    needs: [commits]
    for_each: "{{ tasks.commits.output }}"
    with: { channel: "{{ params.channel }}", text: "{{ item.msg }}" }
`;

const yaml = (raw: string) => ({ raw, contentType: "application/yaml" });

type Saved = {
  slug: string;
  version: number;
  triggers: { id: string; kind: string; url?: string; secret?: string }[];
};

describe("pipelines", () => {
  it("saves a YAML spec as version 1 with webhook URLs and a generated secret", async () => {
    const { owner, slug } = await ownerWithTenant();
    const res = await owner.json<Saved>("PUT", `/api/tenants/${slug}/pipelines/pushes`, yaml(YAML_SPEC));
    expect(res.status).toBe(201);
    expect(res.body.version).toBe(1);
    const github = res.body.triggers.find((t) => t.id === "github");
    const generic = res.body.triggers.find((t) => t.id === "generic");
    expect(github?.url).toMatch(/^http:\/\/localhost\/hooks\/hk_[A-Za-z0-9_-]{30,}$/);
    expect(github?.secret).toBeUndefined();
    expect(generic?.secret).toMatch(/^whsec_/);
    expect(res.body.triggers).toContainEqual({
      id: "schedule",
      kind: "schedule",
      cron: "0 9 * * 1-5",
      timezone: "Europe/Berlin",
    });
  });

  it("writes nothing for an identical spec and a new version for a change, keeping hook URLs", async () => {
    const { owner, slug } = await ownerWithTenant();
    const first = await owner.json<Saved>("PUT", `/api/tenants/${slug}/pipelines/pushes`, yaml(YAML_SPEC));
    const same = await owner.json<Saved>("PUT", `/api/tenants/${slug}/pipelines/pushes`, yaml(YAML_SPEC));
    expect(same.status).toBe(200);
    expect(same.body.version).toBe(1);
    const changed = await owner.json<Saved>(
      "PUT",
      `/api/tenants/${slug}/pipelines/pushes`,
      yaml(YAML_SPEC.replace("#dev", "#ops")),
    );
    expect(changed.status).toBe(200);
    expect(changed.body.version).toBe(2);
    expect(changed.body.triggers).toEqual(first.body.triggers);
    const versions = await owner.json<{ items: { version: number; created_by: string }[] }>(
      "GET",
      `/api/tenants/${slug}/pipelines/pushes/versions`,
    );
    expect(versions.body.items.map((v) => v.version)).toEqual([2, 1]);
    const v1 = await owner.json<{ source: string; format: string }>(
      "GET",
      `/api/tenants/${slug}/pipelines/pushes/versions/1`,
    );
    expect(v1.body).toMatchObject({ source: YAML_SPEC, format: "yaml" });
    const audit = await owner.json<{ items: { action: string; target: string }[] }>(
      "GET",
      `/api/tenants/${slug}/audit`,
    );
    expect(audit.body.items.filter((i) => i.action === "pipeline.save").map((i) => i.target)).toEqual([
      "pushes v2",
      "pushes v1",
    ]);
  });

  it("accepts the same spec as JSON and reads it back with its schedule and next runs", async () => {
    const { owner, slug } = await ownerWithTenant();
    const spec = {
      name: "Nightly",
      schedule: { cron: "0 3 * * *", timezone: "UTC" },
      tasks: [{ id: "ping", uses: "core/http@^1", with: { url: "https://example.com" } }],
    };
    expect((await owner.json("PUT", `/api/tenants/${slug}/pipelines/nightly`, { body: spec })).status).toBe(
      201,
    );
    const got = await owner.json<{
      name: string;
      format: string;
      next_runs: string[];
      paused: boolean;
      spec: { tasks: unknown[] };
    }>("GET", `/api/tenants/${slug}/pipelines/nightly`);
    expect(got.body).toMatchObject({ name: "Nightly", format: "json", paused: false });
    expect(got.body.next_runs).toHaveLength(5);
    for (const at of got.body.next_runs) expect(at).toMatch(/T03:00:00\.000Z$/);
    const list = await owner.json<{ items: { slug: string; schedule: unknown }[] }>(
      "GET",
      `/api/tenants/${slug}/pipelines`,
    );
    expect(list.body.items).toEqual([
      expect.objectContaining({
        slug: "nightly",
        version: 1,
        paused: false,
        schedule: { cron: "0 3 * * *", timezone: "UTC", catchup: false },
      }),
    ]);
  });

  it("reports malformed YAML as 400 with a line, and an invalid spec as 422 with paths, saving nothing", async () => {
    const { owner, slug } = await ownerWithTenant();
    const malformed = expectProblem(
      await owner.json("PUT", `/api/tenants/${slug}/pipelines/bad`, yaml("name: x\ntasks: [\n  - id: a\n")),
      400,
    );
    expect(malformed.errors?.[0]).toMatchObject({ line: expect.any(Number) });
    const invalid = expectProblem(
      await owner.json(
        "PUT",
        `/api/tenants/${slug}/pipelines/bad`,
        yaml("name: x\ntasks:\n  - id: a\n    uses: core/noop@^1\n    needs: [ghost]\n"),
      ),
      422,
    );
    expect(invalid.errors).toContainEqual(expect.objectContaining({ path: "tasks[0].needs[0]", line: 5 }));
    expectProblem(await owner.json("GET", `/api/tenants/${slug}/pipelines/bad`), 404);
  });

  it("validates without saving", async () => {
    const { owner, slug } = await ownerWithTenant();
    const ok = await owner.json<{ valid: boolean; errors: unknown[] }>(
      "POST",
      `/api/tenants/${slug}/pipelines/x/validate`,
      yaml(YAML_SPEC),
    );
    expect(ok.body).toEqual({ valid: true, errors: [] });
    const cyclic = await owner.json<{ valid: boolean; errors: { message: string }[] }>(
      "POST",
      `/api/tenants/${slug}/pipelines/x/validate`,
      yaml(
        "name: c\ntasks:\n  - { id: a, uses: core/noop@^1, needs: [b] }\n  - { id: b, uses: core/noop@^1, needs: [a] }\n",
      ),
    );
    expect(cyclic.body.valid).toBe(false);
    expect(cyclic.body.errors.some((e) => /cycle/i.test(e.message))).toBe(true);
    expectProblem(await owner.json("GET", `/api/tenants/${slug}/pipelines/x`), 404);
  });

  it("answers 415 for a spec sent as text/plain and 422 for a bad slug", async () => {
    const { owner, slug } = await ownerWithTenant();
    expectProblem(
      await owner.json("PUT", `/api/tenants/${slug}/pipelines/p`, {
        raw: YAML_SPEC,
        contentType: "text/plain",
      }),
      415,
    );
    expectProblem(await owner.json("PUT", `/api/tenants/${slug}/pipelines/Not_A_Slug`, yaml(YAML_SPEC)), 422);
  });

  it("pauses, unpauses and deletes, each audited", async () => {
    const { owner, slug } = await ownerWithTenant();
    await owner.call("PUT", `/api/tenants/${slug}/pipelines/p`, yaml(YAML_SPEC));
    expect((await owner.json("POST", `/api/tenants/${slug}/pipelines/p/pause`)).body).toEqual({
      slug: "p",
      paused: true,
    });
    const paused = await owner.json<{ paused: boolean; next_runs: string[] }>(
      "GET",
      `/api/tenants/${slug}/pipelines/p`,
    );
    expect(paused.body).toMatchObject({ paused: true, next_runs: [] });
    expect((await owner.json("POST", `/api/tenants/${slug}/pipelines/p/unpause`)).body).toEqual({
      slug: "p",
      paused: false,
    });
    expect((await owner.call("DELETE", `/api/tenants/${slug}/pipelines/p`)).status).toBe(204);
    expectProblem(await owner.json("GET", `/api/tenants/${slug}/pipelines/p`), 404);
    const hooks = await env.DB.prepare(
      "SELECT count(*) AS n FROM triggers t JOIN tenants x ON x.id = t.tenant_id WHERE x.slug = ?",
    )
      .bind(slug)
      .first<{ n: number }>();
    expect(hooks?.n).toBe(0);
    const audit = await owner.json<{ items: { action: string }[] }>("GET", `/api/tenants/${slug}/audit`);
    expect(audit.body.items.slice(0, 3).map((i) => i.action)).toEqual([
      "pipeline.delete",
      "pipeline.unpause",
      "pipeline.pause",
    ]);
  });

  it("shows generated webhook secrets to editors but not to viewers", async () => {
    const { owner, slug } = await ownerWithTenant();
    await owner.call("PUT", `/api/tenants/${slug}/pipelines/p`, yaml(YAML_SPEC));
    const viewer = await addMember(owner, slug, "viewer");
    const editor = await addMember(owner, slug, "editor");
    type Detail = { triggers: { id: string; secret?: string }[] };
    const asViewer = await viewer.client.json<Detail>("GET", `/api/tenants/${slug}/pipelines/p`);
    const asEditor = await editor.client.json<Detail>("GET", `/api/tenants/${slug}/pipelines/p`);
    expect(asViewer.body.triggers.find((t) => t.id === "generic")?.secret).toBeUndefined();
    expect(asEditor.body.triggers.find((t) => t.id === "generic")?.secret).toMatch(/^whsec_/);
  });

  it("answers 429 with Retry-After past the pipeline quota and creates nothing", async () => {
    const { owner, slug } = await ownerWithTenant();
    const quota = Number(env.QUOTA_PIPELINES);
    await env.DB.prepare(
      `INSERT INTO pipelines (id, tenant_id, slug, name, paused, latest_version, schedule, created_at, updated_at)
       SELECT 'pip_fill_' || value || '_' || t.id, t.id, 'fill-' || value, 'fill', 0, 1, NULL, '2026-01-01', '2026-01-01'
       FROM tenants t, json_each(?) WHERE t.slug = ?`,
    )
      .bind(JSON.stringify(Array.from({ length: quota }, (_, i) => i)), slug)
      .run();
    const res = await owner.json("PUT", `/api/tenants/${slug}/pipelines/one-too-many`, yaml(YAML_SPEC));
    expectProblem(res, 429);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    expectProblem(await owner.json("GET", `/api/tenants/${slug}/pipelines/one-too-many`), 404);
  });
});
