import type { Client } from "openapi-fetch";
import type { components, paths } from "./schema.js";
import { EdgepubError } from "./errors.js";

type Job = components["schemas"]["Job"];
type JobState = components["schemas"]["JobState"];

/** `progress` while the job runs, `done` when it ends, `cache` for its cache step after that. */
export type JobEventName = "progress" | "done" | "cache";

/** One Server-Sent Event of `GET /api/publish-jobs/{id}/events`: its name and the job. */
export interface JobEvent {
  event: JobEventName;
  job: Job;
}

const UNDER_WAY: readonly JobState[] = ["queued", "running"];

function settled(job: Job): boolean {
  const cache = job.cache;
  return (
    !UNDER_WAY.includes(job.state) &&
    (cache === undefined || cache === null || cache.status === "done" || cache.status === "failed")
  );
}

/**
 * The job's events until it has settled. A stream that breaks off before (a proxy's idle
 * timeout, a restart) is opened again; the server starts each stream with the job as it is.
 */
export async function* followJob(
  api: Client<paths>,
  jobId: string,
  signal?: AbortSignal,
): AsyncGenerator<JobEvent> {
  for (;;) {
    const { data, error, response } = await api.GET("/api/publish-jobs/{id}/events", {
      params: { path: { id: jobId } },
      headers: { Accept: "text/event-stream" },
      parseAs: "stream",
      signal,
    });
    if (!response.ok || !data) {
      throw await EdgepubError.from(response, error);
    }
    let last: Job | undefined;
    for await (const event of parse(data)) {
      last = event.job;
      yield event;
    }
    if (last !== undefined && settled(last)) {
      return;
    }
    signal?.throwIfAborted();
  }
}

/** Server-Sent Events (`event:` and `data:` lines, a blank line ends one) of a job. */
async function* parse(body: ReadableStream<Uint8Array>): AsyncGenerator<JobEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let name = "message";
  let data: string[] = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        return;
      }
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.search(/\r\n|\r|\n/)) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + (buffer.startsWith("\r\n", end) ? 2 : 1));
        if (line === "") {
          if (data.length > 0 && isName(name)) {
            yield { event: name, job: JSON.parse(data.join("\n")) as Job };
          }
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

function isName(name: string): name is JobEventName {
  return name === "progress" || name === "done" || name === "cache";
}
