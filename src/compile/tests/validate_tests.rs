use serde_json::json;

use super::{compile, draft, found, homepage, project};
use crate::compile::{
    check_slug, compile_page, Code, CompileError, CompileOptions, CssCache, ProjectContext,
    Severity,
};

fn text(id: &str) -> serde_json::Value {
    json!({ "id": id, "type": "Text" })
}

#[test]
fn valid_slugs() {
    for slug in ["about", "blog-post-1", "a_b", "home", "x-static"] {
        assert_eq!(check_slug(slug), Ok(()), "{slug}");
    }
}

#[test]
fn a_slug_with_several_segments_is_an_error_naming_the_page() {
    for slug in ["blog/post-1", "a_b/c-d/0"] {
        let (code, message) = check_slug(slug).unwrap_err();
        assert_eq!(code, Code::InvalidSlug);
        assert!(message.contains("one segment"), "{message}");
    }
    let out = compile(&project(vec![
        homepage("p1", json!({ "content": [] })),
        draft("p2", "blog/first", json!({ "content": [] })),
    ]));
    assert!(out.has_errors());
    assert!(
        out.diagnostics
            .iter()
            .any(|d| d.page_id.as_deref() == Some("p2") && d.code == Code::InvalidSlug),
        "{:?}",
        out.diagnostics
    );
}

#[test]
fn invalid_slugs() {
    for slug in [
        "",
        "/a",
        "a/",
        "a//b",
        "About",
        "a..b",
        "a b",
        "caf\u{e9}",
        "a.b",
        "a?b",
        "..",
    ] {
        let code = check_slug(slug).err().map(|e| e.0);
        assert_eq!(code, Some(Code::InvalidSlug), "{slug:?}");
    }
}

#[test]
fn reserved_first_segments_are_refused() {
    for slug in [
        "api",
        "api/users",
        "_next",
        "__homepage__",
        "static/x",
        "assets",
    ] {
        let code = check_slug(slug).err().map(|e| e.0);
        assert_eq!(code, Some(Code::ReservedSlug), "{slug:?}");
    }
}

#[test]
fn routes_map_slugs_to_pages_and_name_the_homepage() {
    let out = compile(&project(vec![
        homepage("p1", json!({ "content": [] })),
        draft("p2", "about", json!({ "content": [] })),
        draft("p3", "blog-first", json!({ "content": [] })),
    ]));
    assert!(!out.has_errors(), "{:?}", out.diagnostics);
    let routes = &out.routes;
    assert_eq!(routes.resolve("_default", "about"), Some("p2"));
    assert_eq!(routes.resolve("_default", "blog-first"), Some("p3"));
    assert_eq!(routes.resolve("_default", "home"), Some("p1"));
    assert_eq!(routes.resolve("other", "about"), None);
    assert_eq!(routes.homepage("_default"), Some("p1"));
    let json = serde_json::to_value(routes).expect("serialisable");
    assert_eq!(
        json,
        json!({ "tenantSlug": "_default", "routes": { "about": "p2", "blog-first": "p3", "home": "p1" }, "homepage": "p1" })
    );
}

#[test]
fn a_duplicate_slug_is_an_error_on_each_page_and_routes_nowhere() {
    let out = compile(&project(vec![
        homepage("p1", json!({ "content": [] })),
        draft("p2", "about", json!({ "content": [] })),
        draft("p3", "about", json!({ "content": [] })),
    ]));
    assert!(out.has_errors());
    let dups: Vec<_> = out
        .errors()
        .map(|d| (d.page_id.as_deref(), d.code))
        .collect();
    assert_eq!(
        dups,
        vec![
            (Some("p2"), Code::DuplicateSlug),
            (Some("p3"), Code::DuplicateSlug)
        ]
    );
    assert_eq!(out.routes.resolve("_default", "about"), None);
    assert_eq!(out.pages.len(), 3, "every draft is still compiled");
}

#[test]
fn two_homepages_are_an_error_and_leave_no_homepage() {
    let mut second = homepage("p2", json!({ "content": [] }));
    second.slug = "start".to_owned();
    let out = compile(&project(vec![
        homepage("p1", json!({ "content": [] })),
        second,
    ]));
    let errors: Vec<_> = out
        .errors()
        .map(|d| (d.page_id.as_deref(), d.pointer.as_str(), d.code))
        .collect();
    assert_eq!(
        errors,
        vec![
            (Some("p1"), "/is_homepage", Code::MultipleHomepages),
            (Some("p2"), "/is_homepage", Code::MultipleHomepages)
        ]
    );
    assert_eq!(out.routes.homepage("_default"), None);
}

#[test]
fn no_public_homepage_is_a_warning() {
    let out = compile(&project(vec![draft(
        "p1",
        "about",
        json!({ "content": [] }),
    )]));
    assert!(!out.has_errors());
    assert_eq!(found(&out), vec![("/pages".to_owned(), Code::NoHomepage)]);

    let mut private = homepage("p1", json!({ "content": [] }));
    private.is_public = false;
    let out = compile(&project(vec![private]));
    assert_eq!(found(&out), vec![("/pages".to_owned(), Code::NoHomepage)]);
    assert_eq!(out.pages.len(), 1, "a private page is still compiled");
    assert!(!out.pages[0].is_public);
}

#[test]
fn every_problem_is_reported_at_once() {
    let layout = json!({ "content": [
        text("a"),
        { "type": "Text" },
        { "id": "c", "type": "Row", "children": [ text("a"), { "id": "d" }, { "id": "e", "type": "Blink" } ] }
    ] });
    let mut page = draft("p1", "api/x", layout);
    page.is_homepage = true;
    let out = compile(&project(vec![page]));
    let got: Vec<_> = out
        .diagnostics
        .iter()
        .map(|d| (d.pointer.as_str(), d.code, d.severity))
        .collect();
    assert_eq!(
        got,
        vec![
            ("/slug", Code::ReservedSlug, Severity::Error),
            (
                "/layout_data/content/1/id",
                Code::MissingComponentId,
                Severity::Error
            ),
            (
                "/layout_data/content/2/children/0/id",
                Code::DuplicateComponentId,
                Severity::Error
            ),
            (
                "/layout_data/content/2/children/1/type",
                Code::MissingComponentType,
                Severity::Error
            ),
            (
                "/layout_data/content/2/children/2/type",
                Code::UnknownComponentType,
                Severity::Warning
            ),
        ]
    );
    assert!(out
        .diagnostics
        .iter()
        .all(|d| d.page_id.as_deref() == Some("p1")));
    let dup = &out.diagnostics[2];
    assert!(
        dup.message.contains("/layout_data/content/0/id"),
        "{}",
        dup.message
    );
}

#[test]
fn a_layout_over_the_size_limit_is_an_error() {
    let input = project(vec![homepage("p1", json!({ "content": [text("a")] }))]);
    let small = CompileOptions {
        max_layout_bytes: 16,
        ..CompileOptions::default()
    };
    let out = crate::compile::compile_project(&input, &small, &CssCache::new());
    assert_eq!(
        found(&out),
        vec![("/layout_data".to_owned(), Code::LayoutTooLarge)]
    );
    assert_eq!(CompileOptions::default().max_layout_bytes, 2 * 1024 * 1024);
    assert!(!compile(&input).has_errors());
    // Too many components or too deep: an error, and the page is not normalised.
    let nested = json!({ "content": [{ "id": "a", "type": "Row", "children": [
        { "id": "b", "type": "Row", "children": [text("c")] }
    ] }] });
    let input = project(vec![homepage("p1", nested)]);
    for options in [
        CompileOptions {
            max_depth: 2,
            ..CompileOptions::default()
        },
        CompileOptions {
            max_components: 2,
            ..CompileOptions::default()
        },
    ] {
        let out = crate::compile::compile_project(&input, &options, &CssCache::new());
        assert_eq!(
            found(&out),
            vec![("/layout_data".to_owned(), Code::LayoutTooLarge)]
        );
    }
}

#[test]
fn duplicate_page_ids_and_a_bad_tenant_are_errors() {
    let mut input = project(vec![
        homepage("p1", json!({ "content": [] })),
        draft("p1", "other", json!({ "content": [] })),
    ]);
    input.context = ProjectContext {
        tenant_slug: "Bad Tenant".to_owned(),
        app_variables: None,
    };
    let codes: Vec<Code> = compile(&input).errors().map(|d| d.code).collect();
    assert_eq!(
        codes,
        vec![
            Code::InvalidTenantSlug,
            Code::DuplicatePageId,
            Code::DuplicatePageId
        ]
    );
}

#[test]
fn compile_page_dry_runs_one_page_with_its_own_diagnostics() {
    let input = project(vec![
        homepage("p1", json!({ "content": [{ "type": "Text" }] })),
        draft("p2", "about", json!({ "content": [text("x")] })),
        draft("p3", "about", json!({ "content": [{ "id": "y" }] })),
    ]);
    let (options, cache) = (CompileOptions::default(), CssCache::new());
    let out = compile_page(&input, "p2", &options, &cache).expect("page exists");
    assert_eq!(out.pages.len(), 1);
    assert_eq!(out.pages[0].id, "p2");
    let codes: Vec<_> = out
        .diagnostics
        .iter()
        .map(|d| (d.page_id.as_deref(), d.code))
        .collect();
    assert_eq!(codes, vec![(Some("p2"), Code::DuplicateSlug)]);
    assert_eq!(
        compile_page(&input, "nope", &options, &cache).err(),
        Some(CompileError::PageNotFound("nope".to_owned()))
    );
}
