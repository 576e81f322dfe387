//! JSON helpers: null stripping, canonical serialisation and hashing.
//!
//! The canonical form sorts object keys by their UTF-8 bytes at every level and has no
//! whitespace. [`canonical_json`] sorts explicitly and is the reference; the hot paths
//! ([`hash_value`], the compiled page's bytes) stream `serde_json`'s own compact output,
//! which is the same bytes because `serde_json::Map` is a `BTreeMap` while the
//! `preserve_order` feature is off. A test fails the build's suite if some crate turns that
//! feature on (`maps_iterate_in_canonical_order`).

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Removes every `null`: object members whose value is null and null array elements,
/// recursively. Frontbase's edge validates with zod `.optional()`, which accepts a missing
/// field but refuses `null`, so a published page must carry none.
pub fn strip_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(strip_map(map)),
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .filter(|v| !v.is_null())
                .map(strip_nulls)
                .collect(),
        ),
        other => other,
    }
}

/// [`strip_nulls`] for an object's members.
pub fn strip_map(map: Map<String, Value>) -> Map<String, Value> {
    map.into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k, strip_nulls(v)))
        .collect()
}

/// Serialises `value` canonically: keys sorted at every level, no whitespace.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                if let Some(v) = map.get(key) {
                    write_canonical(v, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Lower-case hex SHA-256 of the canonical JSON of `value`, streamed into the hasher
/// without building the string.
pub fn hash_value<T: serde::Serialize + ?Sized>(value: &T) -> String {
    let mut hasher = HashWriter(Sha256::new());
    // Writing into a hasher cannot fail, and a `Value` always serialises.
    let _ = serde_json::to_writer(&mut hasher, value);
    hex::encode(hasher.0.finalize())
}

/// An `io::Write` that feeds a SHA-256.
struct HashWriter(Sha256);

impl std::io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Writes the members of one JSON object, in the order given (the caller gives them in
/// canonical order), compactly.
pub(crate) struct Members<'a> {
    pub out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Members<'a> {
    pub fn open(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        Self { out, first: true }
    }

    fn key(&mut self, key: &str) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        // Strings, maps of `Value`s and `Value`s serialise into a Vec without failing.
        let _ = serde_json::to_writer(&mut *self.out, key);
        self.out.push(b':');
    }

    pub fn put<T: serde::Serialize + ?Sized>(&mut self, key: &str, value: &T) {
        self.key(key);
        let _ = serde_json::to_writer(&mut *self.out, value);
    }

    /// Like [`Members::put`]; returns where the value's bytes start and end in the output.
    pub fn put_span<T: serde::Serialize + ?Sized>(
        &mut self,
        key: &str,
        value: &T,
    ) -> (usize, usize) {
        self.key(key);
        let start = self.out.len();
        let _ = serde_json::to_writer(&mut *self.out, value);
        (start, self.out.len())
    }

    pub fn put_some<T: serde::Serialize + ?Sized>(&mut self, key: &str, value: Option<&T>) {
        if let Some(v) = value {
            self.put(key, v);
        }
    }

    pub fn close(self) {
        self.out.push(b'}');
    }
}

/// The string at `key` of an object, if it is a string.
pub(crate) fn get_str<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    map.get(key).and_then(Value::as_str)
}

/// The object at `key`, if it is an object.
pub(crate) fn get_obj<'a>(
    map: &'a Map<String, Value>,
    key: &str,
) -> Option<&'a Map<String, Value>> {
    map.get(key).and_then(Value::as_object)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The streamed hashes and page bytes rely on `serde_json` writing maps in sorted order;
    /// this fails if some crate in the build turns on `preserve_order`.
    #[test]
    fn maps_iterate_in_canonical_order() {
        let mut m = Map::new();
        for key in ["é", "b", "Z", "a", "ab", "\u{1F600}", ""] {
            m.insert(
                key.to_owned(),
                json!({"z": 1, "y": [null, {"k": 2, "j": 3}]}),
            );
        }
        let value = Value::Object(m);
        assert_eq!(
            serde_json::to_string(&value).unwrap(),
            canonical_json(&value)
        );
        assert_eq!(
            hash_value(&value),
            sha256_hex(canonical_json(&value).as_bytes())
        );
    }
}
