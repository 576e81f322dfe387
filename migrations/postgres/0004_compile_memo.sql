-- What each page's current draft compiled to, so an incremental publish compiles only pages
-- whose draft (version) or compile context (datasources, tenant, compiler revision) changed.
CREATE TABLE compile_memo (
    page_id      UUID PRIMARY KEY REFERENCES pages (id) ON DELETE CASCADE,
    page_version BIGINT NOT NULL,
    context_hash TEXT NOT NULL,
    slug         TEXT NOT NULL,
    content_hash TEXT NOT NULL
);
