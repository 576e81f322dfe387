//! The compile entry points: a whole project, or one page of it for a dry run.

use std::io;

use serde_json::Value;

use super::binding::DatasourceIndex;
use super::css_cache::CssCache;
use super::diagnostics::{Code, Diagnostic, Sink};
use serde_json::Map;

use super::json::strip_map;
use super::model::{CompileOptions, Datasource, DraftPage, ProjectContext, ProjectInput};
use super::normalise::normalise_layout_at;
use super::page::{BytesOutput, CompileError, CompileOutput, CompiledBytes, CompiledPage};
use super::publishable::publishable_datasources;
use super::validate::check_project;

/// Compiles every draft in `input` (public or not: the edge hides non-public pages from
/// sitemaps itself) and reports every problem found. Publish only if
/// [`CompileOutput::has_errors`] is false.
pub fn compile_project(
    input: &ProjectInput,
    options: &CompileOptions,
    cache: &CssCache,
) -> CompileOutput {
    compile_selected(input, options, cache, None)
}

/// Compiles the one page `page_id` for a dry run. Project-wide checks still look at every
/// page (a slug clash needs both sides); the diagnostics kept are the page's own and the
/// project-wide ones.
pub fn compile_page(
    input: &ProjectInput,
    page_id: &str,
    options: &CompileOptions,
    cache: &CssCache,
) -> Result<CompileOutput, CompileError> {
    if !input.pages.iter().any(|p| p.id == page_id) {
        return Err(CompileError::PageNotFound(page_id.to_owned()));
    }
    Ok(compile_selected(input, options, cache, Some(page_id)))
}

/// Compiles every draft in `input`, as [`compile_project`] does, into the bytes targets
/// store ([`CompiledPage::to_bytes`]): each draft moves through the normaliser (taken by
/// value, never copied), is serialised once, and its tree is dropped before the next page
/// is compiled. Pages are shared among `threads` threads (the output's order and bytes do
/// not depend on how many).
pub fn compile_bytes(
    input: ProjectInput,
    options: &CompileOptions,
    cache: &CssCache,
    threads: usize,
) -> BytesOutput {
    let ProjectInput {
        pages,
        datasources,
        context,
    } = input;
    let (datasources, mut diagnostics) = publishable_datasources(&datasources);
    let index = DatasourceIndex::new(&datasources);
    let (routes, project_diags) = check_project(&pages, &context);
    diagnostics.extend(project_diags);
    let shared = Shared::new(&index, &context, options, cache);
    let one = |draft: DraftPage| {
        let (page, diags) = compile_one(draft, &shared);
        let bytes = page.to_bytes();
        let out = CompiledBytes {
            id: page.id,
            slug: page.slug,
            is_homepage: page.is_homepage,
            bytes,
        };
        (out, diags)
    };
    let threads = threads.clamp(1, pages.len().max(1));
    let per = pages.len().div_ceil(threads);
    let mut parts: Vec<Vec<DraftPage>> = Vec::with_capacity(threads);
    let mut rest = pages.into_iter();
    for _ in 0..threads {
        parts.push(rest.by_ref().take(per).collect());
    }
    // The first part compiles on the calling thread: each thread spawned here is new, with
    // its own allocator heap that its exit abandons, and a publish compiles many chunks.
    let done: Vec<Vec<(CompiledBytes, Vec<Diagnostic>)>> = std::thread::scope(|scope| {
        let mut parts = parts.into_iter();
        let first = parts.next().unwrap_or_default();
        let handles: Vec<_> = parts
            .map(|part| scope.spawn(|| part.into_iter().map(one).collect::<Vec<_>>()))
            .collect();
        let mut done = vec![first.into_iter().map(one).collect::<Vec<_>>()];
        // A panic in the compiler is a bug; surface it where it happened.
        done.extend(
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))),
        );
        done
    });
    let mut out = BytesOutput {
        pages: Vec::new(),
        routes,
        diagnostics,
    };
    for (page, diags) in done.into_iter().flatten() {
        out.pages.push(page);
        out.diagnostics.extend(diags);
    }
    out
}

/// What every page of one compile shares.
struct Shared<'a> {
    index: &'a DatasourceIndex<'a>,
    tenant: &'a str,
    app_variables: Option<Map<String, Value>>,
    options: &'a CompileOptions,
    cache: &'a CssCache,
}

impl<'a> Shared<'a> {
    fn new(
        index: &'a DatasourceIndex<'a>,
        context: &'a ProjectContext,
        options: &'a CompileOptions,
        cache: &'a CssCache,
    ) -> Self {
        Self {
            index,
            tenant: &context.tenant_slug,
            app_variables: context.app_variables.clone().map(strip_map),
            options,
            cache,
        }
    }
}

fn compile_selected(
    input: &ProjectInput,
    options: &CompileOptions,
    cache: &CssCache,
    only: Option<&str>,
) -> CompileOutput {
    let (datasources, mut diagnostics) = publishable_datasources(&input.datasources);
    let index = DatasourceIndex::new(&datasources);
    let (routes, project_diags) = check_project(&input.pages, &input.context);
    diagnostics.extend(project_diags);
    let shared = Shared::new(&index, &input.context, options, cache);

    let mut pages = Vec::new();
    for draft in &input.pages {
        if only.is_some_and(|id| id != draft.id) {
            continue;
        }
        let (mut page, page_diags) = compile_one(draft.clone(), &shared);
        page.content_hash = Some(page.compute_content_hash());
        pages.push(page);
        diagnostics.extend(page_diags);
    }
    if let Some(id) = only {
        diagnostics.retain(|d| d.page_id.as_deref().is_none_or(|p| p == id));
    }
    CompileOutput {
        pages,
        routes,
        diagnostics,
    }
}

/// Counts serialized bytes without keeping them.
struct ByteCount(usize);

impl io::Write for ByteCount {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn serialized_len(value: &Value) -> usize {
    let mut count = ByteCount(0);
    // Serialising a `Value` into a sink that never fails cannot fail either.
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

/// Components in a layout and its deepest nesting (a top-level component is at depth 1).
pub fn layout_shape(layout: &Value) -> (usize, usize) {
    fn walk(items: &[Value], depth: usize, count: &mut usize, deepest: &mut usize) {
        for item in items {
            *count += 1;
            *deepest = (*deepest).max(depth);
            if let Some(children) = item.get("children").and_then(Value::as_array) {
                walk(children, depth + 1, count, deepest);
            }
        }
    }
    let (mut count, mut deepest) = (0, 0);
    if let Some(items) = layout.get("content").and_then(Value::as_array) {
        walk(items, 1, &mut count, &mut deepest);
    }
    (count, deepest)
}

/// One page, without its content hash (the caller takes it from the page's bytes).
fn compile_one(draft: DraftPage, cx: &Shared<'_>) -> (CompiledPage, Vec<Diagnostic>) {
    let options = cx.options;
    let mut sink = Sink::for_page(Some(&draft.id));
    let size = serialized_len(&draft.layout_data);
    if size > options.max_layout_bytes {
        sink.report(
            "/layout_data",
            Code::LayoutTooLarge,
            format!(
                "layout_data is {size} bytes serialized; the limit is {}",
                options.max_layout_bytes
            ),
        );
    }
    let (components, depth) = layout_shape(&draft.layout_data);
    if components > options.max_components || depth > options.max_depth {
        sink.report(
            "/layout_data",
            Code::LayoutTooLarge,
            format!(
                "layout_data has {components} components nested {depth} deep; the limits are {} and {}",
                options.max_components, options.max_depth
            ),
        );
    }
    // A page over a limit is not normalised: its compile would cost what the limit bounds.
    let within = size <= options.max_layout_bytes
        && components <= options.max_components
        && depth <= options.max_depth;
    let layout = match within {
        true => draft.layout_data,
        false => serde_json::json!({"content": []}),
    };
    let normalised = normalise_layout_at(layout, "/layout_data", cx.index, &mut sink);

    let seo_data = match draft.seo_data {
        None | Some(Value::Null) => None,
        Some(Value::Object(seo)) => Some(Value::Object(strip_map(seo))),
        Some(_) => {
            sink.report(
                "/seo_data",
                Code::InvalidSeoData,
                "seo_data is not an object; left out",
            );
            None
        }
    };
    // The index resolves repeated ids to the first config, as bindings saw them; the set is
    // sorted, so the list is too.
    let used: Vec<Datasource> = normalised
        .used_datasources
        .iter()
        .filter_map(|id| cx.index.get(id).cloned())
        .collect();

    let css = match normalised.layout.get("content") {
        Some(content) => cx.cache.bundle(content),
        None => cx.cache.bundle(&Value::Array(Vec::new())),
    };
    let page = CompiledPage {
        id: draft.id,
        slug: draft.slug,
        tenant_slug: cx.tenant.to_owned(),
        name: draft.name,
        title: draft.title,
        description: draft.description,
        layout_data: normalised.layout,
        seo_data,
        datasources: (!used.is_empty()).then_some(used),
        css_bundle: Some(css.as_str().to_owned()),
        version: 1,
        published_at: String::new(),
        is_public: draft.is_public,
        is_homepage: draft.is_homepage,
        content_hash: None,
        app_variables: cx.app_variables.clone(),
    };
    (page, sink.items)
}
