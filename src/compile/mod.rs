//! The page compiler: live drafts in, publishable pages out. Pure: no I/O, no clock, no
//! randomness, so identical inputs give byte-identical output.
//!
//! What it does, per the edge contract (section 3 of `edge-contract.md`):
//! - normalises each component tree ([`normalise_layout`]): `props.binding` → `binding`, one
//!   `datasourceId` spelling, `componentId`, merged structured `styles` = `stylesData` with
//!   sanitised `rawCSS`, full `visibility`, no nulls anywhere;
//! - pre-computes each binding's `dataRequest` (Supabase RPC fetched directly, SQL sources
//!   through the edge's proxy with quoted identifiers and positional parameters);
//! - builds a minified CSS bundle per page from a base reset, the CSS of the component types
//!   the page uses and the components' styles, memoised in a shared [`CssCache`];
//! - hashes the published content ([`CompiledPage::compute_content_hash`]; `version` and
//!   `publishedAt` are excluded, the publisher sets them later with [`CompiledPage::stamp`]);
//! - builds the [`RoutingTable`] and reports every problem at once as [`Diagnostic`]s with a
//!   stable code, a severity and a JSON pointer into the draft.
//!
//! # Use
//!
//! ```
//! use edgepub::compile::{compile_project, CompileOptions, CssCache, ProjectInput};
//!
//! let input: ProjectInput = serde_json::from_value(serde_json::json!({
//!     "pages": [{
//!         "id": "p1", "slug": "home", "name": "Home", "is_public": true, "is_homepage": true,
//!         "layout_data": {"content": [{"id": "t1", "type": "Text", "props": {"text": "Hi"}}]}
//!     }]
//! }))
//! .expect("valid input");
//! let cache = CssCache::new(); // share one per process
//! let mut out = compile_project(&input, &CompileOptions::default(), &cache);
//! assert!(!out.has_errors());
//! out.pages[0].stamp(1, "2026-11-22T10:00:00.000Z").expect("valid stamp");
//! let json = serde_json::to_string(&out.pages[0]).expect("serialisable");
//! assert!(json.contains("\"tenantSlug\":\"_default\""));
//! ```
//!
//! # API
//! - [`compile_project`]`(&ProjectInput, &CompileOptions, &CssCache) -> CompileOutput`
//! - [`compile_page`]`(&ProjectInput, page_id, &CompileOptions, &CssCache) ->
//!   Result<CompileOutput, CompileError>` (dry run of one page)
//! - [`normalise_layout`]`(&Value, &[Datasource]) -> Value` (idempotent)
//! - [`content_hash`]`(&CompiledPage) -> String`, [`canonical_json`]`(&Value) -> String`
//! - inputs [`DraftPage`], [`Datasource`], [`DatasourceKind`], [`ProjectContext`],
//!   [`ProjectInput`], [`CompileOptions`]; outputs [`CompiledPage`], [`CompileOutput`],
//!   [`Diagnostic`] ([`Severity`], [`Code`]), [`RoutingTable`].

mod binding;
mod css;
pub(crate) mod css_cache;
mod css_minify;
mod css_types;
mod data_request;
mod diagnostics;
mod json;
mod model;
mod normalise;
mod page;
mod project;
mod publishable;
mod query;
mod routes;
mod sanitize;
mod sql;
mod styles;
mod validate;

#[cfg(test)]
mod tests;

pub use css::{build_css_bundle, css_input};
pub use css_cache::CssCache;
pub use diagnostics::{Code, Diagnostic, Severity};
pub use json::{canonical_json, strip_nulls};
pub use model::{
    CompileOptions, Datasource, DatasourceKind, DraftPage, ProjectContext, ProjectInput,
    DEFAULT_MAX_LAYOUT_BYTES, DEFAULT_TENANT, KNOWN_COMPONENT_TYPES,
};
pub use normalise::normalise_layout;
pub use page::{
    BytesOutput, CompileError, CompileOutput, CompiledBytes, CompiledPage, Output, PageBytes,
};
pub use project::{compile_bytes, compile_page, compile_project, layout_shape};
pub use routes::RoutingTable;
pub use sanitize::sanitize_css;
pub use validate::{check_slug, RESERVED_SEGMENTS};

/// Bump whenever the compiler's output changes for the same input: publishers memoise
/// "this draft version compiled to this hash" and this revision is part of that key.
pub const REVISION: u32 = 1;

/// SHA-256 hex of a page's published content, without `version`, `publishedAt` and
/// `contentHash`: equal hashes mean nothing an edge serves has changed.
pub fn content_hash(page: &CompiledPage) -> String {
    page.compute_content_hash()
}
