//! Every operation in the OpenAPI document, walked with every kind of token against ids of
//! the token's own project, of another project and of nothing at all: a bad token is a 401
//! whatever else is wrong with the request; a token that may not see a project learns nothing
//! about it (the same answer as for a missing one); and nothing it sends changes another
//! project.

use crate::support::{read, run_job, spawn_with, Backend, TestApp};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeMap;

crate::both_backends!(every_operation_with_every_token);

/// One project's resources, by the name of the id parameter they fill.
struct Ids(BTreeMap<&'static str, String>);

impl Ids {
    /// The path with its parameters filled in: `{project}` and `{id}` by the resource the
    /// path names, `{version}` with the first version.
    fn fill(&self, path: &str) -> String {
        let kind = match path.split('/').nth(2) {
            Some("projects") if path.contains("/schedules/") => "schedule",
            Some("datasources") => "datasource",
            Some("pages") => "page",
            Some("previews") => "preview",
            Some("publish-jobs") => "job",
            Some("releases") => "release",
            Some("targets") => "target",
            Some("tokens") => "token",
            Some("webhook-deliveries") => "delivery",
            Some("webhook-endpoints") => "endpoint",
            Some("webhook-secrets") => "secret",
            _ => "none",
        };
        path.replace("{project}", &self.0["project"])
            .replace("{id}", self.0.get(kind).map_or("none", String::as_str))
            .replace("{version}", "1")
    }
}

/// A project with one of everything an operation can name.
async fn furnish(app: &TestApp, name: &str) -> Ids {
    let (s, p) = app
        .post("/api/projects", json!({"name": name, "tenant_slug": name}))
        .await;
    assert_eq!(s, 201, "{p}");
    let project = p["slug"].as_str().unwrap().to_string();
    let base = format!("/api/projects/{project}");
    let page = app
        .page(
            &p,
            json!({"slug": "home", "name": "Home", "is_homepage": true}),
        )
        .await;
    let page_id = page["id"].as_str().unwrap().to_string();
    let job = run_job(app, &format!("{base}/publish"), json!({})).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    let id = |v: &Value| v["id"].as_str().expect("an id").to_string();
    let created = |(s, v): (u16, Value)| {
        assert!(s == 201 || s == 200, "{s}: {v}");
        id(&v)
    };
    let (_, releases) = app.get(&format!("{base}/releases")).await;
    let (_, targets) = app.get(&format!("{base}/targets")).await;
    let datasource = created(
        app.post(
            &format!("{base}/datasources"),
            json!({"type": "supabase", "name": "db", "url": "https://db.example.com"}),
        )
        .await,
    );
    let endpoint = created(
        app.post(
            &format!("{base}/webhook-endpoints"),
            json!({"url": format!("http://{name}.example/hook")}),
        )
        .await,
    );
    app.post(
        &format!("/api/webhook-endpoints/{endpoint}/test"),
        json!({}),
    )
    .await;
    let (_, deliveries) = app
        .get(&format!("/api/webhook-endpoints/{endpoint}/deliveries"))
        .await;
    let secret = created(
        app.post(&format!("{base}/webhook-secrets"), json!({}))
            .await,
    );
    let preview = created(
        app.post(&format!("/api/pages/{page_id}/preview"), json!({}))
            .await,
    );
    let at = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let schedule = created(
        app.post(
            &format!("{base}/schedules"),
            json!({"at": at, "action": "publish"}),
        )
        .await,
    );
    let mut ids = BTreeMap::from([
        ("project", project),
        ("page", page_id),
        ("job", id(&job)),
        ("release", id(&releases["items"][0])),
        ("target", id(&targets[0])),
        ("datasource", datasource),
        ("endpoint", endpoint),
        ("secret", secret),
        ("preview", preview),
        ("schedule", schedule),
    ]);
    ids.insert("delivery", id(&deliveries["items"][0]));
    Ids(ids)
}

fn missing() -> Ids {
    let none = || uuid::Uuid::new_v4().to_string();
    let kinds = [
        "page",
        "job",
        "release",
        "target",
        "datasource",
        "endpoint",
        "secret",
        "preview",
        "schedule",
        "delivery",
        "token",
    ];
    let mut ids: BTreeMap<&'static str, String> = kinds.iter().map(|k| (*k, none())).collect();
    ids.insert("project", "no-such-project".into());
    Ids(ids)
}

/// A token, made by the admin.
async fn token(app: &TestApp, scope: &str, project: Option<&str>) -> String {
    made(app, scope, project).await.0
}

/// A token's secret and id.
async fn made(app: &TestApp, scope: &str, project: Option<&str>) -> (String, String) {
    let (s, t) = app
        .post(
            "/api/tokens",
            json!({"name": format!("{scope}-{}", project.unwrap_or("all")), "scopes": [scope], "project": project}),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    let field = |k: &str| t[k].as_str().unwrap().to_string();
    (field("token"), field("id"))
}

/// Every `/api` operation of the served document: (method, path template).
async fn operations(app: &TestApp) -> Vec<(Method, String)> {
    let (_, doc) = read(app.anon(Method::GET, "/openapi.json").send().await.unwrap()).await;
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !path.starts_with("/api/") {
            continue;
        }
        for m in item.as_object().unwrap().keys() {
            if let Ok(method) = m.to_ascii_uppercase().parse::<Method>() {
                ops.push((method, path.clone()));
            }
        }
    }
    assert!(
        ops.len() > 60,
        "the document lists {} operations",
        ops.len()
    );
    ops
}

/// Sends one request with input that is wrong in every way a handler could judge before
/// access (a query that does not parse, a body with an unknown field, or one over the size
/// limit), so an answer decided by the input instead of the access rules shows.
async fn call(
    app: &TestApp,
    token: Option<&str>,
    m: &Method,
    path: &str,
    big: bool,
) -> (u16, Value) {
    let url = format!("{path}?limit=abc&offset=x&page=nope&from=yesterday&state=zzz");
    let mut r = app.anon(m.clone(), &url);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    if matches!(*m, Method::POST | Method::PUT | Method::PATCH) {
        let body = if big {
            format!("{{\"pad\": \"{}\"}}", "x".repeat(8192))
        } else {
            r#"{"not_a_field": true, "name": 7"#.to_string()
        };
        r = r.header("content-type", "application/json").body(body);
    }
    read(r.send().await.expect("request")).await
}

/// What another project looks like to its admin: a change by anyone else shows here.
async fn snapshot(app: &TestApp, project: &str) -> Vec<Value> {
    let mut seen = Vec::new();
    for part in [
        "",
        "/pages?include_deleted=true",
        "/targets",
        "/settings/cache",
        "/datasources",
        "/webhook-endpoints",
        "/webhook-secrets",
        "/schedules",
        "/releases",
        "/publish-jobs",
        "/previews",
    ] {
        let (s, v) = app.get(&format!("/api/projects/{project}{part}")).await;
        assert_eq!(s, 200, "{part}: {v}");
        seen.push(v);
    }
    let (_, audit) = app.get(&format!("/api/audit?project={project}")).await;
    seen.push(audit["items"].as_array().map(Vec::len).into());
    seen
}

async fn every_operation_with_every_token(backend: Backend) {
    let no_limits = [
        ("EDGEPUB_RATE_LIMIT_PROJECT_PER_MINUTE", "0"),
        ("EDGEPUB_RATE_LIMIT_TOKEN_PER_MINUTE", "0"),
        ("EDGEPUB_MAX_BODY_BYTES", "4096"),
    ];
    let app = spawn_with(backend, &no_limits).await;
    let alpha = furnish(&app, "alpha").await;
    let bravo = furnish(&app, "bravo").await;
    let nothing = missing();
    let own = Some(alpha.0["project"].as_str());
    let (revoked, revoked_id) = made(&app, "admin", None).await;
    let (s, _) = app
        .send(Method::DELETE, &format!("/api/tokens/{revoked_id}"), None)
        .await;
    assert_eq!(s, 200);
    let limited = [
        ("limited admin", token(&app, "admin", own).await),
        ("limited publish", token(&app, "publish", own).await),
        ("limited edge", token(&app, "edge", own).await),
    ];
    let global = [
        ("publish", token(&app, "publish", None).await),
        ("edge", token(&app, "edge", None).await),
    ];
    let ops = operations(&app).await;
    let signed_hook = |p: &str| p.starts_with("/api/hooks/");

    // A bad token is a 401 before anything else, on every route and with any input.
    for (name, t) in [
        ("revoked", Some(revoked.as_str())),
        ("garbage", Some("ep_garbage")),
        ("none", None),
    ] {
        for (m, path) in ops.iter().filter(|(_, p)| !signed_hook(p)) {
            for (ids, big) in [(&alpha, false), (&bravo, true), (&nothing, false)] {
                let url = ids.fill(path);
                let (s, b) = call(&app, t, m, &url, big).await;
                assert_eq!(s, 401, "{name} token, {m} {url}: {b}");
            }
        }
    }

    // A token that may not see another project learns nothing about it, and changes nothing.
    let before = snapshot(&app, "bravo").await;
    for (name, t) in &limited {
        for (m, path) in &ops {
            let other = call(&app, Some(t), m, &bravo.fill(path), false).await;
            let none = call(&app, Some(t), m, &nothing.fill(path), false).await;
            let what = format!("{name} token, {m} {path}");
            assert_eq!(
                other.0, none.0,
                "{what}: other {} vs missing {}",
                other.1, none.1
            );
            assert_eq!(other.1["error"]["code"], none.1["error"]["code"], "{what}");
            if !path.contains("{project}") && !path.contains("{id}") {
                continue;
            }
            let expected: &[u16] = if signed_hook(path) {
                &[401]
            } else {
                &[403, 404]
            };
            assert!(
                expected.contains(&other.0),
                "{what}: {} {}",
                other.0,
                other.1
            );
            if *m == Method::GET && !signed_hook(path) {
                let mine = call(&app, Some(t), m, &alpha.fill(path), false).await;
                assert!(
                    matches!(mine.0, 200 | 400 | 403),
                    "{what} on its own project: {} {}",
                    mine.0,
                    mine.1
                );
            }
        }
    }
    assert_eq!(
        snapshot(&app, "bravo").await,
        before,
        "another project changed"
    );

    // A token without the scope an operation needs gets 403 before any lookup, whatever the
    // id: an unlimited publish or edge token cannot tell which projects exist either.
    for (name, t) in &global {
        for (m, path) in ops.iter().filter(|(_, p)| !signed_hook(p)) {
            let other = call(&app, Some(t), m, &bravo.fill(path), false).await;
            let none = call(&app, Some(t), m, &nothing.fill(path), false).await;
            assert_eq!(
                other.0 == 403,
                none.0 == 403,
                "{name} token, {m} {path}: other {} {} vs missing {} {}",
                other.0,
                other.1,
                none.0,
                none.1
            );
        }
    }
}
