/**
 * `@edgepub/client`: the typed edgepub API (`paths` and `components` are generated from
 * `openapi/openapi.json`) with what every builder needs on top: the bearer token, autosave
 * with the ETag → `If-Match` round trip, following a publish job to its end, and one error
 * type.
 */
import createOpenApiClient, { type Client } from "openapi-fetch";
import type { components, paths } from "./schema.js";
import { EdgepubError } from "./errors.js";
import { followJob, type JobEvent } from "./events.js";
import { Draft } from "./draft.js";

export type { components, paths, operations } from "./schema.js";
export { EdgepubError, ConflictError } from "./errors.js";
export { Draft, toInput } from "./draft.js";
export type { JobEvent, JobEventName } from "./events.js";

export type Schemas = components["schemas"];
export type Api = Client<paths>;

export interface EdgepubOptions {
  /** Where edgepub serves, e.g. `https://edgepub.example.com` (no trailing `/api`). */
  baseUrl: string;
  /** An API token (`ep_…`); sent as `Authorization: Bearer`. */
  token: string;
  /** A `fetch` to use instead of the global one. */
  fetch?: (input: Request) => Promise<Response>;
}

/** What an openapi-fetch call resolves to. */
type Outcome = { data?: unknown; error?: unknown; response: Response };
/** The data of the call's success branch; `void` for a response without a body (204). */
type Data<R> = [R extends { data: infer D } ? Exclude<D, undefined> : never] extends [infer T]
  ? [T] extends [never]
    ? void
    : T
  : never;

/**
 * The data of a successful call, or an {@link EdgepubError} (a {@link ConflictError} for a
 * 412) for any other status.
 */
export async function unwrap<R extends Outcome>(call: Promise<R>): Promise<Data<R>> {
  const { data, error, response } = await call;
  if (!response.ok) {
    throw await EdgepubError.from(response, error);
  }
  return data as Data<R>;
}

export interface EdgepubClient {
  /** The typed API: `api.GET("/api/projects")`, `api.POST("/api/projects", { body })`, … */
  readonly api: Api;
  /** Reads a page for editing: its draft and the ETag its next save must name. */
  openDraft(pageId: string): Promise<Draft>;
  /**
   * The job's events as its Server-Sent Events stream sends them, until nothing more will
   * change (the job ended and its cache step, if any, finished).
   */
  follow(jobId: string, signal?: AbortSignal): AsyncGenerator<JobEvent>;
  /**
   * Follows the job to its end and returns it as it ended (`succeeded`, `partial`, `failed`,
   * …); `onEvent` sees every event on the way.
   */
  waitForJob(
    jobId: string,
    options?: { onEvent?: (e: JobEvent) => void; signal?: AbortSignal },
  ): Promise<Schemas["Job"]>;
}

export function createEdgepubClient(options: EdgepubOptions): EdgepubClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  const api = createOpenApiClient<paths>({ baseUrl, fetch: options.fetch });
  api.use({
    onRequest({ request }) {
      request.headers.set("Authorization", `Bearer ${options.token}`);
      return request;
    },
  });
  const follow = (jobId: string, signal?: AbortSignal) => followJob(api, jobId, signal);
  return {
    api,
    openDraft: (pageId) => Draft.open(api, pageId),
    follow,
    async waitForJob(jobId, { onEvent, signal } = {}) {
      let last: Schemas["Job"] | undefined;
      for await (const event of follow(jobId, signal)) {
        onEvent?.(event);
        last = event.job;
      }
      if (last === undefined) {
        last = await unwrap(api.GET("/api/publish-jobs/{id}", { params: { path: { id: jobId } } }));
      }
      return last;
    },
  };
}
