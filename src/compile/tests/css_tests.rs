use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use serde_json::{json, Value};

use super::{compile_content, content_of};
use crate::compile::css::{css_property, id_selector};
use crate::compile::css_types::BASE_CSS;
use crate::compile::{build_css_bundle, css_input, CssCache};

/// The bundle of normalised `content`, built without a cache.
fn bundle(content: Value) -> String {
    let out = compile_content(content);
    build_css_bundle(&css_input(&content_of(&out)))
}

#[test]
fn only_the_css_of_used_types_is_included() {
    let css = bundle(json!([
        { "id": "a", "type": "Container", "children": [
            { "id": "b", "type": "Text" }, { "id": "c", "type": "Button" }, { "id": "d", "type": "Widget" }
        ] }
    ]));
    assert!(css.starts_with(BASE_CSS));
    for present in [".fb-container{", ".fb-text{", ".fb-button{"] {
        assert!(css.contains(present), "{present} missing from {css}");
    }
    for absent in [".fb-card", ".fb-data-table", ".fb-widget"] {
        assert!(!css.contains(absent), "{absent} in {css}");
    }
    // Types appear in sorted order, whatever the document order.
    let rest = &css[BASE_CSS.len()..];
    assert_eq!(rest, ".fb-button{display:inline-flex;align-items:center;justify-content:center;gap:8px;padding:8px 16px;border-radius:6px;cursor:pointer}.fb-container{width:100%;margin-left:auto;margin-right:auto}.fb-text{margin:0}");
}

#[test]
fn style_values_become_one_rule_per_component() {
    let css = bundle(json!([{ "id": "c1", "type": "Text", "styles": {
        "backgroundColor": "red", "padding": { "top": 4, "left": "2px" }, "opacity": 0.5,
        "zIndex": 3, "width": 100, "fontSize": "12", "className": "x", "weird": { "a": 1 }
    } }]));
    let expected = format!(
        "{BASE_CSS}.fb-text{{margin:0}}[id=\"c1\"]{{background-color:red;font-size:12px;opacity:0.5;\
         padding-top:4px;padding-left:2px;width:100px;z-index:3}}"
    );
    assert_eq!(css, expected);
}

#[test]
fn viewport_overrides_become_media_queries() {
    let css = bundle(
        json!([{ "id": "c1", "type": "Spacer", "stylesData": { "values": {},
        "viewportOverrides": { "mobile": { "color": "red" }, "tablet": { "fontSize": 14, "color": "blue !important" } }
    } }]),
    );
    let tail = "@media(min-width:768px) and (max-width:1023px){[id=\"c1\"]{color:blue !important;font-size:14px!important}}\
                @media(max-width:767px){[id=\"c1\"]{color:red!important}}";
    assert!(css.ends_with(tail), "{css}");
}

#[test]
fn raw_css_is_appended_scoped_minified_and_sanitised() {
    let css = bundle(json!([
        { "id": "a", "type": "Text", "stylesData": { "values": {}, "rawCSS": "color: red;\n  margin : 0 ;</style>" } },
        { "id": "b", "type": "Text", "stylesData": { "values": {}, "rawCSS": ".x > .y {\n color: red; }" } }
    ]));
    assert!(
        css.ends_with("[id=\"a\"]{color: red;margin : 0;>}.x > .y{color: red}"),
        "{css}"
    );
}

#[test]
fn values_that_could_escape_their_declaration_are_dropped() {
    let css = bundle(json!([{ "id": "a", "type": "Text", "styles": {
        "color": "red;}body{x:y", "background": "url(\"x", "margin": "1px /* c", "top": "a\\",
        "bad prop": "1", "--brand": "#fff", "WebkitTransform": "none", "msTransform": "none"
    } }]));
    assert!(
        css.ends_with("[id=\"a\"]{--brand:#fff;-webkit-transform:none;-ms-transform:none}"),
        "{css}"
    );
}

#[test]
fn selectors_escape_unusual_ids() {
    assert_eq!(id_selector("hero-1_a"), "[id=\"hero-1_a\"]");
    assert_eq!(
        id_selector("a\"b</style>"),
        "[id=\"a\\22 b\\3c \\2f style\\3e \"]"
    );
    assert_eq!(
        css_property("backgroundColor").as_deref(),
        Some("background-color")
    );
    assert_eq!(css_property("x:y"), None);
}

#[test]
fn the_bundle_is_minified_and_deterministic() {
    let content = json!([
        { "id": "a", "type": "Card", "styles": { "padding": "1rem", "color": "red" },
          "children": [{ "id": "b", "type": "Heading", "stylesData": { "values": { "margin": 0 },
                         "viewportOverrides": { "mobile": { "margin": 4 } } } }] }
    ]);
    let first = bundle(content.clone());
    assert_eq!(first, bundle(content));
    assert!(
        !first.contains('\n') && !first.contains("  ") && !first.contains("; "),
        "{first}"
    );
}

#[test]
fn the_cache_builds_each_distinct_input_once() {
    let cache = CssCache::new();
    let styled = |text: &str, color: &str| json!([{ "id": "a", "type": "Text", "props": { "text": text }, "styles": { "values": { "color": color } } }]);
    let first = cache.bundle(&styled("one", "red"));
    let again = cache.bundle(&styled("two", "red"));
    assert!(
        Arc::ptr_eq(&first, &again),
        "a props-only change reuses the bundle"
    );
    assert_eq!(cache.builds(), 1);
    let other = cache.bundle(&styled("one", "blue"));
    assert_ne!(first, other);
    assert_eq!(cache.builds(), 2);
    assert_eq!(cache.len(), 2);
}

#[test]
fn concurrent_callers_of_one_key_share_one_build() {
    let cache = Arc::new(CssCache::new());
    let computations = Arc::new(AtomicUsize::new(0));
    let barrier = Arc::new(Barrier::new(8));
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let (cache, computations, barrier) =
                (cache.clone(), computations.clone(), barrier.clone());
            thread::spawn(move || {
                barrier.wait();
                cache.get_or_build("key", || {
                    computations.fetch_add(1, Ordering::SeqCst);
                    // Long enough that every other thread arrives while this build runs.
                    thread::sleep(Duration::from_millis(100));
                    "css".to_owned()
                })
            })
        })
        .collect();
    let results: Vec<Arc<String>> = handles.into_iter().filter_map(|h| h.join().ok()).collect();
    assert_eq!(results.len(), 8);
    assert_eq!(computations.load(Ordering::SeqCst), 1);
    assert_eq!(cache.builds(), 1);
    assert!(results.iter().all(|r| Arc::ptr_eq(r, &results[0])));
}

#[test]
fn concurrent_compiles_of_one_page_share_one_bundle() {
    let cache = Arc::new(CssCache::new());
    let content = Arc::new(json!([{ "id": "a", "type": "Grid", "styles": { "gap": 8 } }]));
    let barrier = Arc::new(Barrier::new(4));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let (cache, content, barrier) = (cache.clone(), content.clone(), barrier.clone());
            thread::spawn(move || {
                barrier.wait();
                cache.bundle(&content)
            })
        })
        .collect();
    let results: Vec<Arc<String>> = handles.into_iter().filter_map(|h| h.join().ok()).collect();
    assert_eq!(results.len(), 4);
    assert_eq!(cache.builds(), 1);
}

#[test]
fn a_full_cache_drops_finished_entries_and_keeps_working() {
    let cache = CssCache::with_capacity(2);
    for key in ["a", "b", "c"] {
        cache.get_or_build(key, || key.to_owned());
    }
    assert!(cache.len() <= 2);
    assert_eq!(cache.get_or_build("c", || "other".to_owned()).as_str(), "c");
    assert_eq!(cache.builds(), 3);
}

#[test]
fn the_cache_is_bounded_by_bytes_too() {
    use crate::compile::css_cache::CSS_CACHE_BYTES;
    let cache = CssCache::new();
    let big = "x".repeat(CSS_CACHE_BYTES / 4);
    for key in ["a", "b", "c", "d", "e", "f"] {
        cache.get_or_build(key, || big.clone());
    }
    // Four quarters fill it; the fifth key clears the finished ones.
    assert!(cache.len() <= 2, "{} bundles kept", cache.len());
    assert_eq!(
        cache.get_or_build("f", || "other".to_owned()).len(),
        big.len()
    );
}
