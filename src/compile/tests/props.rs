//! Property tests over generated component trees: nesting up to depth 4, known and unknown
//! types, random styles, props and bindings, nulls sprinkled everywhere.

use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

use super::{all_datasources, compile, contains_null, homepage, project};
use crate::compile::css_minify::minify_css;
use crate::compile::{normalise_layout, sanitize_css, KNOWN_COMPONENT_TYPES};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 96,
        ..ProptestConfig::default()
    }
}

fn scalar() -> BoxedStrategy<Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-50i64..500).prop_map(Value::from),
        "[a-z0-9 #%.()-]{0,10}".prop_map(Value::String),
        Just(json!("red;}</style>@import x;")),
    ]
    .boxed()
}

fn css_key() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "color",
        "backgroundColor",
        "padding",
        "margin",
        "fontSize",
        "opacity",
        "zIndex",
        "width",
        "--brand",
        "bad key",
        "className",
    ])
    .prop_map(str::to_owned)
}

fn css_values() -> BoxedStrategy<Value> {
    btree_map(css_key(), scalar(), 0..4)
        .prop_map(|m| Value::Object(m.into_iter().collect()))
        .boxed()
}

fn maybe<T: std::fmt::Debug + Clone + 'static>(
    s: impl Strategy<Value = T> + 'static,
) -> impl Strategy<Value = Option<T>> {
    prop_oneof![Just(None), s.prop_map(Some)]
}

fn styles() -> BoxedStrategy<Value> {
    let structured = (
        css_values(),
        maybe(vec(css_key(), 0..3)),
        maybe(prop::sample::select(vec!["visual", "css"])),
        maybe((maybe(css_values()), maybe(css_values()))),
        maybe(prop::sample::select(vec![
            "color:red",
            "a{b:c}</style>",
            "  ",
            "@import x; p{}",
        ])),
    )
        .prop_map(|(values, active, mode, overrides, raw)| {
            let mut m = Map::new();
            m.insert("values".to_owned(), values);
            if let Some(active) = active {
                m.insert("activeProperties".to_owned(), json!(active));
            }
            if let Some(mode) = mode {
                m.insert("stylingMode".to_owned(), json!(mode));
            }
            if let Some((mobile, tablet)) = overrides {
                m.insert(
                    "viewportOverrides".to_owned(),
                    json!({ "mobile": mobile, "tablet": tablet }),
                );
            }
            if let Some(raw) = raw {
                m.insert("rawCSS".to_owned(), json!(raw));
            }
            Value::Object(m)
        });
    prop_oneof![
        Just(Value::Null),
        css_values(),
        structured,
        Just(json!("oops"))
    ]
    .boxed()
}

fn binding() -> BoxedStrategy<Value> {
    let ds = prop::sample::select(vec![
        "ds-supa", "ds-pg", "ds-neon", "ds-my", "ds-ps", "ds-lite", "ds-turso", "missing",
    ]);
    let key = prop::sample::select(vec!["datasourceId", "dataSourceId", "datasource_id"]);
    let columns = vec(
        prop::sample::select(vec!["id", "*", "name", "rel.x", "t.y"]),
        0..4,
    );
    let filter = prop_oneof![
        scalar(),
        vec(scalar(), 0..3).prop_map(Value::Array),
        (scalar(), scalar()).prop_map(|(min, max)| json!({ "min": min, "max": max })),
        scalar().prop_map(|v| json!({ "value": v, "filterType": "text" })),
    ];
    (
        maybe((key, ds)),
        maybe(prop::sample::select(vec!["users", "t", "we\"ird`"])),
        maybe(columns),
        maybe((scalar(), any::<bool>())),
        maybe((scalar(), scalar(), any::<bool>())),
        btree_map("[a-c]", filter, 0..3),
    )
        .prop_map(|(ds, table, columns, sort, page, filters)| {
            let mut b = Map::new();
            if let Some((key, ds)) = ds {
                b.insert(key.to_owned(), json!(ds));
            }
            if let Some(table) = table {
                b.insert("tableName".to_owned(), json!(table));
            }
            if let Some(columns) = columns {
                b.insert("columns".to_owned(), json!(columns));
            }
            if let Some((column, desc)) = sort {
                b.insert(
                    "sorting".to_owned(),
                    json!({ "column": column, "direction": if desc { "desc" } else { "asc" } }),
                );
            }
            if let Some((size, number, enabled)) = page {
                b.insert(
                    "pagination".to_owned(),
                    json!({ "pageSize": size, "page": number, "enabled": enabled }),
                );
            }
            b.insert(
                "foreignKeys".to_owned(),
                json!([{ "column": "rid", "referencedTable": "rel", "referencedColumn": "id" }]),
            );
            b.insert(
                "filters".to_owned(),
                Value::Object(filters.into_iter().collect()),
            );
            Value::Object(b)
        })
        .boxed()
}

fn component_type() -> BoxedStrategy<Value> {
    let mut types: Vec<Value> = KNOWN_COMPONENT_TYPES.iter().map(|t| json!(t)).collect();
    types.extend([
        json!("Widget"),
        json!("carousel"),
        json!(""),
        json!(7),
        Value::Null,
    ]);
    prop::sample::select(types).boxed()
}

fn component_id() -> BoxedStrategy<Value> {
    // A small pool, so duplicates happen.
    prop_oneof![
        8 => "[a-f]{1,2}".prop_map(Value::String),
        1 => Just(Value::Null),
        1 => Just(json!(42)),
    ]
    .boxed()
}

fn leaf() -> BoxedStrategy<Value> {
    (
        component_id(),
        component_type(),
        btree_map("[a-d]", scalar(), 0..3),
        maybe(binding()),
        any::<bool>(),
        styles(),
        styles(),
        maybe(btree_map(
            prop::sample::select(vec!["mobile", "tablet", "desktop"]),
            scalar(),
            0..3,
        )),
    )
        .prop_map(
            |(id, ty, props, binding, in_props, styles, styles_data, visibility)| {
                let mut props: Map<String, Value> = props.into_iter().collect();
                let mut c = Map::new();
                c.insert("id".to_owned(), id);
                c.insert("type".to_owned(), ty);
                if let Some(binding) = binding {
                    if in_props {
                        props.insert("binding".to_owned(), binding);
                    } else {
                        c.insert("binding".to_owned(), binding);
                    }
                }
                c.insert("props".to_owned(), Value::Object(props));
                c.insert("styles".to_owned(), styles);
                c.insert("stylesData".to_owned(), styles_data);
                if let Some(v) = visibility {
                    c.insert(
                        "visibility".to_owned(),
                        Value::Object(v.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()),
                    );
                }
                Value::Object(c)
            },
        )
        .boxed()
}

pub(super) fn tree() -> BoxedStrategy<Value> {
    let node = leaf().prop_recursive(4, 48, 4, |inner| {
        (
            leaf(),
            vec(
                prop_oneof![8 => inner, 1 => Just(Value::Null), 1 => Just(json!("x"))],
                0..4,
            ),
        )
            .prop_map(|(mut component, children)| {
                if let Some(map) = component.as_object_mut() {
                    map.insert("children".to_owned(), Value::Array(children));
                }
                component
            })
    });
    vec(node, 0..5)
        .prop_map(|content| json!({ "content": content, "root": { "a": null, "b": 1 } }))
        .boxed()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn compiling_is_total_deterministic_and_null_free(layout in tree()) {
        let input = project(vec![homepage("p1", layout)]);
        let first = compile(&input);
        let second = compile(&input);
        let bytes = serde_json::to_string(&first.pages).expect("serialisable");
        prop_assert_eq!(&bytes, &serde_json::to_string(&second.pages).expect("serialisable"));
        prop_assert_eq!(&first.pages[0].content_hash, &second.pages[0].content_hash);
        prop_assert_eq!(&first.diagnostics, &second.diagnostics);
        prop_assert!(!contains_null(&first.pages[0].to_value()));
    }

    #[test]
    fn normalising_compiled_output_changes_nothing(layout in tree()) {
        let out = compile(&project(vec![homepage("p1", layout)]));
        let page = &out.pages[0];
        prop_assert_eq!(&normalise_layout(&page.layout_data, &all_datasources()), &page.layout_data);
        // Recompiling the published layout as a draft gives the same page.
        let again = compile(&project(vec![homepage("p1", page.layout_data.clone())]));
        prop_assert_eq!(&again.pages[0], page);
    }

    #[test]
    fn sanitising_and_minifying_are_idempotent(
        parts in vec(prop::sample::select(vec![
            "</style", "<", "/", "style", "@", "import", "@import", "\\69", "\\", "expression", "(",
            "javascript", ":", " ", "\t", "\\9 ", ";", "{", "}", "\"", "/*", "*/", "a", "-moz-binding",
        ]), 0..12)
    ) {
        let css: String = parts.concat();
        let clean = sanitize_css(&css);
        prop_assert_eq!(&sanitize_css(&clean), &clean);
        let lower = clean.to_ascii_lowercase();
        prop_assert!(!lower.contains("</style") && !lower.contains("@import"), "{}", clean);
        let small = minify_css(&clean);
        prop_assert_eq!(&minify_css(&small), &small);
    }
}
