//! Redis replies as JSON, in the two encodings Upstash offers.
//!
//! With `Upstash-Encoding: base64` (which `@upstash/redis` sends by default) every string in
//! the result, at any depth and including status replies such as `OK` and `PONG`, is encoded
//! with the standard base64 alphabet and padding. Numbers and `null` are never encoded, and
//! neither are error messages. This is what the SDK's `decode()` expects:
//!
//! * a top-level string is decoded unless it is exactly `"OK"` (so both `"OK"` and `"T0s="`
//!   read back as `OK`; an unencoded `"PONG"` would be mangled, hence encode everything);
//! * strings directly inside a top-level array are always decoded, so an unencoded `"OK"`
//!   there would turn into garbage: another reason to encode status replies too;
//! * nested arrays are decoded element by element, recursively;
//! * numbers and `null` pass through; a JSON object becomes `null`, so RESP3 maps are sent
//!   as flat `[key, value, ...]` arrays, as RESP2 would send them.
//!
//! Without the header, strings are sent as text. A bulk string that is not valid UTF-8 cannot
//! be represented in JSON text; it is converted lossily (invalid sequences become U+FFFD), the
//! same text the SDK itself produces from base64 (it decodes with a non-fatal `TextDecoder`).
//! Clients that need the exact bytes must ask for base64.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use redis::Value;
use serde_json::{Number, Value as Json};

/// How strings in results are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// Strings as JSON text (lossy for bytes that are not UTF-8).
    Text,
    /// Strings as base64 of their exact bytes.
    Base64,
}

/// The JSON form of a reply, or the error message when the reply is (or contains) an error.
///
/// An error nested inside an array (possible in a Lua reply) fails the whole result: there is
/// no faithful JSON slot for it, and hiding it inside a string would look like data.
pub(crate) fn to_json(value: Value, enc: Encoding) -> Result<Json, String> {
    Ok(match value {
        Value::Nil => Json::Null,
        Value::Int(i) => Json::from(i),
        Value::BulkString(bytes) => string(&bytes, enc),
        Value::SimpleString(s) => string(s.as_bytes(), enc),
        Value::Okay => string(b"OK", enc),
        Value::VerbatimString { text, .. } => string(text.as_bytes(), enc),
        Value::Array(items) | Value::Set(items) | Value::Push { data: items, .. } => {
            array(items, enc)?
        }
        Value::Map(pairs) => {
            let flat = pairs.into_iter().flat_map(|(k, v)| [k, v]).collect();
            array(flat, enc)?
        }
        Value::Attribute { data, .. } => to_json(*data, enc)?,
        Value::Double(d) => match Number::from_f64(d) {
            Some(n) => Json::Number(n),
            // RESP2 sends `inf` / `nan` scores as text; do the same for RESP3 doubles.
            None => string(format_non_finite(d).as_bytes(), enc),
        },
        // RESP2 has no booleans; Redis sends 1/0 there, so clients already expect integers.
        Value::Boolean(b) => Json::from(i64::from(b)),
        Value::ServerError(err) => return Err(server_error_text(&err)),
        // BigNumber (RESP3 only) and variants added later: the proxy speaks RESP2 by default.
        _ => return Err("ERR reply type not supported by the REST proxy".into()),
    })
}

/// `CODE detail`, as redis-cli prints an error reply and as Upstash returns it.
pub(crate) fn server_error_text(err: &redis::ServerError) -> String {
    match err.details() {
        Some(detail) => format!("{} {}", err.code(), detail),
        None => err.code().to_owned(),
    }
}

fn array(items: Vec<Value>, enc: Encoding) -> Result<Json, String> {
    items
        .into_iter()
        .map(|v| to_json(v, enc))
        .collect::<Result<Vec<_>, _>>()
        .map(Json::Array)
}

fn string(bytes: &[u8], enc: Encoding) -> Json {
    match enc {
        Encoding::Base64 => Json::String(STANDARD.encode(bytes)),
        Encoding::Text => Json::String(String::from_utf8_lossy(bytes).into_owned()),
    }
}

fn format_non_finite(d: f64) -> &'static str {
    if d.is_nan() {
        "nan"
    } else if d.is_sign_negative() {
        "-inf"
    } else {
        "inf"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn both(v: Value) -> (Json, Json) {
        (
            to_json(v.clone(), Encoding::Text).unwrap(),
            to_json(v, Encoding::Base64).unwrap(),
        )
    }

    #[test]
    fn scalars() {
        assert_eq!(both(Value::Nil), (Json::Null, Json::Null));
        assert_eq!(both(Value::Int(-3)), (json!(-3), json!(-3)));
        assert_eq!(both(Value::Okay), (json!("OK"), json!("T0s=")));
        assert_eq!(
            both(Value::SimpleString("PONG".into())),
            (json!("PONG"), json!("UE9ORw=="))
        );
        assert_eq!(both(Value::Double(1.5)), (json!(1.5), json!(1.5)));
        assert_eq!(both(Value::Boolean(true)), (json!(1), json!(1)));
    }

    #[test]
    fn bytes_that_are_not_utf8() {
        let (text, b64) = both(Value::BulkString(vec![0x61, 0xff, 0x00]));
        assert_eq!(text, json!("a\u{fffd}\u{0}"));
        assert_eq!(b64, json!("Yf8A"));
    }

    #[test]
    fn nested_and_maps() {
        let v = Value::Array(vec![
            Value::BulkString(b"0".to_vec()),
            Value::Array(vec![Value::BulkString(b"k".to_vec()), Value::Nil]),
            Value::Map(vec![(Value::BulkString(b"f".to_vec()), Value::Int(1))]),
        ]);
        let (text, b64) = both(v);
        assert_eq!(text, json!(["0", ["k", null], ["f", 1]]));
        assert_eq!(b64, json!(["MA==", ["aw==", null], ["Zg==", 1]]));
    }

    #[test]
    fn nested_error_fails_the_result() {
        let err = redis::Value::Array(vec![Value::Int(1), error_value()]);
        assert!(to_json(err, Encoding::Text).is_err());
    }

    fn error_value() -> Value {
        // The only public way to build a ServerError is to parse one off the wire.
        redis::parse_redis_value(b"-ERR boom\r\n").unwrap_or(Value::Nil)
    }

    #[test]
    fn error_text() {
        match error_value() {
            Value::ServerError(e) => assert_eq!(server_error_text(&e), "ERR boom"),
            other => panic!("unexpected {other:?}"),
        }
    }
}
