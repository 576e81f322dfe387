//! What the server accepts that no type says: no U+0000 in any string or key and numbers
//! within ±1e300 (what both databases store, see `extract::json`), and the rules of query
//! parameters. Field rules are on the input types (`schema_with` beside each domain check);
//! variants and merge patches are the body types of `api::bodies`. Each rule here mirrors a
//! check in `src/api/extract`; the fuzzer (scripts/fuzz.sh) fails when the two disagree in
//! either direction.

use super::Missed;
use crate::domain::patterns::{trimmed, NOT_BLANK, NO_NUL};
use serde_json::{json, Value};
use utoipa::Modify;

pub struct RequestRules;

impl Modify for RequestRules {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Ok(mut doc) = serde_json::to_value(&*openapi) else {
            return;
        };
        apply(&mut doc);
        // A document the rules broke stays as generated (the committed-document test fails).
        if let Ok(done) = serde_json::from_value(doc) {
            *openapi = done;
        }
    }
}

fn storable_json() -> Value {
    let me = json!({"$ref": "#/components/schemas/StorableJson"});
    json!({
        "description": "Any JSON value both databases store and give back unchanged: no U+0000 in a string or key, numbers within ±1e300.",
        "anyOf": [
            {"type": "null"}, {"type": "boolean"},
            {"type": "number", "minimum": -1e300, "maximum": 1e300},
            {"type": "string", "pattern": NO_NUL},
            {"type": "array", "items": me},
            {"type": "object", "propertyNames": {"type": "string", "pattern": NO_NUL}, "additionalProperties": me},
        ]
    })
}

/// Adds the no-U+0000 rule to every string without a pattern of its own, and the storable
/// shape to free-form objects, through properties and array items.
pub(crate) fn guard(s: &mut Value) {
    let Some(obj) = s.as_object_mut() else {
        return;
    };
    if obj.contains_key("$ref") || obj.contains_key("enum") {
        return;
    }
    let types: Vec<String> = match obj.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(|t| t.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    };
    let has = |t: &str| types.iter().any(|x| x == t);
    if has("string") && !obj.contains_key("format") {
        let max = obj.get("maxLength").and_then(Value::as_u64);
        let pattern = match (obj.get("pattern").and_then(Value::as_str), max) {
            // The server counts the characters of the trimmed text, which `maxLength` cannot.
            (None, Some(m)) => Some(trimmed(m, false)),
            (Some("\\S"), Some(m)) => Some(trimmed(m, true)),
            (None, None) => Some(NO_NUL.to_string()),
            (Some("\\S"), None) => Some(NOT_BLANK.to_string()),
            (Some(_), _) => None,
        };
        if let Some(p) = pattern {
            obj.insert("pattern".into(), json!(p));
            if let Some(m) = max {
                obj.remove("maxLength");
                let d = format!("At most {m} characters once trimmed.");
                let d = match obj.get("description").and_then(Value::as_str) {
                    Some(old) => format!("{old} {d}"),
                    None => d,
                };
                obj.insert("description".into(), json!(d));
            }
        }
    }
    if has("object") && !obj.contains_key("properties") && !obj.contains_key("propertyNames") {
        obj.insert(
            "propertyNames".into(),
            json!({"type": "string", "pattern": NO_NUL}),
        );
        obj.insert(
            "additionalProperties".into(),
            json!({"$ref": "#/components/schemas/StorableJson"}),
        );
    }
    if let Some(Value::Object(props)) = obj.get_mut("properties") {
        props.values_mut().for_each(guard);
    }
    if let Some(items) = obj.get_mut("items") {
        guard(items);
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(Value::Array(xs)) = obj.get_mut(key) {
            xs.iter_mut().for_each(guard);
        }
    }
}

/// Parameters: no U+0000 in a query string's text; `Idempotency-Key` headers of at most 200
/// characters (400 beyond, see `api::publish`), a key used before with a different request
/// being a 422 `idempotency_key_reused`.
fn parameter_rules(doc: &mut Value, missed: &mut Missed) {
    let at = "/paths/~1api~1projects/post/responses/422";
    let error = missed.note(at, doc.pointer(at).cloned());
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for op in item.values_mut() {
            let Some(Value::Array(params)) = op.get_mut("parameters") else {
                continue;
            };
            // The server refuses U+0000 anywhere in a query string (`guard::refuse_nul`).
            for p in params.iter_mut().filter(|p| p["in"] == "query") {
                let text = p["schema"]["type"] == "string"
                    || p["schema"]["type"]
                        .as_array()
                        .is_some_and(|t| t.contains(&json!("string")));
                if text
                    && p["schema"].get("pattern").is_none()
                    && p["schema"].get("format").is_none()
                {
                    p["schema"]["pattern"] = json!(NO_NUL);
                }
            }
            let mut keyed = false;
            for p in params.iter_mut().filter(|p| p["name"] == "Idempotency-Key") {
                p["schema"]["maxLength"] = json!(200);
                keyed = true;
            }
            if let (true, Some(e), Some(Value::Object(responses))) =
                (keyed, &error, op.get_mut("responses"))
            {
                responses.entry("422").or_insert_with(|| e.clone());
            }
        }
    }
}

/// Applies the rules; returns what a rule looked for and did not find (see [`Missed`]).
pub(super) fn apply(doc: &mut Value) -> Vec<String> {
    let mut missed = Missed::default();
    let Some(schemas) = missed.note(
        "/components/schemas",
        doc.pointer_mut("/components/schemas")
            .and_then(Value::as_object_mut),
    ) else {
        return missed.0;
    };
    schemas.insert("StorableJson".into(), storable_json());
    let inputs = [
        "ProjectInput",
        "PageInput",
        "TargetInput",
        "CacheSettingsInput",
        "DatasourceInput",
        "EndpointInput",
        "TokenRequest",
        "PublishBody",
        "PreviewBody",
        "RotateBody",
    ];
    for name in inputs {
        if let Some(s) = missed.note(name, schemas.get_mut(name)) {
            guard(s);
        }
    }
    parameter_rules(doc, &mut missed);
    missed.0
}
