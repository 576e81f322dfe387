use serde_json::json;

use super::{all_datasources, compile_content, contains_null, content_of, found};
use crate::compile::{normalise_layout, Code};

const DEFAULT_STYLES: &str =
    r#"{"activeProperties":[],"values":{},"stylingMode":"visual","viewportOverrides":{}}"#;

#[test]
fn a_plain_component_gets_every_default() {
    let out = compile_content(json!([{ "id": "t1", "type": "Text", "props": { "text": "Hi" } }]));
    let styles: serde_json::Value = serde_json::from_str(DEFAULT_STYLES).expect("fixture");
    assert_eq!(
        content_of(&out),
        json!([{
            "id": "t1",
            "type": "Text",
            "props": { "text": "Hi" },
            "styles": styles,
            "stylesData": styles,
            "visibility": { "mobile": true, "tablet": true, "desktop": true }
        }])
    );
    assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
}

#[test]
fn props_binding_moves_to_binding_with_component_id() {
    let out = compile_content(json!([{
        "id": "tbl", "type": "DataTable",
        "props": { "title": "Users", "binding": { "datasource_id": "ds-pg", "tableName": "users" } }
    }]));
    let c = &content_of(&out)[0];
    assert_eq!(c["props"], json!({ "title": "Users" }));
    assert_eq!(c["binding"]["componentId"], "tbl");
    assert_eq!(c["binding"]["datasourceId"], "ds-pg");
    assert_eq!(c["binding"]["tableName"], "users");
    assert!(c["binding"].get("datasource_id").is_none());
    assert!(c["binding"]["dataRequest"].is_object());
}

#[test]
fn every_datasource_id_spelling_becomes_datasource_id() {
    for key in ["datasourceId", "dataSourceId", "datasource_id"] {
        let out = compile_content(json!([{
            "id": "c", "type": "DataTable", "binding": { key: "ds-my", "tableName": "t" }
        }]));
        let binding = content_of(&out)[0]["binding"].clone();
        assert_eq!(binding["datasourceId"], "ds-my", "{key}");
        let spellings = ["dataSourceId", "datasource_id"];
        assert!(spellings.iter().all(|k| binding.get(k).is_none()), "{key}");
    }
}

#[test]
fn props_binding_wins_over_a_top_level_binding() {
    let out = compile_content(json!([{
        "id": "c", "type": "DataTable",
        "binding": { "datasourceId": "ds-my", "tableName": "old" },
        "props": { "binding": { "datasourceId": "ds-pg", "tableName": "new" } }
    }]));
    let binding = &content_of(&out)[0]["binding"];
    assert_eq!(binding["tableName"], "new");
    assert_eq!(binding["datasourceId"], "ds-pg");
}

#[test]
fn the_rest_of_a_binding_passes_through_untouched() {
    let extra = json!({
        "columnOverrides": { "name": { "label": "Name" } },
        "frontendFilters": [{ "id": "f", "column": "status", "filterType": "dropdown" }],
        "hiddenFilters": [{ "id": "h", "column": "owner", "operator": "eq", "value": "{{ user.id }}" }],
        "primaryKey": "id",
        "chartConfig": { "type": "bar" },
        "fieldOrder": ["a", "b"],
        "custom": { "deep": [1, 2] }
    });
    let mut binding = extra.clone();
    binding["datasourceId"] = json!("ds-pg");
    binding["tableName"] = json!("users");
    let out = compile_content(json!([{ "id": "c", "type": "DataTable", "binding": binding }]));
    let got = &content_of(&out)[0]["binding"];
    for (key, value) in extra.as_object().expect("object") {
        assert_eq!(&got[key], value, "{key}");
    }
}

#[test]
fn a_draft_data_request_is_replaced_or_dropped() {
    let out = compile_content(json!([
        { "id": "a", "type": "DataTable",
          "binding": { "tableName": "t", "dataRequest": { "url": "https://evil.example" } } },
        { "id": "b", "type": "DataTable",
          "binding": { "datasourceId": "ds-pg", "tableName": "t", "dataRequest": { "url": "x" } } }
    ]));
    let content = content_of(&out);
    assert!(content[0]["binding"].get("dataRequest").is_none());
    assert_eq!(content[1]["binding"]["dataRequest"]["url"], "");
    assert_eq!(
        found(&out),
        vec![(
            "/layout_data/content/0/binding".to_owned(),
            Code::MissingDatasourceId
        )]
    );
}

#[test]
fn visibility_fills_missing_keys_with_true() {
    let out = compile_content(json!([
        { "id": "a", "type": "Text", "visibility": { "mobile": false } },
        { "id": "b", "type": "Text", "visibility": { "tablet": null, "desktop": "no", "extra": false } },
        { "id": "c", "type": "Text", "visibility": "hidden" }
    ]));
    let content = content_of(&out);
    assert_eq!(
        content[0]["visibility"],
        json!({ "mobile": false, "tablet": true, "desktop": true })
    );
    assert_eq!(
        content[1]["visibility"],
        json!({ "mobile": true, "tablet": true, "desktop": true })
    );
    assert_eq!(
        content[2]["visibility"],
        json!({ "mobile": true, "tablet": true, "desktop": true })
    );
}

#[test]
fn nulls_are_stripped_everywhere() {
    let out = compile_content(json!([
        null,
        { "id": "a", "type": "Container", "visibilityCondition": null, "extra": { "x": null, "y": [1, null] },
          "props": { "text": null, "list": [null, { "k": null }] },
          "styles": { "color": null, "padding": "4px" },
          "children": [null, { "id": "b", "type": "Text", "binding": null, "props": null }] }
    ]));
    let page = serde_json::to_value(&out.pages[0]).expect("serialisable");
    assert!(!contains_null(&page), "{page}");
    let content = content_of(&out);
    assert_eq!(content[0]["extra"], json!({ "y": [1] }));
    assert_eq!(content[0]["props"], json!({ "list": [{}] }));
    assert_eq!(content[0]["styles"]["values"], json!({ "padding": "4px" }));
    assert_eq!(content[0]["children"][0]["props"], json!({}));
}

#[test]
fn children_are_normalised_recursively_with_faithful_pointers() {
    let out = compile_content(json!([
        { "id": "row", "type": "Row", "children": [
            null,
            { "id": "col", "type": "Column", "children": [
                { "type": "Text", "props": { "binding": { "datasourceId": "ds-lite", "tableName": "t" } } }
            ] }
        ] }
    ]));
    let grandchild = &content_of(&out)[0]["children"][0]["children"][0];
    assert_eq!(grandchild["visibility"]["desktop"], true);
    assert!(grandchild["binding"]["dataRequest"].is_object());
    assert!(grandchild["binding"].get("componentId").is_none());
    assert_eq!(
        found(&out),
        vec![(
            "/layout_data/content/0/children/1/children/0/id".to_owned(),
            Code::MissingComponentId
        )]
    );
}

#[test]
fn bad_shapes_are_reported_and_left_out() {
    let out = compile_content(json!([
        "not a component",
        { "id": "a", "type": "Text", "children": "nope", "binding": 5 },
        { "id": "b", "type": "Text", "props": { "binding": [1] } }
    ]));
    let content = content_of(&out);
    assert_eq!(content.as_array().map(Vec::len), Some(2));
    assert!(content[0].get("children").is_none() && content[0].get("binding").is_none());
    assert_eq!(
        found(&out),
        vec![
            (
                "/layout_data/content/0".to_owned(),
                Code::ComponentNotObject
            ),
            (
                "/layout_data/content/1/binding".to_owned(),
                Code::BindingNotObject
            ),
            (
                "/layout_data/content/1/children".to_owned(),
                Code::ChildrenNotArray
            ),
            (
                "/layout_data/content/2/props/binding".to_owned(),
                Code::BindingNotObject
            ),
        ]
    );
}

#[test]
fn unknown_members_and_root_pass_through() {
    let layout = json!({
        "content": [{ "id": "a", "type": "Text", "anchor": "top", "locked": true }],
        "root": { "title": "T", "gone": null },
        "zones": {}
    });
    let got = normalise_layout(&layout, &all_datasources());
    assert_eq!(got["content"][0]["anchor"], "top");
    assert_eq!(got["content"][0]["locked"], true);
    assert_eq!(got["root"], json!({ "title": "T" }));
    assert!(got.get("zones").is_none());
}

#[test]
fn an_invalid_layout_compiles_to_empty_content() {
    for (layout, pointer) in [
        (json!([1, 2]), "/layout_data"),
        (json!({ "content": {} }), "/layout_data/content"),
        (json!({ "root": {} }), "/layout_data/content"),
    ] {
        let got = normalise_layout(&layout, &[]);
        assert_eq!(got["content"], json!([]), "{layout}");
        let out = super::compile(&super::project(vec![super::homepage("p", layout)]));
        assert_eq!(found(&out), vec![(pointer.to_owned(), Code::InvalidLayout)]);
    }
}

#[test]
fn normalising_twice_changes_nothing() {
    let layout = json!({
        "content": [
            { "id": "a", "type": "Card", "styles": { "color": "red" },
              "stylesData": { "values": { "padding": 4 }, "rawCSS": "color: blue; </style>" },
              "props": { "binding": { "dataSourceId": "ds-supa", "tableName": "t",
                                       "columns": ["id", "c.name"],
                                       "foreignKeys": [{ "column": "cid", "referencedTable": "c", "referencedColumn": "id" }] } },
              "children": [{ "id": "b", "type": "Mystery", "visibility": { "mobile": false } }] }
        ],
        "root": { "x": 1 }
    });
    let once = normalise_layout(&layout, &all_datasources());
    let twice = normalise_layout(&once, &all_datasources());
    assert_eq!(once, twice);
}
