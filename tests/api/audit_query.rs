//! Reading the audit log: filters (project, actor, action, time range), cursor pagination in
//! a stable order, scopes, and retention pruning driven by a `ManualClock`.

use crate::both_backends;
use crate::support::audit::{actions, all, all_as, send_as};
use crate::support::{db_texts, error_code, spawn_clocked, Backend};
use edgepub::clock::{Clock, ManualClock};
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

both_backends!(
    audit_filters_and_cursor_pagination,
    old_audit_entries_are_pruned
);

async fn audit_filters_and_cursor_pagination(backend: Backend) {
    let clock = Arc::new(ManualClock::default());
    let app = spawn_clocked(backend, &[], clock.clone()).await;
    let a = app.project("Alpha").await;
    let b = app.project("Beta").await;
    for name in ["A1", "A2", "A3"] {
        let (s, _) = app
            .send(
                Method::PATCH,
                "/api/projects/alpha",
                Some(json!({"site_name": name})),
            )
            .await;
        assert_eq!(s, 200);
    }
    let before_hour = clock.now().to_rfc3339();
    clock.advance(chrono::Duration::hours(1));
    let (_, other) = app
        .post(
            "/api/tokens",
            json!({"name": "second admin", "scopes": ["admin"]}),
        )
        .await;
    let second = other["token"].as_str().unwrap();
    let (s, _) = send_as(
        &app,
        second,
        Method::PATCH,
        "/api/projects/beta",
        Some(json!({"site_name": "B1"})),
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = send_as(
        &app,
        second,
        Method::POST,
        "/api/projects",
        Some(json!({"name": "Gamma"})),
    )
    .await;
    assert_eq!(s, 201);

    let everything = all(&app, "", 500).await;
    assert_eq!(everything.len(), 8, "{everything:?}");
    // Newest first, by time then id, and every page of a cursor walk is a slice of it.
    let keys: Vec<(String, String)> = everything
        .iter()
        .map(|e| {
            (
                e["at"].as_str().unwrap().to_string(),
                e["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let ids = |v: &[Value]| {
        v.iter()
            .map(|e| e["id"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    for limit in [1, 2, 3] {
        assert_eq!(
            ids(&all(&app, "", limit).await),
            ids(&everything),
            "limit {limit}"
        );
    }
    let parsed: Vec<chrono::DateTime<chrono::Utc>> =
        keys.iter().map(|k| k.0.parse().unwrap()).collect();
    assert!(parsed.windows(2).all(|w| w[0] >= w[1]), "{keys:?}");

    let alpha = all(
        &app,
        &format!("&project={}", a["id"].as_str().unwrap()),
        500,
    )
    .await;
    assert_eq!(alpha.len(), 4);
    assert!(alpha.iter().all(|e| e["project_id"] == a["id"]));
    assert_eq!(all(&app, "&project=beta", 500).await.len(), 2);
    let updates = all(&app, "&action=project.update", 500).await;
    assert_eq!(updates.len(), 4);
    assert_eq!(all(&app, "&action=project.*", 500).await.len(), 7);
    assert_eq!(all(&app, "&action=token.*", 500).await.len(), 1);
    let by_second = all(
        &app,
        &format!("&actor={}", other["id"].as_str().unwrap()),
        500,
    )
    .await;
    assert_eq!(
        actions(&by_second),
        ["project.create", "project.update"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    );
    assert!(by_second.iter().all(|e| e["actor_name"] == "second admin"));
    let since = format!("&from={}", urlencode(&before_hour));
    assert_eq!(
        all(&app, &since, 500).await.len(),
        3,
        "the token and the second admin's two"
    );
    let until = format!("&to={}", urlencode(&before_hour));
    assert_eq!(all(&app, &until, 500).await.len(), 5);
    let both = format!("&to={}&project=alpha", urlencode(&before_hour));
    assert_eq!(all(&app, &both, 500).await.len(), 4);
    let _ = b;

    for bad in ["&cursor=nonsense", "&action=PROJECT", "&action=a*b"] {
        let (s, e) = app.get(&format!("/api/audit?{bad}")).await;
        assert_eq!(
            (s, error_code(&e)),
            (422, "validation_failed"),
            "{bad}: {e}"
        );
    }
    let (s, _) = app.get("/api/audit?project=nothing-here").await;
    assert_eq!(s, 404);

    // A project-limited admin sees only its project; a publish token none of it.
    let (_, limited) = app
        .post(
            "/api/tokens",
            json!({"name": "alpha admin", "scopes": ["admin"], "project": "alpha"}),
        )
        .await;
    let limited = limited["token"].as_str().unwrap();
    let seen = all_as(&app, limited, "", 500).await;
    assert!(
        !seen.is_empty() && seen.iter().all(|e| e["project_id"] == a["id"]),
        "{seen:?}"
    );
    // Another project reads exactly like a missing one.
    let (s, _) = send_as(&app, limited, Method::GET, "/api/audit?project=beta", None).await;
    assert_eq!(s, 404);
    let (s, _) = send_as(&app, limited, Method::GET, "/api/audit?project=nope", None).await;
    assert_eq!(s, 404);
    let (_, publisher) = app
        .post("/api/tokens", json!({"name": "pub", "scopes": ["publish"]}))
        .await;
    let publisher = publisher["token"].as_str().unwrap();
    let (s, _) = send_as(&app, publisher, Method::GET, "/api/audit", None).await;
    assert_eq!(s, 403);
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

async fn old_audit_entries_are_pruned(backend: Backend) {
    let clock = Arc::new(ManualClock::default());
    let app = spawn_clocked(
        backend,
        &[("EDGEPUB_AUDIT_RETENTION_DAYS", "30")],
        clock.clone(),
    )
    .await;
    app.project("Old").await;
    clock.advance(chrono::Duration::days(2));
    app.project("Young").await;
    clock.advance(chrono::Duration::days(29));
    // The pruner runs within a second of real time once an hour of clock time has passed.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let entries = all(&app, "&action=project.create", 500).await;
        let names: Vec<&str> = entries
            .iter()
            .map(|e| e["summary"]["name"].as_str().unwrap())
            .collect();
        if names == ["Young"] {
            break;
        }
        assert!(
            names.contains(&"Young"),
            "a 29-day-old entry was pruned: {names:?}"
        );
        assert!(
            Instant::now() < deadline,
            "the 31-day-old entry was never pruned: {names:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let rows = db_texts(&app, "SELECT action FROM audit_log").await;
    assert_eq!(rows.len(), 1);
}
