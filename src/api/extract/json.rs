//! Reading a JSON body: malformed JSON is a 400 with line and column, a wrong type a 422 with
//! the JSON pointer, and what one database could not store (U+0000, numbers beyond ±1e300) a
//! 422 naming the field on both.

use crate::api::error::ApiError;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    parse_json_partial(body).map_err(|(e, _)| e)
}

/// Like [`parse_json`]; when only field types are wrong, the error comes with a stand-in
/// value in which each wrong field was replaced by a value of an accepted type, so the rest of
/// the body can still be validated and every failing field reported at once.
pub fn parse_json_partial<T: DeserializeOwned>(body: &[u8]) -> Result<T, (ApiError, Option<T>)> {
    // Nearly every body is a plain object of the right shape: read straight into `T`, so a
    // page's layout (hundreds of strings and maps) is built once instead of as a `Value` first
    // and again as `T`. Anything else is read by the path that names every problem.
    if super::plain::surely_plain(body) {
        if let Ok(t) = serde_json::from_slice(body) {
            return Ok(t);
        }
    }
    let value = parse_value(body).map_err(|e| (e, None))?;
    match T::deserialize(&value) {
        Ok(t) => Ok(t),
        Err(_) => Err(type_errors(value)),
    }
}

fn parse_value(body: &[u8]) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::BadRequest {
            code: "malformed_json",
            message: "the request body is empty; a JSON document was expected".into(),
            details: json!({ "line": 1, "column": 0 }),
        });
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let value: Value = serde::Deserialize::deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v))
        .map_err(|inner| malformed(&inner))?;
    // Every body this API takes is an object; serde would also read a struct from an array.
    if !value.is_object() {
        return Err(ApiError::Validation(vec![crate::domain::FieldError {
            path: String::new(),
            code: "invalid_type",
            message: "the body must be a JSON object".into(),
        }]));
    }
    // The walk that names each problem builds a pointer per node; a body with nothing to
    // report (nearly every one) is checked without allocating.
    if !all_storable(&value) {
        let mut problems = Vec::new();
        storable(&value, &mut String::new(), &mut problems);
        return Err(ApiError::Validation(problems));
    }
    Ok(value)
}

/// Whether [`storable`] would find nothing.
fn all_storable(v: &Value) -> bool {
    match v {
        Value::String(s) => !s.contains('\0'),
        Value::Number(n) => !n.as_f64().is_some_and(|f| f.abs() > MAX_NUMBER),
        Value::Array(items) => items.iter().all(all_storable),
        Value::Object(map) => map
            .iter()
            .all(|(k, item)| !k.contains('\0') && all_storable(item)),
        Value::Null | Value::Bool(_) => true,
    }
}

/// Values tried in place of a field of the wrong type, one after the other, until one is
/// accepted: one of them fits any field a body of this API has.
fn stand_ins() -> [Value; 6] {
    [
        Value::Null,
        json!(""),
        json!(0),
        json!(false),
        json!([]),
        json!({}),
    ]
}

/// Every type error of `value`, found by replacing each failing field with a stand-in and
/// deserialising again (serde stops at the first error). Bounded, so a hostile body costs a
/// few dozen passes at most.
fn type_errors<T: DeserializeOwned>(mut value: Value) -> (ApiError, Option<T>) {
    const MAX_REPORTED: usize = 20;
    const MAX_PASSES: usize = 64;
    let mut fields: Vec<crate::domain::FieldError> = Vec::new();
    let (mut current, mut tried) = (String::new(), 0);
    for _ in 0..MAX_PASSES {
        let e = match serde_path_to_error::deserialize::<_, T>(&value) {
            Ok(t) => return (ApiError::Validation(fields), Some(t)),
            Err(e) => e,
        };
        let raw = e.inner().to_string();
        let path = pointer(e.path(), &raw);
        // A stand-in inside a field already reported may fail in its own way; that is not
        // the caller's mistake.
        let reported = fields
            .iter()
            .any(|f| path == f.path || path.starts_with(&format!("{}/", f.path)));
        if !reported {
            if fields.len() >= MAX_REPORTED {
                break;
            }
            let message = strip_position(&raw);
            let message = match super::formats::expected_format(&message) {
                Some(format) => format!("{message}: expected {format}"),
                None => message,
            };
            fields.push(crate::domain::FieldError {
                path: path.clone(),
                code: "invalid_type",
                message,
            });
        }
        if path != current {
            (current, tried) = (path.clone(), 0);
        }
        if !stand_in(&mut value, &path, &raw, tried) {
            break;
        }
        tried += 1;
    }
    (ApiError::Validation(fields), None)
}

/// Puts the `n`th stand-in at `path` (an unknown field is removed instead); false when there
/// is nothing left to try.
fn stand_in(value: &mut Value, path: &str, message: &str, n: usize) -> bool {
    let (parent, key) = match path.rsplit_once('/') {
        Some((parent, key)) => (parent, key.replace("~1", "/").replace("~0", "~")),
        None => return false,
    };
    let Some(parent) = value.pointer_mut(parent) else {
        return false;
    };
    if message.starts_with("unknown field `") {
        return n == 0
            && parent
                .as_object_mut()
                .is_some_and(|m| m.remove(&key).is_some());
    }
    let Some(candidate) = stand_ins().into_iter().nth(n) else {
        return false;
    };
    match parent {
        Value::Object(m) => {
            m.insert(key, candidate);
            true
        }
        Value::Array(items) => match key.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
            Some(slot) => {
                *slot = candidate;
                true
            }
            None => false,
        },
        _ => false,
    }
}

fn malformed(inner: &serde_json::Error) -> ApiError {
    ApiError::BadRequest {
        code: "malformed_json",
        message: format!(
            "malformed JSON at line {} column {}: {}",
            inner.line(),
            inner.column(),
            strip_position(&inner.to_string())
        ),
        details: json!({ "line": inner.line(), "column": inner.column() }),
    }
}

/// Numbers beyond this cannot be stored by every backend and read back unchanged.
const MAX_NUMBER: f64 = 1e300;

/// What both databases can store and give back unchanged: no U+0000 in any string or key
/// (Postgres refuses it in text and JSON), no number beyond ±1e300. Every problem is
/// reported with its JSON pointer.
fn storable(v: &Value, path: &mut String, out: &mut Vec<crate::domain::FieldError>) {
    const MAX_REPORTED: usize = 20;
    if out.len() >= MAX_REPORTED {
        return;
    }
    fn push(
        out: &mut Vec<crate::domain::FieldError>,
        path: &str,
        code: &'static str,
        message: &str,
    ) {
        out.push(crate::domain::FieldError {
            path: path.to_string(),
            code,
            message: message.into(),
        })
    }
    match v {
        Value::String(s) if s.contains('\0') => {
            push(out, path, "nul_character", "text may not contain U+0000")
        }
        Value::Number(n) if n.as_f64().is_some_and(|f| f.abs() > MAX_NUMBER) => push(
            out,
            path,
            "number_out_of_range",
            "numbers must lie within ±1e300",
        ),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("/{i}"));
                storable(item, path, out);
                path.truncate(len);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                let len = path.len();
                path.push('/');
                path.push_str(&k.replace('~', "~0").replace('/', "~1"));
                if k.contains('\0') {
                    push(out, path, "nul_character", "keys may not contain U+0000");
                }
                storable(item, path, out);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// serde reports a missing field on the parent object; point at the field itself.
fn pointer(path: &serde_path_to_error::Path, message: &str) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => out.push_str(&format!("/{index}")),
            Segment::Map { key } => {
                out.push_str(&format!("/{}", key.replace('~', "~0").replace('/', "~1")))
            }
            Segment::Enum { variant } => out.push_str(&format!("/{variant}")),
            Segment::Unknown => {}
        }
    }
    for prefix in ["missing field `", "unknown field `"] {
        if let Some(rest) = message.strip_prefix(prefix) {
            if let Some(field) = rest.split('`').next() {
                let field = field.replace('~', "~0").replace('/', "~1");
                if !out.ends_with(&format!("/{field}")) {
                    out.push('/');
                    out.push_str(&field);
                }
            }
        }
    }
    out
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_errors_say_where() {
        let e = parse_json::<serde_json::Value>(b"{\n  \"a\": tru }").unwrap_err();
        assert!(matches!(e, ApiError::BadRequest { .. }));
        assert!(e.to_string().contains("line 2"), "{e}");
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct S {
            name: String,
            items: Vec<u8>,
        }
        match parse_json::<S>(br#"{"name": "x", "items": [1, "two"]}"#).unwrap_err() {
            ApiError::Validation(f) => assert_eq!(f[0].path, "/items/1"),
            other => panic!("{other:?}"),
        }
        match parse_json::<S>(br#"{"items": []}"#).unwrap_err() {
            ApiError::Validation(f) => assert_eq!(f[0].path, "/name"),
            other => panic!("{other:?}"),
        }
        // Every wrong field at once, an unknown one and a missing one included.
        #[derive(serde::Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct P {
            name: String,
            public: Option<bool>,
            at: Option<chrono::DateTime<chrono::Utc>>,
            nested: Option<S>,
        }
        let body = br#"{"public": "yes", "at": "tomorrow 9am", "nested": {"name": 3, "items": []}, "extra": 1}"#;
        match parse_json_partial::<P>(body).unwrap_err() {
            (ApiError::Validation(f), Some(partial)) => {
                let paths: Vec<&str> = f.iter().map(|e| e.path.as_str()).collect();
                assert_eq!(
                    paths,
                    ["/at", "/extra", "/nested/name", "/public", "/name"],
                    "{f:?}"
                );
                assert!(f[0].message.contains("RFC 3339"), "{f:?}");
                assert!(partial.public.is_none());
            }
            other => panic!("{other:?}"),
        }
        // Trailing data is malformed JSON, like any other.
        for body in [
            &br#"{"name": "x", "items": []} xx"#[..],
            br#"{"name": "x", "items": []}{}"#,
        ] {
            assert!(matches!(
                parse_json::<S>(body).unwrap_err(),
                ApiError::BadRequest { .. }
            ));
        }
        // What one backend cannot store is refused on both, naming the field.
        match parse_json::<serde_json::Value>(
            br#"{"a": {"b\u0000": ["ok", "x\u0000y"]}, "n": 1.7976931348623157e308}"#,
        )
        .unwrap_err()
        {
            ApiError::Validation(f) => {
                let paths: Vec<&str> = f.iter().map(|e| e.path.as_str()).collect();
                assert_eq!(paths, ["/a/b\u{0}", "/a/b\u{0}/1", "/n"]);
            }
            other => panic!("{other:?}"),
        }
    }
}
