use serde_json::{json, Value};

use super::{compile_content, content_of};
use crate::compile::styles::merge_styles;

fn merged(styles: Value, styles_data: Value) -> Value {
    merge_styles(Some(styles), Some(styles_data))
}

#[test]
fn a_flat_styles_map_counts_as_values() {
    assert_eq!(
        merge_styles(Some(json!({ "color": "red", "fontSize": 14 })), None),
        json!({
            "activeProperties": ["color", "fontSize"],
            "values": { "color": "red", "fontSize": 14 },
            "stylingMode": "visual",
            "viewportOverrides": {}
        })
    );
}

#[test]
fn styles_data_values_override_the_defaults() {
    let got = merged(
        json!({ "color": "red", "padding": "8px" }),
        json!({ "values": { "color": "blue", "margin": "0" }, "stylingMode": "css" }),
    );
    assert_eq!(
        got,
        json!({
            "activeProperties": ["color", "margin", "padding"],
            "values": { "color": "blue", "margin": "0", "padding": "8px" },
            "stylingMode": "css",
            "viewportOverrides": {}
        })
    );
}

#[test]
fn structured_defaults_are_read_as_structured() {
    let got = merged(
        json!({ "activeProperties": ["color"], "values": { "color": "red" }, "stylingMode": "visual" }),
        json!({ "values": { "width": "10px" } }),
    );
    assert_eq!(got["values"], json!({ "color": "red", "width": "10px" }));
    // A template's list is not the author's: the merged keys are listed instead.
    assert_eq!(got["activeProperties"], json!(["color", "width"]));
}

#[test]
fn active_properties_given_in_styles_data_are_kept_as_given() {
    let got = merged(
        json!({ "activeProperties": ["a"], "values": { "a": 1 } }),
        json!({ "activeProperties": ["c", 3, "b"], "values": {} }),
    );
    assert_eq!(got["activeProperties"], json!(["c", "b"]));
}

#[test]
fn viewport_overrides_merge_per_viewport_and_keep_only_mobile_and_tablet() {
    let got = merged(
        json!({ "values": {}, "viewportOverrides": { "mobile": { "color": "red", "margin": "1px" } } }),
        json!({ "values": {}, "viewportOverrides": {
            "mobile": { "color": "blue" }, "tablet": { "width": "50%" }, "desktop": { "x": 1 }
        } }),
    );
    assert_eq!(
        got["viewportOverrides"],
        json!({ "mobile": { "color": "blue", "margin": "1px" }, "tablet": { "width": "50%" } })
    );
}

#[test]
fn meta_keys_of_a_flat_map_are_not_css_properties() {
    let got = merge_styles(
        Some(json!({ "color": "red", "stylingMode": "css", "rawCSS": "margin: 0" })),
        None,
    );
    assert_eq!(got["values"], json!({ "color": "red" }));
    assert_eq!(got["stylingMode"], "css");
    assert_eq!(got["rawCSS"], "margin: 0");
}

#[test]
fn raw_css_is_sanitised_and_blank_raw_css_dropped() {
    let got = merged(
        json!({}),
        json!({ "values": {}, "rawCSS": "color:red</STYLE><script>x</script>" }),
    );
    assert_eq!(got["rawCSS"], "color:red><script>x</script>");
    let blank = merged(json!({}), json!({ "values": {}, "rawCSS": "  " }));
    assert!(blank.get("rawCSS").is_none());
}

#[test]
fn string_values_are_sanitised_too() {
    let got = merged(
        json!({}),
        json!({ "values": { "background": "url(javascript:alert(1))" },
                "viewportOverrides": { "mobile": { "color": "red</style>" } } }),
    );
    assert_eq!(got["values"]["background"], "url(:alert(1))");
    assert_eq!(got["viewportOverrides"]["mobile"]["color"], "red>");
}

#[test]
fn published_styles_and_styles_data_are_the_same_object() {
    let out = compile_content(json!([{
        "id": "a", "type": "Text", "styles": { "color": "red" },
        "stylesData": { "values": { "margin": "0" }, "viewportOverrides": { "tablet": { "color": "blue" } } }
    }]));
    let c = &content_of(&out)[0];
    assert_eq!(c["styles"], c["stylesData"]);
    assert_eq!(
        c["styles"]["values"],
        json!({ "color": "red", "margin": "0" })
    );
}

#[test]
fn merging_the_output_with_itself_changes_nothing() {
    let once = merged(
        json!({ "color": "red" }),
        json!({ "values": { "x": "1" }, "rawCSS": "a{b:c}", "viewportOverrides": { "mobile": {} } }),
    );
    assert_eq!(merged(once.clone(), once.clone()), once);
}
