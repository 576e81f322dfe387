//! The values edges read from the cache (contract section 2), shaped from a stamped compiled
//! page.

use serde_json::{Map, Value};

/// `page:{slug}`: `{ id, name, slug, title?, description?, isPublic, isHomepage, layoutData,
/// cssBundle?, createdAt, updatedAt }`, both dates the publish time, absent fields omitted.
pub fn page_value(page: &Value) -> Value {
    let mut out = Map::new();
    for key in [
        "id",
        "name",
        "slug",
        "title",
        "description",
        "isPublic",
        "isHomepage",
        "layoutData",
        "cssBundle",
    ] {
        if let Some(v) = page.get(key).filter(|v| !v.is_null()) {
            out.insert(key.into(), v.clone());
        }
    }
    if let Some(at) = page.get("publishedAt").filter(|v| !v.is_null()) {
        out.insert("createdAt".into(), at.clone());
        out.insert("updatedAt".into(), at.clone());
    }
    Value::Object(out)
}

/// `page:__homepage__`: the whole compiled page.
pub fn homepage_value(page: &Value) -> Value {
    page.clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_page_shape_keeps_what_the_edge_reads() {
        let page = json!({"id": "p", "slug": "a", "tenantSlug": "_default", "name": "A", "layoutData": {"content": []},
            "seoData": {"title": "x"}, "version": 3, "publishedAt": "2026-01-01T00:00:00.000Z",
            "isPublic": true, "isHomepage": false, "contentHash": "h"});
        assert_eq!(
            page_value(&page),
            json!({"id": "p", "slug": "a", "name": "A", "layoutData": {"content": []}, "isPublic": true,
                "isHomepage": false, "createdAt": "2026-01-01T00:00:00.000Z", "updatedAt": "2026-01-01T00:00:00.000Z"})
        );
        assert_eq!(homepage_value(&page), page);
    }
}
