import type { Client } from "openapi-fetch";
import type { components, paths } from "./schema.js";
import { EdgepubError } from "./errors.js";

type Page = components["schemas"]["Page"];
type PageInput = components["schemas"]["PageInput"];

/** The body that saves `page` unchanged: what a builder edits and saves back. */
export function toInput(page: Page): PageInput {
  const { slug, name, title, description, layout_data, seo_data, is_public, is_homepage } = page;
  return { slug, name, title, description, layout_data, seo_data, is_public, is_homepage };
}

/**
 * A page open in an editor. Each {@link save} names the version it was read at (`If-Match`);
 * a save after someone else's is refused with a {@link ConflictError} instead of overwriting
 * theirs, and {@link refresh} reads their version to re-apply the change on.
 */
export class Draft {
  private constructor(
    private readonly api: Client<paths>,
    private current: Page,
    private tag: string,
  ) {}

  static async open(api: Client<paths>, pageId: string): Promise<Draft> {
    const { page, etag } = await read(api, pageId);
    return new Draft(api, page, etag);
  }

  /** The page as last read or saved. */
  get page(): Page {
    return this.current;
  }

  /** The ETag the next save sends as `If-Match`. */
  get etag(): string {
    return this.tag;
  }

  /**
   * Saves the draft, given whole or as a change of the current one. Throws a
   * {@link ConflictError} when the page was saved by someone else since it was read.
   */
  async save(change: PageInput | ((current: PageInput) => PageInput)): Promise<Page> {
    const body = typeof change === "function" ? change(toInput(this.current)) : change;
    const { data, error, response } = await this.api.PUT("/api/pages/{id}", {
      params: { path: { id: this.current.id }, header: { "If-Match": this.tag } },
      body,
    });
    if (!response.ok || data === undefined) {
      throw await EdgepubError.from(response, error);
    }
    this.current = data;
    this.tag = response.headers.get("ETag") ?? `"${data.version}"`;
    return data;
  }

  /** Reads the page again (after a conflict: the other editor's version). */
  async refresh(): Promise<Page> {
    const { page, etag } = await read(this.api, this.current.id);
    this.current = page;
    this.tag = etag;
    return page;
  }
}

async function read(api: Client<paths>, id: string): Promise<{ page: Page; etag: string }> {
  const { data, error, response } = await api.GET("/api/pages/{id}", { params: { path: { id } } });
  if (!response.ok || data === undefined) {
    throw await EdgepubError.from(response, error);
  }
  return { page: data, etag: response.headers.get("ETag") ?? `"${data.version}"` };
}
