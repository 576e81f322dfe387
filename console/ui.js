// @ts-check
/**
 * DOM helpers. Every value from the API goes in as text (never as HTML), so a page name or an
 * error message cannot inject markup.
 */
import { ApiError } from "./api.js";

/**
 * @typedef {string | Node | null | undefined | false} Child
 * @param {string} tag
 * @param {Record<string, string | boolean | ((e: Event) => void) | undefined>} [attrs]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === "function") el.addEventListener(k.replace(/^on/, ""), v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === "string" ? document.createTextNode(c) : c);
  }
  return el;
}

/** What to do about an error, in words an operator can act on. @param {unknown} err */
export function explain(err) {
  if (err instanceof ApiError) {
    switch (err.status) {
      case 401:
        return "The token was not accepted (missing, unknown or revoked). Choose “Change token” and paste a valid one.";
      case 403:
        return `This token lacks the scope for this (${err.message}). Use a token with the admin scope, or the publish scope for publishing views.`;
      case 404:
        return "Not found: it was deleted, or this token is limited to another project. Go back to the projects list.";
      case 409:
      case 422:
        return `Refused: ${err.message}. Correct the input and try again.`;
      case 429:
        return `Too many requests: ${err.message}. Wait a minute and try again.`;
      default:
        return `edgepub answered ${err.status}: ${err.message}. Try again; if it persists, check the server log.`;
    }
  }
  if (err instanceof DOMException && err.name === "AbortError") return "Stopped.";
  return "edgepub could not be reached. Check that the server is running, then reload.";
}

/** @param {unknown} err */
export function errorBox(err) {
  return h("p", { class: "notice error", role: "alert" }, explain(err));
}

/** @param {string} text */
export const loading = (text = "Loading…") => h("p", { class: "notice", role: "status" }, text);

/** @param {string} text */
export const empty = (text) => h("p", { class: "notice empty" }, text);

/**
 * Replaces `el`'s content with a loading line, then with what `render` builds, or the error.
 * @param {HTMLElement} el
 * @param {() => Promise<Child | Child[]>} render
 */
export async function fill(el, render) {
  el.replaceChildren(loading());
  el.setAttribute("aria-busy", "true");
  try {
    const out = await render();
    el.replaceChildren(...[out].flat().filter((c) => c !== null && c !== undefined && c !== false));
  } catch (err) {
    el.replaceChildren(errorBox(err));
  } finally {
    el.removeAttribute("aria-busy");
  }
}

/**
 * A table with a caption and header cells, scrollable on a narrow screen.
 * @param {string} caption
 * @param {string[]} head
 * @param {Child[][]} rows
 */
export function table(caption, head, rows) {
  return h(
    "div",
    { class: "scroll", role: "region", "aria-label": caption, tabindex: "0" },
    h(
      "table",
      {},
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, head.map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c))))),
    ),
  );
}

/**
 * A button that disables itself while its action runs and shows the outcome in `out`.
 * @param {string} label
 * @param {() => Promise<void>} action
 * @param {{out?: HTMLElement, kind?: string, name?: string}} [opts]
 */
export function button(label, action, opts = {}) {
  const b = /** @type {HTMLButtonElement} */ (
    h("button", { type: "button", class: opts.kind ?? "", "aria-label": opts.name }, label)
  );
  b.addEventListener("click", async () => {
    b.disabled = true;
    try {
      await action();
    } catch (err) {
      if (opts.out) opts.out.replaceChildren(errorBox(err));
      else b.after(errorBox(err));
    } finally {
      b.disabled = false;
    }
  });
  return b;
}

/**
 * A modal confirmation naming what will change; resolves true when confirmed.
 * @param {string} title
 * @param {Child[]} body
 * @param {string} confirmLabel
 * @returns {Promise<boolean>}
 */
export function confirmDialog(title, body, confirmLabel) {
  return new Promise((resolve) => {
    const d = /** @type {HTMLDialogElement} */ (h("dialog", { "aria-labelledby": "dialog-title" }));
    const done = (/** @type {boolean} */ ok) => {
      d.close();
      d.remove();
      resolve(ok);
    };
    d.append(
      h("h2", { id: "dialog-title" }, title),
      h("div", {}, ...body),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", onclick: () => done(false) }, "Cancel"),
        h("button", { type: "button", class: "danger", onclick: () => done(true) }, confirmLabel),
      ),
    );
    d.addEventListener("cancel", () => done(false));
    document.body.append(d);
    d.showModal();
  });
}

/** @param {string | null | undefined} iso */
export function when(iso) {
  if (!iso) return "–";
  const d = new Date(iso);
  return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}

/** A state as a labelled badge (the class gives its colour; the text carries the meaning). @param {string} s */
export const badge = (s) => h("span", { class: `badge ${s}` }, s);

/**
 * A labelled input.
 * @param {string} label
 * @param {Record<string, string | boolean | undefined>} attrs
 */
export function field(label, attrs) {
  const id = attrs.id ?? `f-${Math.random().toString(36).slice(2)}`;
  const tag = attrs.type === "select" ? "select" : "input";
  const input = h(tag, { ...attrs, id, type: tag === "input" ? attrs.type : undefined });
  return { wrap: h("div", { class: "field" }, h("label", { for: String(id) }, label), input), input };
}

/** Aborts the previous view's streams when the route changes. */
let viewAbort = new AbortController();
export function newViewSignal() {
  viewAbort.abort();
  viewAbort = new AbortController();
  return viewAbort.signal;
}
export const viewSignal = () => viewAbort.signal;
