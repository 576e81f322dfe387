//! The values edges read from the cache (contract section 2), built from a compiled page's
//! stored JSON without parsing it into a tree: fields are sliced out as raw JSON and written
//! back, so priming thousands of ~50 KB pages costs little more than copying them.

use serde_json::value::RawValue;
use std::borrow::Cow;
use std::collections::BTreeMap;

type Fields<'a> = BTreeMap<Cow<'a, str>, &'a RawValue>;

/// Fields of `page:{slug}`, in the edge's names; `createdAt`/`updatedAt` are the publish time.
const PAGE_FIELDS: [&str; 9] = [
    "id",
    "name",
    "slug",
    "title",
    "description",
    "isPublic",
    "isHomepage",
    "layoutData",
    "cssBundle",
];

fn stamps(
    version: i64,
    published_at: &str,
) -> Result<(Box<RawValue>, Box<RawValue>), serde_json::Error> {
    Ok((
        RawValue::from_string(version.to_string())?,
        RawValue::from_string(serde_json::to_string(published_at)?)?,
    ))
}

/// `page:{slug}`: `{ id, name, slug, title?, description?, isPublic, isHomepage, layoutData,
/// cssBundle?, createdAt, updatedAt }`, both dates the publish time, absent fields omitted.
pub fn page_value(
    blob: &str,
    version: i64,
    published_at: &str,
) -> Result<String, serde_json::Error> {
    let all: Fields = serde_json::from_str(blob)?;
    let (_, at) = stamps(version, published_at)?;
    let mut out: BTreeMap<&str, &RawValue> = PAGE_FIELDS
        .iter()
        .filter_map(|k| all.get(*k).filter(|v| v.get() != "null").map(|v| (*k, *v)))
        .collect();
    out.insert("createdAt", &at);
    out.insert("updatedAt", &at);
    serde_json::to_string(&out)
}

/// `page:__homepage__`: the whole compiled page, stamped with its version and publish time.
pub fn homepage_value(
    blob: &str,
    version: i64,
    published_at: &str,
) -> Result<String, serde_json::Error> {
    let mut all: Fields = serde_json::from_str(blob)?;
    let (v, at) = stamps(version, published_at)?;
    all.insert(Cow::Borrowed("version"), &v);
    all.insert(Cow::Borrowed("publishedAt"), &at);
    serde_json::to_string(&all)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn the_page_shape_keeps_what_the_edge_reads() {
        let blob = json!({"id": "p", "slug": "a", "tenantSlug": "_default", "name": "A \"q\" ✓",
            "layoutData": {"content": [{"id": "x", "type": "Text"}]}, "seoData": {"title": "x"},
            "version": 1, "isPublic": true, "isHomepage": false, "contentHash": "h"})
        .to_string();
        let page: Value =
            serde_json::from_str(&page_value(&blob, 3, "2026-01-01T00:00:00.000Z").unwrap())
                .unwrap();
        assert_eq!(
            page,
            json!({"id": "p", "slug": "a", "name": "A \"q\" ✓", "layoutData": {"content": [{"id": "x", "type": "Text"}]},
                "isPublic": true, "isHomepage": false, "createdAt": "2026-01-01T00:00:00.000Z",
                "updatedAt": "2026-01-01T00:00:00.000Z"})
        );
        let home: Value =
            serde_json::from_str(&homepage_value(&blob, 3, "2026-01-01T00:00:00.000Z").unwrap())
                .unwrap();
        let mut expected: Value = serde_json::from_str(&blob).unwrap();
        expected["version"] = json!(3);
        expected["publishedAt"] = json!("2026-01-01T00:00:00.000Z");
        assert_eq!(home, expected);
    }
}
