// @ts-check
/**
 * The console's only way to edgepub: the public `/api`, with the pasted token as a bearer
 * header. The token lives in `sessionStorage` (gone when the tab closes) and is never put in a
 * URL, the DOM or the console log.
 */

/** @typedef {import("../clients/typescript/src/schema").components["schemas"]} S */

const KEY = "edgepub.console.token";

export function token() {
  return sessionStorage.getItem(KEY);
}

/** @param {string} value */
export function setToken(value) {
  sessionStorage.setItem(KEY, value.trim());
}

export function forgetToken() {
  sessionStorage.removeItem(KEY);
}

/** A refusal from edgepub: its status and the body's `error`. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   */
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * @param {Response} res
 * @returns {Promise<ApiError>}
 */
async function refusal(res) {
  /** @type {{error?: S["ErrorDetail"]} | undefined} */
  const body = await res.json().catch(() => undefined);
  const e = body?.error;
  return e && typeof e.message === "string"
    ? new ApiError(res.status, e.code, e.message)
    : new ApiError(res.status, `http_${res.status}`, `${res.status} ${res.statusText}`);
}

/**
 * @param {string} method
 * @param {string} path under `/api`
 * @param {{query?: Record<string, string | number | undefined>, body?: unknown, signal?: AbortSignal}} [opts]
 * @returns {Promise<any>}
 */
export async function call(method, path, opts = {}) {
  const url = new URL("/api" + path, location.origin);
  for (const [k, v] of Object.entries(opts.query ?? {})) {
    if (v !== undefined && v !== "") url.searchParams.set(k, String(v));
  }
  /** @type {Record<string, string>} */
  const headers = { Authorization: `Bearer ${token() ?? ""}`, Accept: "application/json" };
  /** @type {RequestInit} */
  const init = { method, headers, signal: opts.signal, cache: "no-store" };
  if (opts.body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(opts.body);
  }
  const res = await fetch(url, init);
  if (!res.ok) throw await refusal(res);
  return res.status === 204 ? undefined : res.json();
}

/** @param {string} s */
const enc = (s) => encodeURIComponent(s);

/** @returns {Promise<S["Paginated_Project"]>} */
export const listProjects = () => call("GET", "/projects", { query: { limit: 200 } });
/** @param {string} p @returns {Promise<S["Project"]>} */
export const getProject = (p) => call("GET", `/projects/${enc(p)}`);
/** @param {string} p @returns {Promise<S["Paginated_Page"]>} */
export const listPages = (p) => call("GET", `/projects/${enc(p)}/pages`, { query: { limit: 200 } });
/** @param {string} p @returns {Promise<S["CompileReport"]>} */
export const compile = (p) => call("POST", `/projects/${enc(p)}/compile`);
/** @param {string} p @param {S["PublishBody"]} body @returns {Promise<S["Accepted"]>} */
export const publish = (p, body) => call("POST", `/projects/${enc(p)}/publish`, { body });
/** @param {string} p @returns {Promise<S["Paginated_Job"]>} */
export const listJobs = (p) => call("GET", `/projects/${enc(p)}/publish-jobs`, { query: { limit: 50 } });
/** @param {string} id @returns {Promise<S["Job"]>} */
export const getJob = (id) => call("GET", `/publish-jobs/${enc(id)}`);
/** @param {string} id @returns {Promise<S["Accepted"]>} */
export const retryJob = (id) => call("POST", `/publish-jobs/${enc(id)}/retry`);
/** @param {string} p @returns {Promise<S["Paginated_Release"]>} */
export const listReleases = (p) => call("GET", `/projects/${enc(p)}/releases`, { query: { limit: 50 } });
/** @param {string} id @returns {Promise<S["Release"]>} */
export const getRelease = (id) => call("GET", `/releases/${enc(id)}`);
/** @param {string} id @returns {Promise<S["Accepted"]>} */
export const rollback = (id) => call("POST", `/releases/${enc(id)}/rollback`);
/** @param {string} p @returns {Promise<S["DriftReport"]>} */
export const drift = (p) => call("GET", `/projects/${enc(p)}/drift`);
/** @param {string} p @returns {Promise<S["Accepted"]>} */
export const repair = (p) => call("POST", `/projects/${enc(p)}/drift/repair`);
/** @param {string} p @returns {Promise<S["TargetView"][]>} */
export const listTargets = (p) => call("GET", `/projects/${enc(p)}/targets`);
/** @param {string} id @returns {Promise<S["TestReport"]>} */
export const testTarget = (id) => call("POST", `/targets/${enc(id)}/test`);
/** @param {string} id @param {Record<string, unknown>} patch @returns {Promise<S["TargetView"]>} */
export const patchTarget = (id, patch) => call("PATCH", `/targets/${enc(id)}`, { body: patch });
/** @param {string} p @param {S["TargetInput"]} body @returns {Promise<S["TargetView"]>} */
export const createTarget = (p, body) => call("POST", `/projects/${enc(p)}/targets`, { body });
/** @param {string} p @returns {Promise<S["CacheSettingsView"]>} */
export const cacheSettings = (p) => call("GET", `/projects/${enc(p)}/settings/cache`);
/** @param {string} p @param {S["CacheSettingsInput"]} body @returns {Promise<S["SavedCacheSettings"]>} */
export const saveCacheSettings = (p, body) => call("PUT", `/projects/${enc(p)}/settings/cache`, { body });
/** @param {string} p @param {S["CacheSettingsInput"] | undefined} body @returns {Promise<S["TestReport"]>} */
export const testCache = (p, body) => call("POST", `/projects/${enc(p)}/settings/cache/test`, { body });
/** @param {string} p @returns {Promise<S["Endpoint"][]>} */
export const listEndpoints = (p) => call("GET", `/projects/${enc(p)}/webhook-endpoints`);
/** @param {string} p @param {S["EndpointInput"]} body @returns {Promise<S["EndpointSaved"]>} */
export const createEndpoint = (p, body) => call("POST", `/projects/${enc(p)}/webhook-endpoints`, { body });
/** @param {string} id @returns {Promise<S["Paginated_Delivery"]>} */
export const listDeliveries = (id) => call("GET", `/webhook-endpoints/${enc(id)}/deliveries`, { query: { limit: 20 } });
/** @param {string} id @returns {Promise<S["Delivery"]>} */
export const redeliver = (id) => call("POST", `/webhook-deliveries/${enc(id)}/redeliver`);
/** @param {string} id @param {S["EndpointPatch"]} patch @returns {Promise<S["EndpointSaved"]>} */
export const patchEndpoint = (id, patch) => call("PATCH", `/webhook-endpoints/${enc(id)}`, { body: patch });
/** @param {string} id @returns {Promise<S["Delivery"]>} */
export const testEndpoint = (id) => call("POST", `/webhook-endpoints/${enc(id)}/test`);
/** @param {string} p @returns {Promise<S["Paginated_Schedule"]>} */
export const listSchedules = (p) => call("GET", `/projects/${enc(p)}/schedules`, { query: { limit: 50 } });
/** @param {string} p @param {S["ScheduleBody"]} body @returns {Promise<S["Schedule"]>} */
export const createSchedule = (p, body) => call("POST", `/projects/${enc(p)}/schedules`, { body });
/** @param {string} p @param {string} id @returns {Promise<S["Schedule"]>} */
export const cancelSchedule = (p, id) => call("POST", `/projects/${enc(p)}/schedules/${enc(id)}/cancel`);
/**
 * @param {{project?: string, actor?: string, action?: string, from?: string, to?: string, cursor?: string}} q
 * @returns {Promise<S["AuditPage"]>}
 */
export const audit = (q) => call("GET", "/audit", { query: { ...q, limit: 50 } });

const SETTLED = ["succeeded", "partial", "failed"];

/**
 * Follows a job's Server-Sent Events with `fetch` (an EventSource cannot send the bearer
 * header) until the job and its cache step have settled; a stream cut short is reopened, and
 * each stream starts with the job as it is.
 * @param {string} jobId
 * @param {(event: string, job: S["Job"]) => void} onEvent
 * @param {AbortSignal} [signal]
 * @returns {Promise<S["Job"]>}
 */
export async function followJob(jobId, onEvent, signal) {
  for (;;) {
    const res = await fetch(`/api/publish-jobs/${enc(jobId)}/events`, {
      headers: { Authorization: `Bearer ${token() ?? ""}`, Accept: "text/event-stream" },
      signal,
      cache: "no-store",
    });
    if (!res.ok || !res.body) throw await refusal(res);
    /** @type {S["Job"] | undefined} */
    let last;
    for await (const [event, job] of parse(res.body)) {
      last = job;
      onEvent(event, job);
    }
    if (last && settled(last)) return last;
    signal?.throwIfAborted();
  }
}

/** @param {S["Job"]} job */
export function settled(job) {
  const c = job.cache;
  return SETTLED.includes(job.state) && (!c || c.status === "done" || c.status === "failed");
}

/**
 * @param {ReadableStream<Uint8Array>} body
 * @returns {AsyncGenerator<[string, S["Job"]]>}
 */
async function* parse(body) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let name = "message";
  /** @type {string[]} */
  let data = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.search(/\r\n|\r|\n/)) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + (buffer.startsWith("\r\n", end) ? 2 : 1));
        if (line === "") {
          if (data.length > 0) yield [name, JSON.parse(data.join("\n"))];
          name = "message";
          data = [];
        } else if (line.startsWith("event:")) {
          name = line.slice(6).trim();
        } else if (line.startsWith("data:")) {
          data.push(line.slice(5).replace(/^ /, ""));
        }
      }
    }
  } finally {
    reader.releaseLock();
  }
}
