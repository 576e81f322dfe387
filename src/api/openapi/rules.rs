//! What the server accepts, written into the document where the request types' derives cannot
//! say it: no U+0000 in any string or key and numbers within ±1e300 (what both databases store,
//! see `extract::json`), the shape of a layout and of SEO data, one schema per target kind and
//! per cache kind (which fields each needs), and the merge-patch bodies of PATCH. Each rule
//! here mirrors a check in `src/domain` or `src/api/extract`; the fuzzer (scripts/fuzz.sh)
//! fails when the two disagree in either direction.

use super::bodies::{cache_settings, patch_of, project_create, targets};
use super::Missed;
use crate::domain::patterns::{trimmed, NOT_BLANK, NO_NUL};
use serde_json::{json, Map, Value};
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
fn guard(s: &mut Value) {
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
    let mut patches = Map::new();
    for (name, input, what) in [
        ("ProjectPatch", "ProjectInput", "project"),
        ("PagePatch", "PageInput", "page"),
        ("EndpointPatch", "EndpointInput", "endpoint"),
    ] {
        if let Some(s) = missed.note(input, schemas.get(input)) {
            patches.insert(name.into(), patch_of(s, what));
        }
    }
    if let Some(p) = missed.note("ProjectInput", schemas.get("ProjectInput")) {
        patches.insert("ProjectCreate".into(), project_create(p));
    }
    if let Some(t) = missed.note("TargetInput", schemas.get("TargetInput").cloned()) {
        // A target's patch applies to its stored kind, which the document cannot name: the
        // patch lists the fields, and the kind's rules are those of `TargetInput`.
        patches.insert("TargetPatch".into(), patch_of(&t, "target"));
        schemas.insert("TargetInput".into(), targets(&t, false));
        // Testing unsaved values checks the fields, not where a local file may live (the
        // report says whether it can be opened).
        // A test needs no key: without one the edge answers that it wants one.
        let mut test = targets(&t, true);
        test["oneOf"][0]["properties"]["path"] = json!({"type": "string", "pattern": NOT_BLANK});
        test["oneOf"][2]["properties"]["token"] = json!({"type": ["string", "null"], "pattern": NO_NUL,
            "description": "The edge's system key; blank or absent, the test runs without one."});
        test["description"] = json!("Unsaved target values to test.");
        patches.insert("TargetTest".into(), test);
        let mut replace = targets(&t, true);
        replace["description"] = json!("Body of replace (PUT): as create, but an omitted token keeps the stored one (for the same address).");
        patches.insert("TargetReplace".into(), replace);
    }
    if let Some(c) = missed.note(
        "CacheSettingsInput",
        schemas.get("CacheSettingsInput").cloned(),
    ) {
        schemas.insert("CacheSettingsInput".into(), cache_settings(&c, false));
        let mut test = cache_settings(&c, true);
        test["description"] = json!("Unsaved cache settings to test, as the form holds them.");
        patches.insert("CacheSettingsTest".into(), test);
    }
    schemas.extend(patches);
    let to = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    // A body that may be left out of a test: what is saved is tested.
    let or_none = |name: &str| json!({"oneOf": [{"type": "null"}, to(name)]});
    for (method, path, body) in [
        ("patch", "/api/projects/{project}", to("ProjectPatch")),
        ("patch", "/api/pages/{id}", to("PagePatch")),
        ("patch", "/api/targets/{id}", to("TargetPatch")),
        ("patch", "/api/webhook-endpoints/{id}", to("EndpointPatch")),
        ("post", "/api/targets/test", to("TargetTest")),
        ("post", "/api/targets/{id}/test", or_none("TargetPatch")),
        (
            "post",
            "/api/projects/{project}/settings/cache/test",
            or_none("CacheSettingsTest"),
        ),
        ("put", "/api/targets/{id}", to("TargetReplace")),
        ("post", "/api/projects", to("ProjectCreate")),
    ] {
        let pointer = format!(
            "/paths/{}/{method}/requestBody/content/application~1json/schema",
            path.replace('~', "~0").replace('/', "~1")
        );
        if let Some(s) = missed.note(&pointer, doc.pointer_mut(&pointer)) {
            *s = body;
        }
    }
    parameter_rules(doc, &mut missed);
    missed.0
}
