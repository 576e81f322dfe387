use serde_json::{json, Map, Value};

use super::{compile, compile_content, contains_null, datasource, found, homepage, project};
use crate::compile::json::sha256_hex;
use crate::compile::publishable::{is_secret_supabase_key, strip_url_credentials};
use crate::compile::{
    canonical_json, content_hash, Code, CompileError, CompiledPage, DatasourceKind, ProjectContext,
    ProjectInput,
};

fn bound(ds: &str) -> Value {
    json!({ "id": format!("c-{ds}"), "type": "DataTable", "binding": { "datasourceId": ds, "tableName": "t" } })
}

#[test]
fn a_compiled_page_serialises_to_the_contract_shape() {
    let mut page = homepage(
        "p1",
        json!({ "content": [bound("ds-pg")], "root": { "title": "R" } }),
    );
    page.title = Some("Title".to_owned());
    page.seo_data = Some(json!({ "title": "T", "keywords": ["a", null], "ogImage": null }));
    let mut input = project(vec![page]);
    let mut vars = Map::new();
    vars.insert("BRAND".to_owned(), json!("Acme"));
    vars.insert("EMPTY".to_owned(), Value::Null);
    input.context = ProjectContext {
        tenant_slug: "acme".to_owned(),
        app_variables: Some(vars),
    };
    let mut out = compile(&input);
    out.pages[0]
        .stamp(3, "2026-11-22T10:00:00.000Z")
        .expect("valid");
    let json = serde_json::to_value(&out.pages[0]).expect("serialisable");
    let keys: Vec<&str> = json
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        vec![
            "appVariables",
            "contentHash",
            "cssBundle",
            "datasources",
            "id",
            "isHomepage",
            "isPublic",
            "layoutData",
            "name",
            "publishedAt",
            "seoData",
            "slug",
            "tenantSlug",
            "title",
            "version"
        ]
    );
    assert!(!contains_null(&json));
    assert_eq!(json["tenantSlug"], "acme");
    assert_eq!(json["version"], 3);
    assert_eq!(json["publishedAt"], "2026-11-22T10:00:00.000Z");
    assert_eq!(json["seoData"], json!({ "title": "T", "keywords": ["a"] }));
    assert_eq!(json["appVariables"], json!({ "BRAND": "Acme" }));
    assert_eq!(json["layoutData"]["root"], json!({ "title": "R" }));
    assert_eq!(
        json["datasources"],
        json!([{ "id": "ds-pg", "type": "postgres", "name": "ds-pg source", "secretEnvVar": "DS_MAIN_API_KEY" }])
    );
    let back: CompiledPage = serde_json::from_value(json).expect("round trip");
    assert_eq!(back, out.pages[0]);
}

#[test]
fn an_unstamped_page_omits_published_at_and_optional_fields() {
    let out = compile_content(json!([]));
    let json = serde_json::to_value(&out.pages[0]).expect("serialisable");
    for absent in [
        "publishedAt",
        "title",
        "description",
        "seoData",
        "datasources",
        "appVariables",
    ] {
        assert!(json.get(absent).is_none(), "{absent}");
    }
    assert_eq!(json["version"], 1);
    assert!(!out.pages[0].is_stamped());
}

#[test]
fn datasources_are_only_those_the_page_uses_sorted_by_id() {
    let out = compile_content(json!([
        bound("ds-turso"),
        bound("ds-my"),
        bound("ds-turso"),
        bound("missing")
    ]));
    let ids: Vec<&str> = out.pages[0]
        .datasources
        .iter()
        .flatten()
        .map(|d| d.id.as_str())
        .collect();
    assert_eq!(ids, vec!["ds-my", "ds-turso"]);
}

#[test]
fn canonical_json_sorts_keys_at_every_level_without_whitespace() {
    let value =
        json!({ "b": [{ "z": 1, "a": null }, "x"], "a": { "d": true, "c": 1.5 }, "é": "\"" });
    assert_eq!(
        canonical_json(&value),
        r#"{"a":{"c":1.5,"d":true},"b":[{"a":null,"z":1},"x"],"é":"\""}"#
    );
}

#[test]
fn the_hash_covers_content_but_not_version_or_published_at() {
    let out = compile_content(json!([{ "id": "a", "type": "Text" }]));
    let mut page = out.pages[0].clone();
    let hash = page.content_hash.clone().expect("hash set at compile");
    assert_eq!(hash.len(), 64);
    assert_eq!(hash, content_hash(&page));

    page.stamp(7, "2027-01-01T00:00:00Z").expect("valid");
    assert_eq!(content_hash(&page), hash, "stamping changes no content");

    let mut unhashed = page.to_value();
    for key in ["version", "publishedAt", "contentHash"] {
        unhashed.as_object_mut().expect("object").remove(key);
    }
    assert_eq!(sha256_hex(canonical_json(&unhashed).as_bytes()), hash);

    let mut edited = page.clone();
    edited.title = Some("New".to_owned());
    assert_ne!(content_hash(&edited), hash);
    let changed = compile_content(json!([{ "id": "a", "type": "Text", "props": { "text": "x" } }]));
    assert_ne!(changed.pages[0].content_hash, Some(hash));
}

#[test]
fn the_same_drafts_compile_to_identical_bytes() {
    let content = json!([bound("ds-supa"), { "id": "s", "type": "Section", "styles": { "color": "red" },
                                             "children": [bound("ds-lite")] }]);
    let a = serde_json::to_string(&compile_content(content.clone()).pages).expect("json");
    let b = serde_json::to_string(&compile_content(content).pages).expect("json");
    assert_eq!(a, b);
}

#[test]
fn stamp_checks_version_and_timestamp() {
    let mut page = compile_content(json!([])).pages.remove(0);
    assert_eq!(
        page.stamp(0, "2026-11-22T10:00:00Z"),
        Err(CompileError::InvalidVersion)
    );
    for bad in [
        "2026-11-22T10:00:00+00:00",
        "2026-11-22 10:00:00Z",
        "2026-13-01T00:00:00Z",
        "2026-11-22T10:00:00.Z",
        "",
    ] {
        assert!(
            matches!(page.stamp(1, bad), Err(CompileError::InvalidPublishedAt(_))),
            "{bad}"
        );
    }
    assert!(!page.is_stamped(), "a failed stamp changes nothing");
    for good in [
        "2026-11-22T10:00:00Z",
        "2026-11-22T10:00:00.000Z",
        "2026-11-22T23:59:59.123456Z",
    ] {
        assert_eq!(page.stamp(2, good), Ok(()), "{good}");
    }
}

#[test]
fn credentials_never_reach_a_published_datasource() {
    assert_eq!(
        strip_url_credentials("postgres://u:secret@db.host:5432/app?sslmode=require"),
        "postgres://db.host:5432/app?sslmode=require"
    );
    assert_eq!(
        strip_url_credentials("libsql://db.turso.io?authToken=abc#x"),
        "libsql://db.turso.io#x"
    );
    assert_eq!(
        strip_url_credentials("mysql://user@h/db?password=p&x=1"),
        "mysql://user@h/db?x=1"
    );
    assert_eq!(strip_url_credentials("file:./data.db"), "file:./data.db");

    let mut pg = datasource("pg", DatasourceKind::Postgres);
    pg.url = Some("postgres://u:pw@h/db".to_owned());
    pg.anon_key = Some("pw".to_owned());
    let mut supa = datasource("supa", DatasourceKind::Supabase);
    supa.anon_key = Some("sb_secret_abc".to_owned());
    supa.secret_env_var = Some("eyJhbGciOi.value".to_owned());
    let content = json!([
        { "id": "a", "type": "DataTable", "binding": { "datasourceId": "pg", "tableName": "t" } },
        { "id": "b", "type": "DataTable", "binding": { "datasourceId": "supa", "tableName": "t" } }
    ]);
    let out = compile(&ProjectInput {
        pages: vec![homepage("p", json!({ "content": content }))],
        datasources: vec![pg, supa],
        context: ProjectContext::default(),
    });
    let published = serde_json::to_string(&out.pages[0]).expect("json");
    for secret in ["pw", "sb_secret_abc", "eyJhbGciOi"] {
        assert!(!published.contains(secret), "{secret} published");
    }
    assert_eq!(
        found(&out),
        vec![
            (
                "/datasources/0/url".to_owned(),
                Code::DatasourceCredentialsRemoved
            ),
            (
                "/datasources/0/anonKey".to_owned(),
                Code::DatasourceCredentialsRemoved
            ),
            (
                "/datasources/1/anonKey".to_owned(),
                Code::SecretInDatasource
            ),
            (
                "/datasources/1/secretEnvVar".to_owned(),
                Code::SecretInDatasource
            ),
            (
                "/layout_data/content/1/binding/datasourceId".to_owned(),
                Code::IncompleteDatasource
            ),
        ]
    );
}

#[test]
fn service_role_jwts_are_recognised() {
    // Header and signature are irrelevant; the payloads are {"role":"service_role"} and
    // {"role":"anon"} in base64url.
    assert!(is_secret_supabase_key(
        "e30.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.sig"
    ));
    assert!(!is_secret_supabase_key("e30.eyJyb2xlIjoiYW5vbiJ9.sig"));
    assert!(!is_secret_supabase_key("sb_publishable_abc"));
    assert!(!is_secret_supabase_key("not-a-jwt"));
}
