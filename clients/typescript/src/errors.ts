import type { components } from "./schema.js";

type ErrorDetail = components["schemas"]["ErrorDetail"];

/**
 * Every refusal edgepub answers, as one type: the HTTP status and the body's
 * `{"error": {"code", "message", "details"}}`.
 */
export class EdgepubError extends Error {
  override readonly name: string = "EdgepubError";
  readonly status: number;
  readonly code: ErrorDetail["code"];
  readonly details: ErrorDetail["details"];

  constructor(status: number, error: ErrorDetail) {
    super(error.message);
    this.status = status;
    this.code = error.code;
    this.details = error.details;
  }

  /** The error a response carries; a body that is not edgepub's (a proxy's page) keeps its status. */
  static async from(response: Response, body?: unknown): Promise<EdgepubError> {
    const parsed = body === undefined ? await response.json().catch(() => undefined) : body;
    const error = (parsed as { error?: ErrorDetail } | undefined)?.error;
    if (error && typeof error.code === "string" && typeof error.message === "string") {
      return EdgepubError.for(response.status, error);
    }
    return new EdgepubError(response.status, {
      code: "http_" + response.status,
      message: `${response.status} ${response.statusText}`,
      details: null,
    });
  }

  private static for(status: number, error: ErrorDetail): EdgepubError {
    return status === 412 ? new ConflictError(error) : new EdgepubError(status, error);
  }
}

/**
 * A save whose `If-Match` named a version that is no longer the page's: someone else saved
 * first. Refetch the page (its version is `currentVersion`), re-apply the change, save again.
 */
export class ConflictError extends EdgepubError {
  override readonly name: string = "ConflictError";
  override readonly status: 412 = 412;
  /** The page's version now, from `details.current_version`. */
  readonly currentVersion: number | null;

  constructor(error: ErrorDetail) {
    super(412, error);
    const current = error.details?.["current_version"];
    this.currentVersion = typeof current === "number" ? current : null;
  }
}
