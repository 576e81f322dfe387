// @ts-check
/**
 * Publish targets and cache settings, each with "test connection". A stored secret is shown
 * only as its last four characters; a secret field left empty keeps the stored one.
 */
import * as api from "./api.js";
import { h, fill, table, empty, button, badge, field } from "./ui.js";

/** @typedef {import("./api.js").S} S */

/** @param {S["TestReport"]} r */
const report = (r) =>
  h(
    "p",
    { role: "status" },
    r.ok ? badge("ok") : badge("failed"),
    r.ok ? ` reachable in ${r.latency_ms} ms` : ` ${r.error?.kind ?? "error"}: ${r.error?.message ?? "no answer"}`,
  );

/** @param {S["SecretHint"]} s */
const hint = (s) => (s.set ? `set, ends in …${s.last4 ?? ""}` : "not set");

/** What each kind asks for: a local file, or a server's URL and its secret. */
const KINDS = {
  local: { path: true, url: false, token: "" },
  turso: { path: false, url: true, token: "Auth token (optional for a local tursodb)" },
  edge: { path: false, url: true, token: "System key (the edge's x-system-key)" },
};

/** The "add a target" form: only the fields the chosen kind takes are shown and sent. */
function targetForm() {
  const kind = field("Kind", { type: "select", name: "kind" });
  for (const k of Object.keys(KINDS)) kind.input.append(h("option", { value: k }, k));
  const name = field("Name", { required: true, name: "name" });
  const path = field("Path of pages.db (inside the project's site directory)", { name: "path" });
  const url = field("URL", { name: "url", type: "url", autocomplete: "off" });
  const token = field("Secret", { name: "token", type: "password", autocomplete: "off" });
  const tokenLabel = /** @type {HTMLElement} */ (token.wrap.querySelector("label"));
  const v = (/** @type {HTMLElement} */ x) => /** @type {HTMLInputElement} */ (x).value.trim();
  const chosen = () => KINDS[/** @type {keyof typeof KINDS} */ (v(kind.input))] ?? KINDS.local;
  const form = h("form", { class: "card", "aria-label": "New target" }, h("h3", {}, "Add a target"), kind.wrap, name.wrap, path.wrap, url.wrap, token.wrap, h("button", { type: "submit", class: "primary" }, "Add target"));
  const show = () => {
    const k = chosen();
    path.wrap.hidden = !k.path;
    url.wrap.hidden = !k.url;
    token.wrap.hidden = !k.token;
    tokenLabel.textContent = k.token || "Secret";
    /** @type {HTMLInputElement} */ (path.input).required = k.path;
    /** @type {HTMLInputElement} */ (url.input).required = k.url;
    /** @type {HTMLInputElement} */ (token.input).required = v(kind.input) === "edge";
  };
  form.addEventListener("change", show);
  show();
  const body = () => {
    const k = chosen();
    /** @type {Record<string, unknown>} */
    const b = { kind: v(kind.input), name: v(name.input) };
    if (k.path) b.path = v(path.input);
    if (k.url) b.url = v(url.input);
    if (k.token && v(token.input)) b.token = v(token.input);
    return /** @type {S["TargetInput"]} */ (/** @type {unknown} */ (b));
  };
  return { form, body };
}

/**
 * @param {HTMLElement} el
 * @param {string} project
 */
export async function targetsView(el, project) {
  const out = h("div", { "aria-live": "polite", id: "target-test-out" });
  const list = h("div");
  const load = () =>
    fill(list, async () => {
      const targets = await api.listTargets(project);
      if (targets.length === 0) return empty("No targets: nothing can be published. Add one below.");
      return table(
        "Publish targets",
        ["Name", "Kind", "Where", "Secret", "Enabled", ""],
        targets.map((t) => [
          t.name,
          t.kind,
          t.path ?? t.url ?? "–",
          hint(t.token),
          t.enabled ? badge("enabled") : badge("disabled"),
          h(
            "span",
            {},
            button("Test connection", async () => void out.replaceChildren(h("h3", {}, `Test of ${t.name}`), report(await api.testTarget(t.id))), {
              name: `Test connection of ${t.name}`,
              out,
            }),
            button(t.enabled ? "Disable" : "Enable", async () => void (await api.patchTarget(t.id, { enabled: !t.enabled }), await load()), {
              name: `${t.enabled ? "Disable" : "Enable"} ${t.name}`,
              out,
            }),
          ),
        ]),
      );
    });
  const { form, body } = targetForm();
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await api.createTarget(project, body());
      /** @type {HTMLFormElement} */ (form).reset();
      form.dispatchEvent(new Event("change"));
      await load();
    } catch (err) {
      out.replaceChildren(h("p", { role: "alert", class: "notice error" }, String(/** @type {Error} */ (err).message)));
    }
  });
  el.append(list, out, form);
  await load();
}

/**
 * @param {HTMLElement} el
 * @param {string} project
 */
export async function cacheView(el, project) {
  const box = h("div");
  el.append(box);
  await fill(box, async () => {
    const s = await api.cacheSettings(project);
    const enabled = h("input", { type: "checkbox", id: "redis-enabled", checked: s.redis_enabled });
    const type = field("Redis type", { type: "select", name: "redis_type" });
    for (const t of ["tcp", "upstash", "self-hosted"]) type.input.append(h("option", { value: t, selected: t === s.redis_type }, t));
    const url = field("Redis URL", { value: s.redis_url ?? "", name: "redis_url", autocomplete: "off" });
    const tok = field(`Token (${hint(s.redis_token)}; leave empty to keep)`, { type: "password", name: "redis_token", autocomplete: "off" });
    const pw = field(`Password (${hint(s.redis_password)}; leave empty to keep)`, { type: "password", name: "redis_password", autocomplete: "off" });
    const mode = field("Cache mode", { type: "select", name: "cache_mode" });
    for (const m of ["invalidate", "prime"]) mode.input.append(h("option", { value: m, selected: m === s.cache_mode }, m));
    const out = h("div", { "aria-live": "polite", id: "cache-out" });
    const val = (/** @type {HTMLElement} */ x) => /** @type {HTMLInputElement} */ (x).value.trim();
    const body = () => {
      /** @type {Record<string, unknown>} */
      const b = {
        redis_enabled: /** @type {HTMLInputElement} */ (enabled).checked,
        redis_type: val(type.input),
        redis_url: val(url.input) || null,
        cache_mode: val(mode.input),
      };
      if (val(tok.input)) b.redis_token = val(tok.input);
      if (val(pw.input)) b.redis_password = val(pw.input);
      return /** @type {S["CacheSettingsInput"]} */ (/** @type {unknown} */ (b));
    };
    const form = h(
      "form",
      { class: "card", "aria-label": "Cache settings" },
      h("div", { class: "field inline" }, enabled, h("label", { for: "redis-enabled" }, "Cache enabled")),
      type.wrap,
      url.wrap,
      tok.wrap,
      pw.wrap,
      mode.wrap,
      h(
        "div",
        { class: "actions" },
        button("Test connection", async () => void out.replaceChildren(report(await api.testCache(project, body()))), { out }),
        h("button", { type: "submit", class: "primary" }, "Save"),
      ),
      out,
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        const saved = await api.saveCacheSettings(project, body());
        const c = saved.connection;
        // The save stands either way; say so, and why the cache did not answer.
        const said = c && !c.reachable ? `Saved. The cache did not answer (${c.kind ?? "error"}): ${c.message ?? ""}` : "Saved.";
        out.replaceChildren(h("p", { role: "status" }, said));
      } catch (err) {
        out.replaceChildren(h("p", { role: "alert", class: "notice error" }, String(/** @type {Error} */ (err).message)));
      }
    });
    return [
      h("p", { class: "help" }, "The cache step of each publish job is shown in the Jobs and Publish tabs."),
      form,
    ];
  });
}
