//! A compiled page's stored bytes, read without parsing them into a tree: the top-level
//! members as raw slices (`members`), and the page stamped with its version and publish time
//! (`stamped`). Both the publish targets and the cache write pages from these bytes, so the
//! scanner lives here, below both.

pub mod members;

use serde_json::value::RawValue;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// The whole compiled page with `version` and `publishedAt` set, as an edge's import and the
/// homepage cache key read it. Members come out in sorted order (a map serializes so), the
/// page's values as written.
pub fn stamped(blob: &str, version: i64, published_at: &str) -> Result<String, serde_json::Error> {
    let mut all: BTreeMap<Cow<'_, str>, &RawValue> = serde_json::from_str(blob)?;
    let v = RawValue::from_string(version.to_string())?;
    let at = RawValue::from_string(serde_json::to_string(published_at)?)?;
    all.insert(Cow::Borrowed("version"), &v);
    all.insert(Cow::Borrowed("publishedAt"), &at);
    serde_json::to_string(&all)
}
