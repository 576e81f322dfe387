//! How the schema of a variant or a patch follows from its input's (the body types in
//! `api::bodies` call these): one branch per target kind and per cache kind (which fields each
//! needs), creating a project (a slug, or a name to derive it from), and merge patches.

use crate::domain::patterns::{redis_url, url_or_blank, url_pattern, NO_NUL};
use serde_json::{json, Value};

/// One branch of a `oneOf`: the base object with `field` fixed to `values` and more required.
fn branch(base: &Value, field: &str, values: Value, required: &[&str], props: Value) -> Value {
    let mut b = base.clone();
    b["properties"][field] = json!({"type": "string", "enum": values});
    if let (Some(p), Some(extra)) = (b["properties"].as_object_mut(), props.as_object()) {
        for (k, v) in extra {
            p.insert(k.clone(), v.clone());
        }
    }
    let mut req: Vec<Value> = b["required"].as_array().cloned().unwrap_or_default();
    req.extend(required.iter().map(|r| json!(r)));
    b["required"] = json!(req);
    b.as_object_mut().map(|o| o.remove("description"));
    b
}

/// A local target's file: relative, no `..` component, naming a file (a component other than
/// `.`); an absolute path inside the data root is accepted too, which the document cannot know.
fn local_path() -> String {
    let any = "([^/\\u0000.][^/\\u0000]*|\\.[^/\\u0000.][^/\\u0000]*|\\.\\.[^/\\u0000]+|\\.)?";
    let name = "([^/\\u0000.][^/\\u0000]*|\\.[^/\\u0000.][^/\\u0000]*|\\.\\.[^/\\u0000]+)";
    // The server trims the path first: a first name starting with a space is not what it sees.
    let first = "([^/\\u0000.\\t\\n\\u000b\\f\\r ][^/\\u0000]*|\\.[^/\\u0000.][^/\\u0000]*|\\.\\.[^/\\u0000]+)";
    format!("^({first}(/{any})*|\\.(/{any})*/{name}(/{any})*)$")
}

/// One schema per target kind: which fields each kind needs (see `TargetInput::validate`).
pub(crate) fn targets(base: &Value, replace: bool) -> Value {
    let secret = json!({"type": "string", "minLength": 1, "pattern": NO_NUL,
        "description": "The edge's system key (required for an edge target)."});
    let path = json!({"type": "string",
        "pattern": local_path(),
        "description": "The SQLite file, inside the project's own directory (`site_dir`) under the data root: relative to the root (no `..`, e.g. `my-site/pages.db`) or absolute."});
    json!({
        "description": base["description"].clone(),
        "oneOf": [
            branch(base, "kind", json!(["local"]), &["path"], json!({"path": path})),
            branch(base, "kind", json!(["turso"]), &["url"],
                json!({"url": {"type": "string", "pattern": url_pattern("libsql|https?")}})),
            branch(base, "kind", json!(["edge"]), if replace { &["url"] } else { &["url", "token"] },
                json!({"url": {"type": "string", "pattern": url_pattern("https?")}, "token": secret})),
        ]
    })
}

/// One schema per cache kind and switch (see `CacheSettingsInput::resolve`). A test of the
/// form (`test`) needs no token: without one it runs and reports what the server says.
pub(crate) fn cache_settings(base: &Value, test: bool) -> Value {
    // A test takes a blank or absent token as "none" and reports what the server says.
    let token = if test {
        json!({"type": ["string", "null"], "pattern": NO_NUL})
    } else {
        json!({"type": "string", "minLength": 1, "pattern": NO_NUL})
    };
    let off = json!({"redis_enabled": {"type": "boolean", "enum": [false]}});
    let on = json!({"redis_enabled": {"type": "boolean", "enum": [true]}});
    let with = |a: &Value, b: Value| {
        let mut m = a.as_object().cloned().unwrap_or_default();
        m.extend(b.as_object().cloned().unwrap_or_default());
        Value::Object(m)
    };
    let rest = json!(["upstash", "self-hosted"]);
    json!({
        "description": base["description"].clone(),
        "oneOf": [
            branch(base, "redis_type", json!(["tcp"]), &[], with(&off,
                json!({"redis_url": {"type": ["string", "null"], "pattern": redis_url(true)}}))),
            branch(base, "redis_type", json!(["tcp"]), &["redis_enabled", "redis_url"], with(&on,
                json!({"redis_url": {"type": "string", "pattern": redis_url(false)}}))),
            branch(base, "redis_type", rest.clone(), &[], with(&off,
                json!({"redis_url": {"type": ["string", "null"], "pattern": url_or_blank("https?")}}))),
            branch(base, "redis_type", rest,
                if test { &["redis_enabled", "redis_url"] } else { &["redis_enabled", "redis_url", "redis_token"] }, with(&on,
                json!({"redis_url": {"type": "string", "pattern": url_pattern("https?")}, "redis_token": token}))),
        ]
    })
}

/// Creating a project: the slug, or a name it can be derived from (one ASCII letter or digit).
pub(crate) fn project_create(base: &Value) -> Value {
    let mut given = base.clone();
    given["required"] = json!(["name", "slug"]);
    given["properties"]["slug"]["type"] = json!("string");
    let mut derived = base.clone();
    derived["properties"]["slug"] = json!({"type": "null"});
    let name = derived["properties"]["name"].clone();
    derived["properties"]["name"] = json!({"allOf": [name, {"type": "string", "pattern": crate::domain::project::DERIVABLE_NAME}]});
    for b in [&mut given, &mut derived] {
        b.as_object_mut().map(|o| o.remove("description"));
    }
    json!({
        "description": "Body of create (POST): the slug is derived from the name when omitted.",
        "oneOf": [given, derived],
    })
}

/// A merge patch (RFC 7396) of an input: nothing required; `null` removes an optional field
/// (the server then applies its default), while a required field may not be removed.
pub(crate) fn patch_of(input: &Value, what: &str) -> Value {
    let mut p = input.clone();
    let required: Vec<String> = p["required"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    if let Some(o) = p.as_object_mut() {
        o.remove("required");
        o.insert(
            "propertyNames".into(),
            json!({"type": "string", "pattern": NO_NUL}),
        );
        // `null` for a member the resource does not have removes nothing: accepted.
        o.insert("additionalProperties".into(), json!({"type": "null"}));
        o.insert(
            "description".into(),
            json!(format!(
                "JSON merge patch (RFC 7396) of the {what}'s fields"
            )),
        );
    }
    if let Some(props) = p["properties"].as_object_mut() {
        for (name, s) in props.iter_mut() {
            if required.contains(name) {
                if name == "layout_data" {
                    s.as_object_mut().map(|o| o.remove("required"));
                }
                continue;
            }
            nullable(s);
            if name == "layout_data" {
                s.as_object_mut().map(|o| o.remove("required"));
            }
        }
    }
    p
}

fn nullable(s: &mut Value) {
    if s.get("$ref").is_some() {
        *s = json!({"anyOf": [s.clone(), {"type": "null"}]});
        return;
    }
    match s.get_mut("type") {
        Some(Value::String(t)) => {
            let t = t.clone();
            s["type"] = json!([t, "null"]);
        }
        Some(Value::Array(ts)) if !ts.iter().any(|t| t == "null") => ts.push(json!("null")),
        _ => {}
    }
}
