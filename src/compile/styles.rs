//! Styles: the draft's `styles` (template defaults) merged with `stylesData` (the author's
//! edits) into the one structured object the edge reads from both `styles` and `stylesData`.
//!
//! Either input may be structured (`{activeProperties, values, stylingMode, viewportOverrides,
//! rawCSS}`) or a flat map of CSS properties (`{"color": "red"}`), which counts as `values`.
//! An object is structured when it has `values` or `activeProperties`. The output is itself
//! structured, so merging it with itself changes nothing.

use serde_json::{Map, Value};

use super::sanitize::sanitize_css;

/// The viewports an override may target; the edge knows no others.
pub const VIEWPORTS: [&str; 2] = ["mobile", "tablet"];

#[derive(Debug, Default)]
struct Parts {
    values: Map<String, Value>,
    active: Option<Vec<Value>>,
    mode: Option<String>,
    overrides: Map<String, Value>,
    raw_css: Option<String>,
}

fn parts_of(styles: Option<Value>) -> Parts {
    let Some(Value::Object(mut map)) = styles else {
        return Parts::default();
    };
    let structured = map.contains_key("values") || map.contains_key("activeProperties");
    let mode = match map.remove("stylingMode") {
        Some(Value::String(s)) => Some(s),
        _ => None,
    };
    let overrides = match map.remove("viewportOverrides") {
        Some(Value::Object(o)) => o,
        _ => Map::new(),
    };
    let raw_css = match map.remove("rawCSS") {
        Some(Value::String(s)) => Some(s),
        _ => None,
    };
    if !structured {
        // A flat map: every member but the meta keys (taken out above; `activeProperties`
        // would have made it structured) is a CSS property.
        return Parts {
            values: map,
            active: None,
            mode,
            overrides,
            raw_css,
        };
    }
    let values = match map.remove("values") {
        Some(Value::Object(v)) => v,
        _ => Map::new(),
    };
    let active = match map.remove("activeProperties") {
        Some(Value::Array(items)) => Some(items.into_iter().filter(Value::is_string).collect()),
        _ => None,
    };
    Parts {
        values,
        active,
        mode,
        overrides,
        raw_css,
    }
}

/// String values are sanitised because the edge also writes override values into a `<style>`
/// element of its own.
fn clean_values(values: Map<String, Value>) -> Map<String, Value> {
    values
        .into_iter()
        .map(|(k, v)| match v {
            Value::String(s) => (k, Value::String(sanitize_css(&s))),
            other => (k, other),
        })
        .collect()
}

fn merge(mut base: Map<String, Value>, top: Map<String, Value>) -> Map<String, Value> {
    base.extend(top);
    base
}

/// Merges a component's `styles` and `stylesData` into the structured published form.
pub fn merge_styles(styles: Option<Value>, styles_data: Option<Value>) -> Value {
    let defaults = parts_of(styles);
    let edits = parts_of(styles_data);

    let values = clean_values(merge(defaults.values, edits.values));
    // Only the edits' list counts as given: a template's list would hide properties the
    // author added on top of it.
    let active = edits.active.unwrap_or_else(|| {
        // Map keys iterate in sorted order without `preserve_order`; sort anyway so the
        // output never depends on that feature.
        let mut keys: Vec<&String> = values.keys().collect();
        keys.sort();
        keys.into_iter().map(|k| Value::String(k.clone())).collect()
    });
    let mode = edits
        .mode
        .or(defaults.mode)
        .unwrap_or_else(|| "visual".to_owned());

    let mut overrides = Map::new();
    for viewport in VIEWPORTS {
        let pick = |m: &Map<String, Value>| {
            m.get(viewport)
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default()
        };
        let present = defaults
            .overrides
            .get(viewport)
            .is_some_and(Value::is_object)
            || edits.overrides.get(viewport).is_some_and(Value::is_object);
        if present {
            let merged = clean_values(merge(pick(&defaults.overrides), pick(&edits.overrides)));
            overrides.insert(viewport.to_owned(), Value::Object(merged));
        }
    }

    let mut out = Map::new();
    out.insert("activeProperties".to_owned(), Value::Array(active));
    out.insert("values".to_owned(), Value::Object(values));
    out.insert("stylingMode".to_owned(), Value::String(mode));
    out.insert("viewportOverrides".to_owned(), Value::Object(overrides));
    if let Some(raw) = edits.raw_css.or(defaults.raw_css) {
        let clean = sanitize_css(&raw);
        if !clean.trim().is_empty() {
            out.insert("rawCSS".to_owned(), Value::String(clean));
        }
    }
    Value::Object(out)
}
