//! Tests of the compiler, one file per rule family, plus property tests in `props`.

mod corpus;
mod css_tests;
mod data_request_tests;
mod normalise_tests;
mod page_tests;
mod props;
mod sanitize_tests;
mod styles_tests;
mod validate_tests;

use serde_json::{json, Value};

use super::{
    compile_project, Code, CompileOptions, CompileOutput, CssCache, Datasource, DatasourceKind,
    DraftPage, ProjectContext, ProjectInput,
};

pub(crate) fn draft(id: &str, slug: &str, layout: Value) -> DraftPage {
    DraftPage {
        id: id.to_owned(),
        slug: slug.to_owned(),
        name: format!("Page {id}"),
        title: None,
        description: None,
        layout_data: layout,
        seo_data: None,
        is_public: true,
        is_homepage: false,
    }
}

pub(crate) fn homepage(id: &str, layout: Value) -> DraftPage {
    DraftPage {
        is_homepage: true,
        ..draft(id, "home", layout)
    }
}

pub(crate) fn datasource(id: &str, kind: DatasourceKind) -> Datasource {
    let supabase = kind == DatasourceKind::Supabase;
    Datasource {
        id: id.to_owned(),
        kind,
        name: format!("{id} source"),
        url: supabase.then(|| "https://abc.supabase.co".to_owned()),
        anon_key: supabase.then(|| "anon-123".to_owned()),
        secret_env_var: (!supabase).then(|| "DS_MAIN_API_KEY".to_owned()),
    }
}

/// The datasources the fixtures and property tests bind to.
pub(crate) fn all_datasources() -> Vec<Datasource> {
    vec![
        datasource("ds-supa", DatasourceKind::Supabase),
        datasource("ds-pg", DatasourceKind::Postgres),
        datasource("ds-neon", DatasourceKind::Neon),
        datasource("ds-my", DatasourceKind::Mysql),
        datasource("ds-ps", DatasourceKind::Planetscale),
        datasource("ds-lite", DatasourceKind::Sqlite),
        datasource("ds-turso", DatasourceKind::Turso),
    ]
}

pub(crate) fn project(pages: Vec<DraftPage>) -> ProjectInput {
    ProjectInput {
        pages,
        datasources: all_datasources(),
        context: ProjectContext::default(),
    }
}

pub(crate) fn compile(input: &ProjectInput) -> CompileOutput {
    compile_project(input, &CompileOptions::default(), &CssCache::new())
}

/// A one-page project (the page is the homepage) holding `content`.
pub(crate) fn compile_content(content: Value) -> CompileOutput {
    compile(&project(vec![homepage(
        "p1",
        json!({ "content": content }),
    )]))
}

/// The first compiled page's `layoutData.content`.
pub(crate) fn content_of(out: &CompileOutput) -> Value {
    out.pages[0].layout_data["content"].clone()
}

/// `(pointer, code)` of every diagnostic, in order.
pub(crate) fn found(out: &CompileOutput) -> Vec<(String, Code)> {
    out.diagnostics
        .iter()
        .map(|d| (d.pointer.clone(), d.code))
        .collect()
}

pub(crate) fn contains_null(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.iter().any(contains_null),
        Value::Object(map) => map.values().any(contains_null),
        _ => false,
    }
}
