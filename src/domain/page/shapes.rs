//! The shapes the document gives a page's layout and SEO data: free-form objects of storable
//! values (`StorableJson`, the rule in `api::openapi::rules`) with the members a builder uses.

use crate::domain::patterns::NO_NUL;
use serde_json::{json, Value};

/// A free-form object of storable values.
fn free_object(nullable: bool) -> Value {
    json!({
        "type": if nullable { json!(["object", "null"]) } else { json!("object") },
        "propertyNames": {"type": "string", "pattern": NO_NUL},
        "additionalProperties": {"$ref": "#/components/schemas/StorableJson"},
    })
}

pub fn layout() -> Value {
    let mut component = free_object(false);
    component["description"] =
        json!("A component: `id`, `type`, `props`, `stylesData`, `children`, …");
    let mut root = free_object(true);
    root["description"] = json!("Page-level props.");
    let mut l = free_object(true);
    l["description"] = json!("Defaults to an empty layout. Limits: EDGEPUB_MAX_COMPONENTS components, nested EDGEPUB_MAX_DEPTH deep, EDGEPUB_MAX_PAGE_BYTES serialized (422 beyond).");
    l["required"] = json!(["content"]);
    l["properties"] = json!({"content": {"type": "array", "items": component}, "root": root});
    l
}

pub fn seo() -> Value {
    let text = json!({"type": ["string", "null"], "pattern": NO_NUL});
    let mut s = free_object(true);
    s["properties"] = json!({
        "title": text, "description": text, "ogImage": text, "canonical": text,
        "keywords": {"type": ["array", "null"], "items": {"type": "string", "pattern": NO_NUL}},
    });
    s
}

/// `layout_data` of a page body.
pub(super) fn layout_field() -> utoipa::openapi::schema::Schema {
    crate::domain::patterns::schema(layout())
}

/// `seo_data` of a page body.
pub(super) fn seo_field() -> utoipa::openapi::schema::Schema {
    crate::domain::patterns::schema(seo())
}

/// `slug` of a page body: [`crate::domain::slug::page_slug_pattern`].
pub(super) fn slug_field() -> utoipa::openapi::schema::Schema {
    crate::domain::patterns::schema(json!({
        "type": "string", "description": "One URL segment the edge serves the page at.",
        "minLength": 1, "maxLength": crate::domain::slug::MAX_PAGE_SLUG,
        "pattern": crate::domain::slug::page_slug_pattern(),
    }))
}
