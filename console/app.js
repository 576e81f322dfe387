// @ts-check
/**
 * The console's shell: the token form, the projects list and the hash routes
 * (`#/`, `#/p/<project>/<view>`, `#/audit`). A route names a project and a view, never a token.
 */
import * as api from "./api.js";
import { h, table, empty, errorBox, explain, when, newViewSignal } from "./ui.js";
import { pagesView, publishView, jobsView, releasesView } from "./project.js";
import { driftView, webhooksView, schedulesView, auditView } from "./operate.js";
import { targetsView, cacheView } from "./settings.js";

/** @type {Record<string, [string, (el: HTMLElement, project: string) => Promise<void> | void]>} */
const VIEWS = {
  pages: ["Pages", pagesView],
  publish: ["Publish", publishView],
  jobs: ["Jobs", jobsView],
  releases: ["Releases", releasesView],
  drift: ["Drift", driftView],
  targets: ["Targets", targetsView],
  cache: ["Cache", cacheView],
  webhooks: ["Webhooks", webhooksView],
  schedules: ["Schedules", schedulesView],
  audit: ["Audit", (el, p) => auditView(el, p)],
};

const main = /** @type {HTMLElement} */ (document.getElementById("main"));
const session = /** @type {HTMLElement} */ (document.getElementById("session"));


/** @param {unknown} [why] the refusal that brought the operator back here */
function tokenForm(why) {
  const input = h("input", {
    id: "token",
    type: "password",
    autocomplete: "off",
    spellcheck: "false",
    required: true,
    minlength: "24",
    "aria-describedby": "token-help",
  });
  const form = h(
    "form",
    { class: "card", "aria-labelledby": "token-title" },
    h("h1", { id: "token-title" }, "Sign in with an API token"),
    h("div", { class: "field" }, h("label", { for: "token" }, "API token"), input),
    h(
      "p",
      { id: "token-help", class: "help" },
      "Paste a token (ep_…) printed by `edgepub serve` or `edgepub token create`. It is kept in this tab only (sessionStorage) and sent to this server alone.",
    ),
    h("button", { type: "submit", class: "primary" }, "Open the console"),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    api.setToken(/** @type {HTMLInputElement} */ (input).value);
    location.hash = "#/";
    route();
  });
  main.replaceChildren(...(why ? [errorBox(why)] : []), form);
  input.focus();
}

function renderSession() {
  session.replaceChildren(
    api.token()
      ? h(
          "button",
          {
            type: "button",
            onclick: () => {
              api.forgetToken();
              route();
            },
          },
          "Change token",
        )
      : "",
  );
}

async function projectsView() {
  main.replaceChildren(h("h1", {}, "Projects"));
  const box = h("div");
  main.append(box);
  try {
    const page = await api.listProjects();
    if (page.items.length === 0) {
      box.append(empty("No projects yet. Create one with POST /api/projects (see the README), then reload."));
      return;
    }
    box.append(
      table(
        "Projects this token can see",
        ["Project", "Slug", "Tenant", "Updated"],
        page.items.map((p) => [
          h("a", { href: `#/p/${encodeURIComponent(p.slug)}/pages` }, p.name),
          p.slug,
          p.tenant_slug,
          when(p.updated_at),
        ]),
      ),
      h("p", {}, h("a", { href: "#/audit" }, "Audit log (all projects)")),
    );
  } catch (err) {
    if (err instanceof api.ApiError && err.status === 403) {
      box.append(publishTokenForm());
      return;
    }
    if (err instanceof api.ApiError && err.status === 401) {
      api.forgetToken();
      renderSession();
      tokenForm(err);
      return;
    }
    box.append(errorBox(err));
  }
}

/** A publish-scoped token cannot list projects: it names the one it works on. */
function publishTokenForm() {
  const input = h("input", { id: "project-slug", required: true, autocomplete: "off" });
  const form = h(
    "form",
    { class: "card" },
    h("p", {}, "This token cannot list projects (it has no admin scope). Enter the slug of the project it publishes."),
    h("div", { class: "field" }, h("label", { for: "project-slug" }, "Project slug"), input),
    h("button", { type: "submit", class: "primary" }, "Open project"),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    location.hash = `#/p/${encodeURIComponent(/** @type {HTMLInputElement} */ (input).value.trim())}/jobs`;
  });
  return form;
}

/**
 * @param {string} project
 * @param {string} view
 */
async function projectShell(project, view) {
  const title = h("h1", {}, project);
  const nav = h(
    "nav",
    { "aria-label": "Project views", class: "tabs" },
    h(
      "ul",
      {},
      Object.entries(VIEWS).map(([key, [label]]) =>
        h(
          "li",
          {},
          h(
            "a",
            {
              href: `#/p/${encodeURIComponent(project)}/${key}`,
              "aria-current": key === view ? "page" : undefined,
              // The current tab's link reloads its view (a hash that does not change fires no event).
              onclick: key === view ? () => void route() : undefined,
            },
            label,
          ),
        ),
      ),
    ),
  );
  const body = h("section", { id: "view", "aria-labelledby": "view-title" });
  main.replaceChildren(h("p", { class: "crumbs" }, h("a", { href: "#/" }, "← Projects")), title, nav, body);
  api.getProject(project).then(
    (p) => title.replaceChildren(`${p.name} `, h("span", { class: "muted" }, `(${p.slug})`)),
    () => {},
  );
  const entry = VIEWS[view];
  if (!entry) {
    body.append(errorBox(new api.ApiError(404, "not_found", "view")));
    return;
  }
  body.append(h("h2", { id: "view-title" }, entry[0]));
  const inner = h("div");
  body.append(inner);
  await entry[1](inner, project);
}

async function route() {
  newViewSignal();
  renderSession();
  if (!api.token()) return tokenForm();
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  try {
    if (parts[0] === "p" && parts[1]) return await projectShell(parts[1], parts[2] || "pages");
    if (parts[0] === "audit") {
      main.replaceChildren(h("p", { class: "crumbs" }, h("a", { href: "#/" }, "← Projects")), h("h1", {}, "Audit log"));
      const el = h("div");
      main.append(el);
      return await auditView(el, "");
    }
    return await projectsView();
  } catch (err) {
    main.append(h("p", { role: "alert" }, explain(err)));
  }
}

window.addEventListener("hashchange", route);
route();
