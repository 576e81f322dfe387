//! The audit log: a canary secret sent through every audited change never reaches the log,
//! neither `GET /api/audit` nor the table. Filters, pagination and retention: `audit_query`.

use crate::both_backends;
use crate::support::audit::{actions, all};
use crate::support::{db_texts, read, spawn_with, Backend};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeSet;

both_backends!(a_canary_secret_never_reaches_the_audit_log);

/// Tokens made and revoked from the command line are audited too (actor `cli`), without the
/// secret the command prints.
#[tokio::test]
async fn command_line_changes_are_audited() {
    use crate::support::cli::{run, Server};
    let dir = crate::support::TempDir::new();
    // Only `serve` and `migrate` create a database.
    assert!(run(&dir, &[], &["migrate"]).status.success());
    let out = run(
        &dir,
        &[],
        &["token", "create", "--name", "ci", "--scope", "publish"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let secret = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(run(&dir, &[], &["token", "revoke", "ci"]).status.success());
    let admin = "cli-audit-admin-token-0123456789abcdef";
    let server = Server::start(&dir, &[("EDGEPUB_ADMIN_TOKEN", admin)]);
    let res = reqwest::Client::new()
        .get(format!("{}/api/audit?action=token.*", server.base()))
        .bearer_auth(admin)
        .send()
        .await
        .unwrap();
    let (s, page) = read(res).await;
    assert_eq!(s, 200, "{page}");
    let entries = page["items"].as_array().unwrap();
    let seen: Vec<(&str, &str, &str)> = entries
        .iter()
        .map(|e| {
            let f = |k: &str| e[k].as_str().unwrap_or_default();
            (
                f("action"),
                f("actor_name"),
                e["summary"]["name"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [("token.revoke", "cli", "ci"), ("token.create", "cli", "ci")]
    );
    assert!(!page.to_string().contains(&secret));
}

fn entry<'a>(entries: &'a [Value], action: &str) -> &'a Value {
    entries
        .iter()
        .find(|e| e["action"] == action)
        .unwrap_or_else(|| panic!("no {action} entry"))
}

async fn a_canary_secret_never_reaches_the_audit_log(backend: Backend) {
    let app = spawn_with(backend, &[]).await;
    // Every variant ends in the same four letters no id contains, so a secret's `last4` hint
    // leaking into the log is caught too.
    let canary = format!("canary{}ZQXJ", uuid::Uuid::new_v4().simple());
    let mut secrets = vec![canary.clone()];

    let res = app
        .req(Method::POST, "/api/projects")
        .header("x-request-id", "audit-test-request-1")
        .json(&json!({"name": "Site"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let (s, _) = app
        .send(
            Method::PATCH,
            "/api/projects/site",
            Some(json!({"site_name": "My Site"})),
        )
        .await;
    assert_eq!(s, 200);

    // Pages: created, saved (not audited: autosaves), an old version restored, deleted, restored.
    let page = app
        .page(
            &json!({"id": "site"}),
            json!({"slug": "home", "name": "Home", "is_homepage": true}),
        )
        .await;
    let page_path = format!("/api/pages/{}", page["id"].as_str().unwrap());
    let (s, _) = app
        .send(Method::PATCH, &page_path, Some(json!({"title": "Hello"})))
        .await;
    assert_eq!(s, 200);
    let (s, _) = app
        .post(&format!("{page_path}/versions/1/restore"), json!({}))
        .await;
    assert_eq!(s, 200);
    let (s, _) = app.send(Method::DELETE, &page_path, None).await;
    assert_eq!(s, 204);
    let (s, _) = app.post(&format!("{page_path}/restore"), json!({})).await;
    assert_eq!(s, 200);

    // Cache settings: a password inside the URL, then as a field, then an Upstash token.
    for body in [
        json!({"redis_type": "tcp", "redis_url": format!("redis://user:{canary}@127.0.0.1:6379/0")}),
        json!({"redis_type": "tcp", "redis_url": "redis://127.0.0.1:6379", "redis_password": canary}),
        json!({"redis_type": "upstash", "redis_url": "https://eu1.upstash.io", "redis_token": canary, "redis_password": null}),
    ] {
        let (s, b) = app
            .send(Method::PUT, "/api/projects/site/settings/cache", Some(body))
            .await;
        assert_eq!(s, 200, "{b}");
    }

    // Targets with tokens: created, patched, replaced, deleted.
    let (s, turso) = app
        .post("/api/projects/site/targets", json!({"kind": "turso", "name": "eu", "url": "https://db.example.turso.io", "token": canary}))
        .await;
    assert_eq!(s, 201, "{turso}");
    let turso_path = format!("/api/targets/{}", turso["id"].as_str().unwrap());
    let (s, _) = app
        .send(
            Method::PATCH,
            &turso_path,
            Some(json!({"token": format!("2{canary}"), "name": "eu-2"})),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = app
        .send(Method::PUT, &turso_path, Some(json!({"kind": "turso", "name": "eu-3", "url": "https://db.example.turso.io", "token": format!("3{canary}")})))
        .await;
    assert_eq!(s, 200);
    let (s, edge) = app
        .post("/api/projects/site/targets", json!({"kind": "edge", "name": "cf", "url": "https://edge.example.com", "token": canary}))
        .await;
    assert_eq!(s, 201, "{edge}");
    let (s, _) = app.send(Method::DELETE, &turso_path, None).await;
    assert_eq!(s, 204);

    // A datasource secret.
    let (s, ds) = app
        .post("/api/projects/site/datasources", json!({"type": "supabase", "name": "main", "url": "https://abc.supabase.co", "anon_key": "anon", "secret": canary}))
        .await;
    assert_eq!(s, 201, "{ds}");
    let ds_path = format!("/api/datasources/{}", ds["id"].as_str().unwrap());
    let (s, _) = app
        .send(Method::PUT, &ds_path, Some(json!({"type": "supabase", "name": "main", "url": "https://abc.supabase.co", "anon_key": "anon", "secret": format!("4{canary}")})))
        .await;
    assert_eq!(s, 200);

    // Tokens and webhook secrets: the server-made secrets are canaries too.
    let (s, token) = app
        .post(
            "/api/tokens",
            json!({"name": "ci", "scopes": ["publish"], "project": "site"}),
        )
        .await;
    assert_eq!(s, 201, "{token}");
    secrets.push(token["token"].as_str().unwrap().to_string());
    let (s, _) = app
        .send(
            Method::DELETE,
            &format!("/api/tokens/{}", token["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(s, 200);
    let (s, w1) = app
        .post("/api/projects/site/webhook-secrets", json!({}))
        .await;
    assert_eq!(s, 201, "{w1}");
    secrets.push(w1["secret"].as_str().unwrap().to_string());
    let (s, w2) = app
        .post(
            &format!("/api/webhook-secrets/{}/rotate", w1["id"].as_str().unwrap()),
            json!({"grace_secs": 60}),
        )
        .await;
    assert_eq!(s, 201, "{w2}");
    let w2_secret = w2["secret"].as_str().unwrap().to_string();
    secrets.push(w2_secret.clone());

    // Publishes: one with a token, one through the signed webhook; a schedule and its cancel.
    let (s, _) = app
        .post(
            "/api/projects/site/publish",
            json!({"targets": [edge["id"]]}),
        )
        .await;
    assert_eq!(s, 202);
    let ts = chrono::Utc::now().timestamp();
    let body = "{}";
    let sig = edgepub::webhooks::sign(&w2_secret, "msg_audit", ts, body.as_bytes()).unwrap();
    let res = app
        .anon(Method::POST, "/api/hooks/publish/site")
        .header("webhook-id", "msg_audit")
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", sig)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let at = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let (s, sched) = app
        .post(
            "/api/projects/site/schedules",
            json!({"at": at, "action": "publish"}),
        )
        .await;
    assert_eq!(s, 201);
    let (s, _) = app
        .send(
            Method::DELETE,
            &format!(
                "/api/projects/site/schedules/{}",
                sched["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = app
        .send(
            Method::DELETE,
            &format!("/api/webhook-secrets/{}", w2["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(s, 204);
    let (s, _) = app.send(Method::DELETE, "/api/projects/site", None).await;
    assert_eq!(s, 204);

    let entries = all(&app, "", 500).await;
    let expected: BTreeSet<String> = [
        "project.create",
        "project.update",
        "project.delete",
        "settings.update",
        "target.create",
        "target.update",
        "target.delete",
        "datasource.create",
        "datasource.update",
        "token.create",
        "token.revoke",
        "webhook_secret.create",
        "webhook_secret.rotate",
        "webhook_secret.expire",
        "webhook_secret.revoke",
        "publish",
        "schedule.create",
        "schedule.cancel",
        "page.create",
        "page.delete",
        "page.restore",
        "page.restore_version",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let recorded = actions(&entries);
    let missing: Vec<_> = expected.difference(&recorded).collect();
    assert!(missing.is_empty(), "not recorded: {missing:?}");

    let text = serde_json::to_string(&entries).unwrap();
    let stored = db_texts(
        &app,
        "SELECT actor_name || ' ' || action || ' ' || COALESCE(subject_id, '') || ' ' || CAST(summary AS TEXT) \
         || ' ' || COALESCE(request_id, '') || ' ' || COALESCE(client_addr, '') FROM audit_log",
    )
    .await;
    assert_eq!(stored.len(), entries.len());
    let stored = format!("{stored:?}");
    assert!(
        !text.contains("ZQXJ") && !stored.contains("ZQXJ"),
        "a secret's last four characters reached the log"
    );
    for secret in &secrets {
        assert!(
            !text.contains(secret.as_str()),
            "a secret reached GET /api/audit: {text}"
        );
        assert!(
            !stored.contains(secret.as_str()),
            "a secret reached the audit table"
        );
    }

    // What is recorded instead: field names, non-secret values, who, from where.
    let created = entries
        .iter()
        .rev()
        .find(|e| e["action"] == "project.create")
        .unwrap();
    assert_eq!(created["request_id"], "audit-test-request-1");
    assert_eq!(created["client_addr"], "127.0.0.1");
    assert_eq!(created["actor_name"], "admin (EDGEPUB_ADMIN_TOKEN)");
    assert!(created["actor_id"].is_string());
    assert_eq!(created["summary"]["name"], "Site");
    assert_eq!(
        entry(&entries, "project.update")["summary"],
        json!({"site_name": "My Site"})
    );
    let settings: Vec<&Value> = entries
        .iter()
        .filter(|e| e["action"] == "settings.update")
        .collect();
    assert_eq!(settings.len(), 3);
    assert!(
        settings
            .iter()
            .any(|e| e["summary"]["redis_password"] == "[redacted]"),
        "{settings:?}"
    );
    assert!(
        settings
            .iter()
            .any(|e| e["summary"]["redis_token"] == "[redacted]"),
        "{settings:?}"
    );
    let patched = entries
        .iter()
        .find(|e| e["action"] == "target.update" && e["summary"]["name"] == "eu-2")
        .expect("the patch");
    assert_eq!(patched["summary"]["token"], "[redacted]");
    let hook = entries
        .iter()
        .find(|e| e["action"] == "publish" && e["actor_name"] == "publish webhook")
        .expect("the webhook's publish");
    assert_eq!(hook["actor_id"], Value::Null);
    assert_eq!(
        entry(&entries, "token.create")["summary"]["scopes"],
        json!(["publish"])
    );
}
