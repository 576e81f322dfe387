//! The values edges read from the cache (contract section 2), built from a compiled page's
//! stored JSON without parsing it into a tree: fields are sliced out as raw JSON and written
//! back, so priming thousands of ~50 KB pages costs little more than copying them.

/// `page:{slug}`: `{ id, name, slug, title?, description?, isPublic, isHomepage, layoutData,
/// cssBundle?, createdAt, updatedAt }`, both dates the publish time, absent fields omitted.
/// Keys in sorted order (as a map serializes them), the page's values as written.
pub fn page_value(
    blob: &str,
    version: i64,
    published_at: &str,
) -> Result<String, serde_json::Error> {
    let _ = version;
    Ok(PageValue::new(blob, None, published_at)?.text())
}

/// A page key's value as the slices it is made of, so it can be written straight into a
/// command buffer: priming copies each ~50 KB page once, not once per layer.
pub struct PageValue<'a> {
    parts: Vec<Part<'a>>,
    /// The publish time as a JSON string (both dates).
    at: String,
    len: usize,
}

enum Part<'a> {
    Text(&'a str),
    At,
}

impl<'a> PageValue<'a> {
    /// The value of the compiled page `blob` published at `published_at`. Fields are sliced
    /// out of the page without parsing its values; `layout`, where the compiler wrote
    /// `layoutData`, spares scanning it.
    pub fn new(
        blob: &'a str,
        layout: Option<(usize, usize)>,
        published_at: &str,
    ) -> Result<PageValue<'a>, serde_json::Error> {
        let at = serde_json::to_string(published_at)?;
        let all = crate::pagebytes::members::members_skipping(blob, layout)
            .ok_or_else(|| <serde_json::Error as serde::de::Error>::custom("not a JSON object"))?;
        let mut parts = Vec::with_capacity(FIELDS.len() * 3 + 1);
        for (k, quoted) in FIELDS {
            let v = if k == "createdAt" || k == "updatedAt" {
                Part::At
            } else {
                // The last of duplicate keys wins, as when the page is parsed into a map.
                match all.iter().rev().find(|(key, _)| *key == k) {
                    Some((_, v)) if *v != "null" => Part::Text(v),
                    _ => continue,
                }
            };
            let open = if parts.is_empty() { "{" } else { "," };
            parts.extend([Part::Text(open), Part::Text(quoted), v]);
        }
        parts.push(Part::Text("}"));
        let mut value = PageValue { parts, at, len: 0 };
        value.len = value.pieces().map(str::len).sum();
        Ok(value)
    }

    /// Its length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn pieces(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().map(|p| match p {
            Part::Text(t) => t,
            Part::At => self.at.as_str(),
        })
    }

    /// The value as one string.
    pub fn text(&self) -> String {
        let mut out = String::with_capacity(self.len);
        self.pieces().for_each(|p| out.push_str(p));
        out
    }

    /// Appends the value to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        out.reserve(self.len);
        self.pieces()
            .for_each(|p| out.extend_from_slice(p.as_bytes()));
    }
}

/// The page's fields in the edge's names, with the two dates, in sorted order; each with its
/// key as written before its value.
const FIELDS: [(&str, &str); 11] = [
    ("createdAt", "\"createdAt\":"),
    ("cssBundle", "\"cssBundle\":"),
    ("description", "\"description\":"),
    ("id", "\"id\":"),
    ("isHomepage", "\"isHomepage\":"),
    ("isPublic", "\"isPublic\":"),
    ("layoutData", "\"layoutData\":"),
    ("name", "\"name\":"),
    ("slug", "\"slug\":"),
    ("title", "\"title\":"),
    ("updatedAt", "\"updatedAt\":"),
];

/// `page:__homepage__`: the whole compiled page, stamped with its version and publish time.
pub fn homepage_value(
    blob: &str,
    version: i64,
    published_at: &str,
) -> Result<String, serde_json::Error> {
    crate::pagebytes::stamped(blob, version, published_at)
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

    /// The page shape as a map of raw values serializes it: what `page_value` must match
    /// byte for byte.
    fn reference_page(blob: &str, published_at: &str) -> String {
        use serde_json::value::RawValue;
        use std::borrow::Cow;
        use std::collections::BTreeMap;
        let all: BTreeMap<Cow<'_, str>, &RawValue> = serde_json::from_str(blob).unwrap();
        let at = RawValue::from_string(serde_json::to_string(published_at).unwrap()).unwrap();
        let mut out: BTreeMap<&str, &RawValue> = [
            "id",
            "name",
            "slug",
            "title",
            "description",
            "isPublic",
            "isHomepage",
            "layoutData",
            "cssBundle",
        ]
        .iter()
        .filter_map(|k| all.get(*k).filter(|v| v.get() != "null").map(|v| (*k, *v)))
        .collect();
        out.insert("createdAt", &at);
        out.insert("updatedAt", &at);
        serde_json::to_string(&out).unwrap()
    }

    #[test]
    fn the_page_value_is_the_map_serialization_byte_for_byte() {
        let blobs = [
            json!({"id": "p", "slug": "a", "name": "x", "layoutData": {"content": []}, "isPublic": true,
                "isHomepage": true, "cssBundle": "a{b:c}", "title": "T \"q\" ✓\n", "description": null,
                "seoData": {"title": "}]"}, "zz": [1, 2.5e3, null]})
            .to_string(),
            r#"{ "id" : "p", "slug":"a", "id":"dup", "layoutData" : [ {"a":"\\"} ], "title":null }"#.to_string(),
            "{}".to_string(),
        ];
        for blob in &blobs {
            assert_eq!(
                page_value(blob, 2, "2026-01-01T00:00:00.000Z").unwrap(),
                reference_page(blob, "2026-01-01T00:00:00.000Z"),
                "{blob}"
            );
        }
        assert!(page_value("{\"id\": [}", 1, "x").is_err());
    }
}
