//! The compile entry points: a whole project, or one page of it for a dry run.

use std::io;

use serde_json::Value;

use super::binding::DatasourceIndex;
use super::css_cache::CssCache;
use super::diagnostics::{Code, Diagnostic, Sink};
use super::json::{strip_map, strip_nulls};
use super::model::{CompileOptions, Datasource, DraftPage, ProjectInput};
use super::normalise::normalise_layout_at;
use super::page::{CompileError, CompileOutput, CompiledPage};
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

    let mut pages = Vec::new();
    for draft in &input.pages {
        if only.is_some_and(|id| id != draft.id) {
            continue;
        }
        let (page, page_diags) = compile_one(draft, input, &index, options, cache);
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

fn compile_one(
    draft: &DraftPage,
    input: &ProjectInput,
    index: &DatasourceIndex<'_>,
    options: &CompileOptions,
    cache: &CssCache,
) -> (CompiledPage, Vec<Diagnostic>) {
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
    let empty = serde_json::json!({"content": []});
    let layout = if within { &draft.layout_data } else { &empty };
    let normalised = normalise_layout_at(layout, "/layout_data", index, &mut sink);

    let seo_data = match &draft.seo_data {
        None | Some(Value::Null) => None,
        Some(seo @ Value::Object(_)) => Some(strip_nulls(seo.clone())),
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
        .filter_map(|id| index.get(id).cloned())
        .collect();

    let content = normalised
        .layout
        .get("content")
        .cloned()
        .unwrap_or_default();
    let css = cache.bundle(&content);
    let mut page = CompiledPage {
        id: draft.id.clone(),
        slug: draft.slug.clone(),
        tenant_slug: input.context.tenant_slug.clone(),
        name: draft.name.clone(),
        title: draft.title.clone(),
        description: draft.description.clone(),
        layout_data: normalised.layout,
        seo_data,
        datasources: (!used.is_empty()).then_some(used),
        css_bundle: Some(css.as_str().to_owned()),
        version: 1,
        published_at: String::new(),
        is_public: draft.is_public,
        is_homepage: draft.is_homepage,
        content_hash: None,
        app_variables: input.context.app_variables.clone().map(strip_map),
    };
    page.content_hash = Some(page.compute_content_hash());
    (page, sink.items)
}
