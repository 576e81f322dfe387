// @ts-check
/** A project's pages, the publish button with its live progress, job history and releases. */
import * as api from "./api.js";
import { h, fill, table, empty, button, confirmDialog, when, badge, viewSignal, errorBox } from "./ui.js";

/** @typedef {import("./api.js").S} S */

/**
 * @param {HTMLElement} el
 * @param {string} project
 */
export async function pagesView(el, project) {
  const diag = h("div", { "aria-live": "polite" });
  const list = h("div");
  el.append(
    h("p", { class: "help" }, "Draft is the version being edited; published is the page's version in the current release (it counts publishes, so a rollback moves it on)."),
    button("Compile (dry run)", async () => fill(diag, () => diagnostics(project)), { kind: "primary", out: diag }),
    diag,
    list,
  );
  await fill(list, async () => {
    const [pages, releases] = await Promise.all([api.listPages(project), api.listReleases(project)]);
    if (pages.items.length === 0) return empty("No pages yet. A site builder creates them through the API.");
    const latest = releases.items[0];
    /** @type {Map<string, number>} */
    const published = new Map();
    if (latest) for (const p of (await api.getRelease(latest.id)).pages ?? []) published.set(p.page_id, p.version);
    return table(
      latest ? `Pages (published = release ${latest.number})` : "Pages (nothing published yet)",
      ["Page", "Slug", "Draft version", "Published version", "State", "Saved"],
      pages.items.map((p) => {
        const pub = published.get(p.id);
        // Release versions count publishes of a page (a rollback or force adds one), so they
        // are not comparable with draft versions: a save after the release is what is unpublished.
        const edited = latest !== undefined && Date.parse(p.updated_at) > Date.parse(latest.created_at);
        const state = pub === undefined ? "unpublished" : edited ? "edited since release" : "published";
        return [p.name, `/${p.slug}`, String(p.version), pub === undefined ? "–" : String(pub), badge(state), when(p.updated_at)];
      }),
    );
  });
}

/** @param {string} project */
async function diagnostics(project) {
  const [r, pages] = await Promise.all([api.compile(project), api.listPages(project)]);
  const slugs = new Map(pages.items.map((p) => [p.id, `/${p.slug}`]));
  const summary = h("p", { role: "status" }, `Compiled ${r.pages.length} pages: ${r.errors} errors, ${r.warnings} warnings.`);
  if (r.diagnostics.length === 0) return [summary];
  return [
    summary,
    table(
      "Compile diagnostics",
      ["Severity", "Page", "Where", "Code", "Message"],
      r.diagnostics.map((d) => [badge(String(d.severity)), slugs.get(String(d.pageId)) ?? String(d.pageId ?? ""), String(d.pointer ?? ""), String(d.code ?? ""), String(d.message ?? "")]),
    ),
  ];
}

/** How far a job is, 0–100, from its stage and counters. @param {S["Job"]} job */
function percent(job) {
  const p = job.progress;
  const total = Math.max(p.pages_total, 1);
  switch (p.stage) {
    case "compiling":
      return 5 + Math.round((40 * p.pages_compiled) / total);
    case "writing":
      return 45 + Math.round(45 * Math.min(1, p.pages_written / total));
    case "recording":
      return 95;
    case "done":
      return 100;
    default:
      return job.state === "queued" ? 0 : 2;
  }
}

/**
 * Follows a job in `out`: a progress bar while it runs, then its result with a retry button.
 * @param {HTMLElement} out
 * @param {string} jobId
 * @param {() => void} [after] called once the job has settled
 */
export async function watchJob(out, jobId, after) {
  const bar = /** @type {HTMLProgressElement} */ (h("progress", { max: "100", value: "0", id: `bar-${jobId}`, "aria-label": "Job progress" }));
  const label = h("p", { role: "status", "aria-live": "polite" }, "Queued…");
  out.replaceChildren(h("div", { class: "progress" }, bar, label));
  /** @param {S["Job"]} job */
  const show = (job) => {
    bar.value = percent(job);
    const p = job.progress;
    label.textContent = `${job.kind} ${job.state}: ${p.stage} (${p.pages_compiled}/${p.pages_total} compiled, ${p.pages_written} written)`;
  };
  try {
    const job = await api.followJob(jobId, (_e, j) => show(j), viewSignal());
    show(job);
    out.append(jobResult(job, out, after));
  } catch (err) {
    out.append(errorBox(err));
  }
  after?.();
}

/**
 * A settled job: its state, per-target results, cache step, and a retry for failed targets.
 * @param {S["Job"]} job
 * @param {HTMLElement} out where a retry is followed
 * @param {() => void} [after]
 */
export function jobResult(job, out, after) {
  const r = job.result;
  const targets = r?.targets ?? [];
  const failed = targets.filter((t) => !t.ok);
  return h(
    "div",
    { class: "result", "data-state": job.state },
    h("p", {}, "Result: ", badge(job.state), r?.error ? ` — ${r.error}` : "", r ? ` (${r.total_ms} ms)` : ""),
    targets.length
      ? table(
          "Targets of this job",
          ["Target", "Kind", "Status", "Written", "Unchanged", "Deleted", "Error"],
          targets.map((t) => [
            t.name,
            t.kind,
            badge(t.status ?? (t.ok ? "ok" : "failed")),
            String(t.upserted),
            String(t.unchanged),
            String(t.deleted),
            t.error ? `${t.error_kind ?? "error"}: ${t.error}` : (t.failed_pages ?? []).map((f) => `${f.page_id}: ${f.message}`).join("; "),
          ]),
        )
      : null,
    cacheLine(job.cache),
    failed.length && (job.state === "partial" || job.state === "failed")
      ? h(
          "div",
          {},
          h("p", { class: "help" }, `Fix ${failed.map((t) => t.name).join(", ")} (Targets tab: test connection), then retry only what failed.`),
          button(
            `Retry failed targets (${failed.map((t) => t.name).join(", ")})`,
            async () => {
              const acc = await api.retryJob(job.id);
              await watchJob(out, acc.job_id, after);
            },
            { kind: "primary" },
          ),
        )
      : null,
  );
}

/** @param {S["CacheStep"] | null | undefined} c */
export function cacheLine(c) {
  if (!c) return h("p", { class: "muted" }, "Cache step: none (no cache configured for this project).");
  return h(
    "p",
    {},
    "Cache step: ",
    badge(c.status),
    ` ${c.done}/${c.operations} operations`,
    c.last_error ? ` — last error (${c.last_error_kind ?? "error"}): ${c.last_error}` : "",
  );
}

/**
 * @param {HTMLElement} el
 * @param {string} project
 */
export function publishView(el, project) {
  const out = h("div", { id: "publish-out" });
  const force = h("input", { type: "checkbox", id: "force" });
  el.append(
    h("p", { class: "help" }, "Publishes every live page to every enabled target, then runs the cache step."),
    h("div", { class: "field inline" }, force, h("label", { for: "force" }, "Force: rewrite and re-version every page")),
    button(
      "Publish",
      async () => {
        const acc = await api.publish(project, { force: /** @type {HTMLInputElement} */ (force).checked });
        await watchJob(out, acc.job_id);
      },
      { kind: "primary", out },
    ),
    out,
  );
}

/**
 * @param {HTMLElement} el
 * @param {string} project
 */
export async function jobsView(el, project) {
  const out = h("div", { id: "job-out" });
  const list = h("div");
  el.append(list, out);
  const load = () =>
    fill(list, async () => {
      const jobs = await api.listJobs(project);
      if (jobs.items.length === 0) return empty("No jobs yet. Use the Publish tab to start one.");
      return table(
        `Jobs (${jobs.total}, newest first)`,
        ["Created", "Kind", "State", "Targets", "Cache", "Duration", ""],
        jobs.items.map((j) => {
          const t = j.result?.targets ?? [];
          return [
            when(j.created_at),
            j.kind,
            badge(j.state),
            t.map((x) => `${x.name}: ${x.status ?? (x.ok ? "ok" : "failed")}`).join(", ") || "–",
            j.cache ? `${j.cache.status} ${j.cache.done}/${j.cache.operations}` : "–",
            j.result ? `${j.result.total_ms} ms` : "–",
            h(
              "span",
              {},
              button("Details", async () => void out.replaceChildren(jobResult(j, out, load)), { name: `Details of the ${j.kind} job of ${when(j.created_at)}` }),
              j.state === "queued" || j.state === "running"
                ? button("Follow", () => watchJob(out, j.id, load), { name: `Follow the ${j.kind} job` })
                : null,
            ),
          ];
        }),
      );
    });
  await load();
}

/**
 * What `to` changes relative to `from`, page by page.
 * @param {S["ReleasePage"][]} from
 * @param {S["ReleasePage"][]} to
 */
export function changes(from, to) {
  const before = new Map(from.map((p) => [p.page_id, p]));
  /** @type {string[]} */
  const out = [];
  for (const p of to) {
    const b = before.get(p.page_id);
    if (!b) out.push(`/${p.slug} added (v${p.version})`);
    else if (b.version !== p.version || b.content_hash !== p.content_hash) out.push(`/${p.slug} v${b.version} → v${p.version}`);
    before.delete(p.page_id);
  }
  for (const b of before.values()) out.push(`/${b.slug} removed`);
  return out;
}

/**
 * @param {HTMLElement} el
 * @param {string} project
 */
export async function releasesView(el, project) {
  const out = h("div", { id: "rollback-out" });
  const list = h("div");
  el.append(list, out);
  const load = () =>
    fill(list, async () => {
      const page = await api.listReleases(project);
      if (page.items.length === 0) return empty("No releases yet. Publish from the Publish tab to create the first.");
      const full = await Promise.all(page.items.slice(0, 20).map((r) => api.getRelease(r.id)));
      const current = full[0];
      return table(
        `Releases (${page.total}, newest first)`,
        ["Release", "Created", "Status", "What it changed", ""],
        full.map((r, i) => {
          const prev = full[i + 1];
          const changed = changes(prev?.pages ?? [], r.pages ?? []);
          return [
            `#${r.number}`,
            when(r.created_at),
            badge(r.status),
            changed.length ? h("ul", {}, changed.map((c) => h("li", {}, c))) : "no page changes",
            i === 0 || !current
              ? h("span", { class: "muted" }, "current")
              : button(`Roll back to release #${r.number}`, () => rollback(r, current, out, load)),
          ];
        }),
      );
    });
  await load();
}

/**
 * @param {S["Release"]} target
 * @param {S["Release"]} current
 * @param {HTMLElement} out
 * @param {() => void} reload
 */
async function rollback(target, current, out, reload) {
  const diff = changes(current.pages ?? [], target.pages ?? []);
  const ok = await confirmDialog(
    `Roll back to release #${target.number}?`,
    [
      h("p", {}, `This publishes release #${target.number}'s pages as a new release, replacing #${current.number}. What changes:`),
      diff.length ? h("ul", {}, diff.map((c) => h("li", {}, c))) : h("p", {}, "No page changes (targets are rewritten as recorded)."),
    ],
    `Roll back to #${target.number}`,
  );
  if (!ok) return;
  const acc = await api.rollback(target.id);
  await watchJob(out, acc.job_id, reload);
}
