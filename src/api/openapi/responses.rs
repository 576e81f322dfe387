//! Response shapes the derives leave open. A free-form value (`value_type = Object`) comes out
//! as `{"type": "object"}`, which a generated client reads as an object with no members
//! (openapi-typescript: `Record<string, never>`), so nothing read from it type-checks. Here a
//! page's layout and SEO data get the shapes a save takes (what a builder reads, edits and
//! saves back must be one type), and every other open object says its members are any JSON.

use crate::api::openapi::Missed;
use crate::domain::page::shapes::{layout, seo};
use serde_json::{json, Value};
use utoipa::Modify;

pub struct ResponseShapes;

impl Modify for ResponseShapes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Ok(mut doc) = serde_json::to_value(&*openapi) else {
            return;
        };
        apply(&mut doc);
        // A document this broke stays as generated (the committed-document test fails).
        if let Ok(done) = serde_json::from_value(doc) {
            *openapi = done;
        }
    }
}

/// Applies the shapes; returns what it looked for and did not find (see [`Missed`]).
pub(super) fn apply(doc: &mut Value) -> Vec<String> {
    let mut missed = Missed::default();
    if let Some(schemas) = missed.note(
        "/components/schemas",
        doc.pointer_mut("/components/schemas")
            .and_then(Value::as_object_mut),
    ) {
        let mut page_layout = layout();
        page_layout["type"] = json!("object");
        page_layout["description"] =
            json!("The page's layout: `content` (its components) and `root` (page-level props).");
        schemas.insert("Layout".into(), page_layout);
        let mut page_seo = seo();
        page_seo["type"] = json!("object");
        page_seo["description"] =
            json!("SEO data: `title`, `description`, `ogImage`, `canonical`, `keywords`, …");
        schemas.insert("Seo".into(), page_seo);
        for name in ["PageInput", "Page", "PageVersion", "Paginated_Page"] {
            let Some(s) = missed.note(name, schemas.get_mut(name)) else {
                continue;
            };
            let props = if name == "Paginated_Page" {
                s.pointer_mut("/properties/items/items/properties")
            } else {
                s.pointer_mut("/properties")
            };
            let Some(props) = missed.note(name, props.and_then(Value::as_object_mut)) else {
                continue;
            };
            let optional = name == "PageInput";
            for (field, schema) in [("layout_data", "Layout"), ("seo_data", "Seo")] {
                let Some(p) = missed.note(field, props.get_mut(field)) else {
                    continue;
                };
                let description = p.get("description").cloned();
                let r = json!({"$ref": format!("#/components/schemas/{schema}")});
                *p = if optional || field == "seo_data" {
                    json!({"anyOf": [r, {"type": "null"}]})
                } else {
                    r
                };
                if let Some(d) = description {
                    p["description"] = d;
                }
            }
        }
    }
    open_objects(doc);
    missed.0
}

/// `additionalProperties: true` on every object schema that names no members at all.
fn open_objects(v: &mut Value) {
    match v {
        Value::Object(o) => {
            let is_object = match o.get("type") {
                Some(Value::String(t)) => t == "object",
                Some(Value::Array(ts)) => ts.iter().any(|t| t == "object"),
                _ => false,
            };
            let named = ["properties", "additionalProperties", "propertyNames"]
                .iter()
                .any(|k| o.contains_key(*k));
            if is_object && !named {
                o.insert("additionalProperties".into(), json!(true));
            }
            o.values_mut().for_each(open_objects);
        }
        Value::Array(xs) => xs.iter_mut().for_each(open_objects),
        _ => {}
    }
}
