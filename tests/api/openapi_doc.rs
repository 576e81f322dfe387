//! What a client generator needs from the document: every operation named once (the naming
//! rule is in the README), tagged and summarised, its errors in the error schema, and no
//! object schema that names no members (a generated type would have none).

use serde_json::Value;
use std::collections::BTreeMap;

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

fn document() -> Value {
    serde_json::from_str(&edgepub::api::openapi::document()).unwrap()
}

fn camel_case(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && id.chars().all(|c| c.is_ascii_alphanumeric())
        && !id.contains(|c: char| c.is_ascii_digit())
}

#[test]
fn every_operation_has_a_unique_camel_case_id_a_tag_and_a_summary() {
    let doc = document();
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let at = format!("{} {path}", method.to_uppercase());
            let id = op["operationId"].as_str().unwrap_or_default().to_string();
            assert!(camel_case(&id), "{at}: operationId {id:?} is not camelCase");
            if let Some(other) = ids.insert(id.clone(), at.clone()) {
                panic!("operationId {id} names both {other} and {at}");
            }
            assert!(
                op["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{at}: no tag"
            );
            assert!(
                op["summary"].as_str().is_some_and(|s| !s.trim().is_empty()),
                "{at}: no summary"
            );
        }
    }
    assert!(ids.len() > 70, "{} operations", ids.len());
    for id in [
        "listProjects",
        "createProject",
        "getPage",
        "updatePage",
        "publishProject",
    ] {
        assert!(ids.contains_key(id), "{id} missing");
    }
}

#[test]
fn every_api_error_response_has_the_error_schema() {
    let doc = document();
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/api/") {
            continue;
        }
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            for (status, response) in op["responses"].as_object().unwrap() {
                if status.as_str() < "400" {
                    continue;
                }
                assert_eq!(
                    response["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{} {path} {status}",
                    method.to_uppercase()
                );
            }
        }
    }
}

fn open_objects(v: &Value, at: &str, found: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            let object = match o.get("type") {
                Some(Value::String(t)) => t == "object",
                Some(Value::Array(ts)) => ts.iter().any(|t| t == "object"),
                _ => false,
            };
            let named = ["properties", "additionalProperties", "propertyNames"]
                .iter()
                .any(|k| o.contains_key(*k));
            if object && !named {
                found.push(at.to_string());
            }
            if o.is_empty() && at.contains("/schema") {
                found.push(format!("{at} (empty schema)"));
            }
            for (k, x) in o {
                open_objects(x, &format!("{at}/{k}"), found);
            }
        }
        Value::Array(xs) => {
            for (i, x) in xs.iter().enumerate() {
                open_objects(x, &format!("{at}/{i}"), found);
            }
        }
        _ => {}
    }
}

#[test]
fn no_schema_leaves_a_generated_type_empty() {
    let mut found = Vec::new();
    open_objects(&document(), "", &mut found);
    assert!(
        found.is_empty(),
        "schemas a generator types as empty: {found:#?}"
    );
}

#[test]
fn every_link_is_named_by_the_operation_it_leads_to() {
    let doc = document();
    let mut links = 0;
    for item in doc["paths"].as_object().unwrap().values() {
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            for response in op["responses"].as_object().unwrap().values() {
                let Some(named) = response["links"].as_object() else {
                    continue;
                };
                for (name, link) in named {
                    let target = link["operationRef"]
                        .as_str()
                        .unwrap()
                        .trim_start_matches('#');
                    let target = doc.pointer(target).unwrap_or(&Value::Null);
                    assert_eq!(target["operationId"], name.as_str(), "link {name}");
                    links += 1;
                }
            }
        }
    }
    assert!(links > 10, "{links} links");
}
