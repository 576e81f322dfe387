/**
 * A builder's flow against a running edgepub (scripts/client.sh starts one per database and
 * passes EDGEPUB_URL and EDGEPUB_TOKEN): every call is typed by the generated `paths`, so a
 * document that describes a call wrongly fails `tsc --strict` before it fails here.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { test } from "node:test";
import { ConflictError, createEdgepubClient, EdgepubError, unwrap, type JobEvent } from "../src/index.js";

const baseUrl = process.env["EDGEPUB_URL"];
const token = process.env["EDGEPUB_TOKEN"];
const redisUrl = process.env["EDGEPUB_TEST_REDIS_URL"] ?? "redis://127.0.0.1:16379";
if (!baseUrl || !token) {
  throw new Error("set EDGEPUB_URL and EDGEPUB_TOKEN (scripts/client.sh does)");
}

const client = createEdgepubClient({ baseUrl, token });
const { api } = client;

test("a builder's flow: edit, conflict, publish, roll back, preview, cache, webhook", async () => {
  const slug = `site-${randomUUID().slice(0, 8)}`;
  const project = await unwrap(api.POST("/api/projects", { body: { name: "Flow site", slug } }));
  assert.equal(project.slug, slug);

  const home = await unwrap(
    api.POST("/api/projects/{project}/pages", {
      params: { path: { project: project.id } },
      body: { slug: "home", name: "Home", is_homepage: true, layout_data: { content: [], root: {} } },
    }),
  );
  const about = await unwrap(
    api.POST("/api/projects/{project}/pages", {
      params: { path: { project: project.slug } },
      body: { slug: "about", name: "About" },
    }),
  );
  const pages = await unwrap(
    api.GET("/api/projects/{project}/pages", { params: { path: { project: project.id } } }),
  );
  assert.deepEqual(pages.items.map((p) => p.slug).sort(), ["about", "home"]);

  // Two editors open the same page; the first autosaves twice.
  const first = await client.openDraft(home.id);
  const second = await client.openDraft(home.id);
  assert.equal(first.etag, `"${home.version}"`);
  await first.save((page) => ({
    ...page,
    layout_data: { content: [{ id: "h1", type: "Heading", props: { text: "Hello" } }], root: {} },
  }));
  const saved = await first.save((page) => ({ ...page, title: "Welcome" }));
  assert.equal(saved.version, home.version + 2);
  assert.equal(first.etag, `"${saved.version}"`);

  // The second editor's save names the version it read: refused, not lost, not overwriting.
  const conflict = await second.save((page) => ({ ...page, title: "Stale" })).then(
    () => assert.fail("a stale save must be refused"),
    (e: unknown) => e,
  );
  assert.ok(conflict instanceof ConflictError, String(conflict));
  assert.equal(conflict.status, 412);
  assert.equal(conflict.code, "precondition_failed");
  assert.equal(conflict.currentVersion, saved.version);
  // It recovers: refetch (the first editor's work), re-apply its change, save.
  const theirs = await second.refresh();
  assert.equal(theirs.title, "Welcome");
  const merged = await second.save((page) => ({ ...page, description: "From the second editor" }));
  assert.equal(merged.version, saved.version + 1);
  assert.equal(merged.title, "Welcome");
  assert.equal(merged.layout_data.content.length, 1);

  // Publish to the project's default target (a local pages.db) and follow the job to its end.
  const targets = await unwrap(
    api.GET("/api/projects/{project}/targets", { params: { path: { project: project.id } } }),
  );
  assert.deepEqual(
    targets.map((t) => [t.kind, t.enabled]),
    [["local", true]],
  );
  const accepted = await unwrap(
    api.POST("/api/projects/{project}/publish", { params: { path: { project: project.id } }, body: {} }),
  );
  const events: JobEvent[] = [];
  const job = await client.waitForJob(accepted.job_id, { onEvent: (e) => events.push(e) });
  assert.equal(job.state, "succeeded", JSON.stringify(job.result));
  assert.equal(events.at(-1)?.event, "done");
  assert.ok(job.release_id);

  // A second release, then roll back to the first.
  await first.refresh();
  await first.save((page) => ({ ...page, title: "Second release" }));
  const again = await unwrap(
    api.POST("/api/projects/{project}/publish", { params: { path: { project: project.id } }, body: {} }),
  );
  assert.equal((await client.waitForJob(again.job_id)).state, "succeeded");
  const releases = await unwrap(
    api.GET("/api/projects/{project}/releases", { params: { path: { project: project.id } } }),
  );
  assert.equal(releases.total, 2);
  const release = await unwrap(
    api.GET("/api/releases/{id}", { params: { path: { id: job.release_id } } }),
  );
  assert.equal(release.pages?.length, 2);
  const rollback = await unwrap(
    api.POST("/api/releases/{id}/rollback", { params: { path: { id: release.id } } }),
  );
  const rolledBack = await client.waitForJob(rollback.job_id);
  assert.equal(rolledBack.state, "succeeded");
  assert.notEqual(rolledBack.release_id, again.job.release_id);

  // A preview link of the draft, opened without a token.
  const preview = await unwrap(
    api.POST("/api/pages/{id}/preview", { params: { path: { id: about.id } }, body: { ttl_secs: 600 } }),
  );
  const opened = await fetch(new URL(preview.path, baseUrl));
  assert.equal(opened.status, 200);
  const links = await unwrap(
    api.GET("/api/pages/{id}/previews", { params: { path: { id: about.id } } }),
  );
  assert.ok(links.items.some((l) => l.id === preview.id));

  // Test a cache connection from the settings form (nothing saved).
  const report = await unwrap(
    api.POST("/api/projects/{project}/settings/cache/test", {
      params: { path: { project: project.id } },
      body: { redis_type: "tcp", redis_enabled: true, redis_url: redisUrl },
    }),
  );
  assert.ok(report.ok, JSON.stringify(report.error));
  assert.equal(report.server?.kind, "redis");

  // Subscribe an endpoint to publish events: its secret is shown once.
  const endpoint = await unwrap(
    api.POST("/api/projects/{project}/webhook-endpoints", {
      params: { path: { project: project.id } },
      body: { url: "http://127.0.0.1:9/hooks/edgepub", event_types: ["publish.succeeded"] },
    }),
  );
  assert.match(endpoint.secret ?? "", /^whsec_/);
  const endpoints = await unwrap(
    api.GET("/api/projects/{project}/webhook-endpoints", { params: { path: { project: project.id } } }),
  );
  assert.deepEqual(
    endpoints.map((e) => e.id),
    [endpoint.id],
  );
});

test("every refusal is one EdgepubError with code, message and details", async () => {
  const error = await unwrap(
    api.POST("/api/projects", { body: { name: "x", slug: "Not A Slug!" } }),
  ).then(
    () => assert.fail("an invalid slug must be refused"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof EdgepubError);
  assert.equal(error.status, 422);
  assert.equal(error.code, "validation_failed");
  assert.ok(error.message.length > 0);
  assert.ok(Array.isArray(error.details?.["fields"]));

  const anonymous = createEdgepubClient({ baseUrl, token: "ep_not-a-token-of-this-server" });
  const refused = await unwrap(anonymous.api.GET("/api/projects")).catch((e: unknown) => e);
  assert.ok(refused instanceof EdgepubError);
  assert.equal(refused.status, 401);
  assert.equal(refused.code, "unauthorized");
});
