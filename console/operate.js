// @ts-check
/** Drift and repair, webhook endpoints and their deliveries, schedules, and the audit log. */
import * as api from "./api.js";
import { h, fill, table, empty, button, when, badge, field, errorBox } from "./ui.js";
import { watchJob } from "./project.js";

/** @typedef {import("./api.js").S} S */

/** @param {S["PageDrift"][]} list @param {string} what */
const pageList = (list, what) =>
  list.map((p) => `${what} /${p.slug ?? p.page_id} (expected v${p.expected_version ?? "–"}, found v${p.found_version ?? "–"})`);

/**
 * @param {HTMLElement} el
 * @param {string} project
 */
export async function driftView(el, project) {
  const out = h("div", { id: "repair-out" });
  const report = h("div", { "aria-live": "polite" });
  const load = () =>
    fill(report, async () => {
      const d = await api.drift(project);
      if (!d.release_id) return empty("Nothing published yet, so nothing can drift. Publish first.");
      const rows = d.targets.map((t) => {
        const notes = [...pageList(t.changed, "changed"), ...pageList(t.missing, "missing"), ...pageList(t.extra, "extra")];
        if (t.settings !== "ok") notes.push(`settings: ${t.settings}`);
        if (t.error) notes.push(`could not read (${t.error.kind}): ${t.error.message}`);
        return [t.name, t.kind, notes.length ? h("ul", {}, notes.map((n) => h("li", {}, n))) : "in sync"];
      });
      const c = d.cache;
      return [
        h("p", { role: "status" }, d.drifted ? badge("drifted") : badge("in-sync"), ` compared with release #${d.release_number}`),
        table("Targets compared with the release", ["Target", "Kind", "Differences"], rows),
        c
          ? h(
              "p",
              {},
              `Cache (${c.mode}): ${c.stale.length} stale, ${c.missing.length} missing keys, ${c.pending_operations} operations pending`,
              c.error ? ` — could not read (${c.error.kind}): ${c.error.message}` : "",
            )
          : h("p", { class: "muted" }, "No cache to compare."),
        d.drifted
          ? button("Repair drift", async () => {
              const acc = await api.repair(project);
              await watchJob(out, acc.job_id, load);
            }, { kind: "primary", out })
          : null,
      ];
    });
  el.append(h("p", { class: "help" }, "Reads every enabled target and the cache back and compares them with the last release."), button("Check again", load), report, out);
  await load();
}

/**
 * @param {HTMLElement} el
 * @param {string} project
 */
export async function webhooksView(el, project) {
  const list = h("div");
  const load = () =>
    fill(list, async () => {
      const endpoints = await api.listEndpoints(project);
      if (endpoints.length === 0) return empty("No webhook endpoints. Add one below.");
      return endpoints.map((e) => endpointCard(e));
    });
  el.append(list, endpointForm(project, load));
  await load();
}

/** Publish events a subscriber can choose; none chosen receives them all. */
const EVENTS = /** @type {NonNullable<S["EndpointInput"]["event_types"]>} */ (["publish.succeeded", "publish.failed", "publish.partial", "publish.cache_done", "drift.detected", "drift.resolved"]);

/**
 * The "add an endpoint" form. Its signing secret is shown once, here, after it is created.
 * @param {string} project
 * @param {() => Promise<void>} reload
 */
function endpointForm(project, reload) {
  const url = field("Endpoint URL", { required: true, type: "url", autocomplete: "off" });
  const description = field("Description (optional)", {});
  const boxes = EVENTS.map((t) => {
    const id = `ev-${t.replace(".", "-")}`;
    const box = h("input", { type: "checkbox", id, value: t });
    return { t, box, wrap: h("div", { class: "field inline" }, box, h("label", { for: id }, t)) };
  });
  const out = h("div", { "aria-live": "polite", id: "endpoint-out" });
  const form = h(
    "form",
    { class: "card", "aria-label": "New webhook endpoint" },
    h("h3", {}, "Add a webhook endpoint"),
    url.wrap,
    description.wrap,
    h("fieldset", {}, h("legend", {}, "Events (none chosen: every publish event)"), boxes.map((b) => b.wrap)),
    h("button", { type: "submit", class: "primary" }, "Add endpoint"),
    out,
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const v = (/** @type {HTMLElement} */ x) => /** @type {HTMLInputElement} */ (x).value.trim();
    try {
      const saved = await api.createEndpoint(project, {
        url: v(url.input),
        description: v(description.input),
        event_types: boxes.filter((b) => /** @type {HTMLInputElement} */ (b.box).checked).map((b) => b.t),
        enabled: true,
      });
      /** @type {HTMLFormElement} */ (form).reset();
      out.replaceChildren(
        h("p", { role: "status" }, "Created. Its signing secret, shown only this once — verify events with it:"),
        h("code", { class: "secret" }, saved.secret ?? ""),
      );
      await reload();
    } catch (err) {
      out.replaceChildren(errorBox(err));
    }
  });
  return form;
}

/**
 * Waits (up to 15 s) until a delivery has been attempted again, so the log shows its outcome.
 * @param {string} endpoint
 * @param {string} delivery
 */
async function settle(endpoint, delivery) {
  const before = (await api.listDeliveries(endpoint)).items.find((d) => d.id === delivery)?.attempts ?? 0;
  for (let i = 0; i < 30; i++) {
    await new Promise((r) => setTimeout(r, 500));
    const d = (await api.listDeliveries(endpoint)).items.find((x) => x.id === delivery);
    if (!d || d.state !== "pending" || d.attempts > before) return;
  }
}

/** The last outcome, opening onto every attempt. @param {S["Delivery"]} d */
function attempts(d) {
  const last = d.last_status ? `HTTP ${d.last_status}` : d.last_error ?? "not attempted yet";
  if (d.log.length === 0) return last;
  return h(
    "details",
    {},
    h("summary", {}, last),
    h(
      "ol",
      {},
      d.log.map((a) =>
        h("li", {}, `${when(a.attempted_at)}: ${a.status_code ? `HTTP ${a.status_code}` : a.error ?? "no answer"} (${a.latency_ms} ms)`),
      ),
    ),
  );
}

/** @param {S["Endpoint"]} e */
function endpointCard(e) {
  const log = h("div");
  const load = () =>
    fill(log, async () => {
      const page = await api.listDeliveries(e.id);
      if (page.items.length === 0) return empty("No deliveries yet. Publish, or send a test event.");
      return table(
        `Deliveries to ${e.url}`,
        ["Created", "Event", "State", "Attempts", "Last", ""],
        page.items.map((d) => [
          when(d.created_at),
          d.event_type,
          badge(d.state),
          String(d.attempts),
          attempts(d),
          button("Redeliver", async () => {
            const sent = await api.redeliver(d.id);
            await settle(e.id, sent.id);
            await load();
          }, { name: `Redeliver the ${d.event_type} delivery of ${when(d.created_at)}` }),
        ]),
      );
    });
  load();
  return h(
    "article",
    { class: "card" },
    h("h3", {}, e.url),
    h(
      "p",
      {},
      e.enabled ? badge("enabled") : badge("disabled"),
      ` events: ${e.event_types.length ? e.event_types.join(", ") : "all publish events"}`,
      e.disabled_reason ? ` — disabled because: ${e.disabled_reason}` : "",
      e.last_success_at ? ` — last success ${when(e.last_success_at)}` : "",
    ),
    h(
      "div",
      { class: "actions" },
      button("Send test event", async () => {
        await api.testEndpoint(e.id);
        await load();
      }, { name: `Send test event to ${e.url}` }),
      button("Refresh log", load, { name: `Refresh log of ${e.url}` }),
      e.enabled
        ? null
        : button("Enable again", async () => {
            // The generated merge-patch type allows only nulls beside its named fields.
            await api.patchEndpoint(e.id, /** @type {S["EndpointPatch"]} */ (/** @type {unknown} */ ({ enabled: true })));
            location.reload();
          }, { name: `Enable again ${e.url}` }),
    ),
    log,
  );
}

/**
 * @param {HTMLElement} el
 * @param {string} project
 */
export async function schedulesView(el, project) {
  const list = h("div");
  const at = field("Run at (your local time)", { type: "datetime-local", required: true });
  const action = field("Action", { type: "select" });
  action.input.append(h("option", { value: "publish" }, "Publish"), h("option", { value: "unpublish" }, "Unpublish (whole site)"));
  const msg = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "card", "aria-label": "New schedule" }, h("h3", {}, "Schedule a publish"), at.wrap, action.wrap, h("button", { type: "submit", class: "primary" }, "Schedule"), msg);
  const load = () =>
    fill(list, async () => {
      const page = await api.listSchedules(project);
      if (page.items.length === 0) return empty("Nothing scheduled. Use the form below to schedule a publish.");
      return table(
        "Schedules",
        ["At", "Action", "State", "Job", ""],
        page.items.map((s) => [
          when(s.at),
          s.action,
          badge(s.state),
          s.error ?? (s.job_id ? `job ${s.job_id.slice(0, 8)}${s.late ? " (late)" : ""}` : "–"),
          s.state === "pending" ? button("Cancel", async () => void (await api.cancelSchedule(project, s.id), await load()), { name: `Cancel the ${s.action} of ${when(s.at)}` }) : "",
        ]),
      );
    });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const local = /** @type {HTMLInputElement} */ (at.input).value;
    const act = /** @type {HTMLSelectElement} */ (action.input).value === "unpublish" ? "unpublish" : "publish";
    try {
      await api.createSchedule(project, { at: new Date(local).toISOString(), action: act });
      msg.replaceChildren(h("p", { role: "status" }, "Scheduled."));
      await load();
    } catch (err) {
      msg.replaceChildren(h("p", { role: "alert", class: "notice error" }, String(/** @type {Error} */ (err).message)));
    }
  });
  el.append(list, form);
  await load();
}

/**
 * The audit log with its filters; `project` pre-fills the project filter.
 * @param {HTMLElement} el
 * @param {string} project
 */
export async function auditView(el, project) {
  const f = {
    project: field("Project (id or slug)", { value: project, name: "project" }),
    actor: field("Actor (token name)", { name: "actor" }),
    action: field("Action (e.g. publish, page.update)", { name: "action" }),
    from: field("From", { type: "datetime-local", name: "from" }),
    to: field("To", { type: "datetime-local", name: "to" }),
  };
  const list = h("div");
  /** @param {HTMLElement} x */
  const v = (x) => /** @type {HTMLInputElement} */ (x).value.trim();
  /** @param {string} s */
  const iso = (s) => (s ? new Date(s).toISOString() : undefined);
  /** @param {string | undefined} cursor @returns {Promise<void>} */
  const load = (cursor) =>
    fill(list, async () => {
      const page = await api.audit({
        project: v(f.project.input) || undefined,
        actor: v(f.actor.input) || undefined,
        action: v(f.action.input) || undefined,
        from: iso(v(f.from.input)),
        to: iso(v(f.to.input)),
        cursor,
      });
      if (page.items.length === 0) return empty("No entries match. Widen the filters (clear a field) and search again.");
      return [
        table(
          "Audit entries, newest first",
          ["When", "Actor", "Action", "Subject", "Summary"],
          page.items.map((a) => [when(a.at), a.actor_name, a.action, a.subject_id ?? "–", JSON.stringify(a.summary)]),
        ),
        page.next_cursor ? button("Older entries", async () => load(page.next_cursor ?? undefined)) : null,
      ];
    });
  const form = h("form", { class: "filters", "aria-label": "Audit filters" }, Object.values(f).map((x) => x.wrap), h("button", { type: "submit", class: "primary" }, "Search"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    load(undefined);
  });
  el.append(form, list);
  await load(undefined);
}
