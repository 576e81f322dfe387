//! Two replicas on one Postgres publishing one project in turn. A replica keeps the release it
//! last recorded in memory to plan the next one from; it must notice that another replica
//! recorded a newer one since, and build on that.

use crate::replicas::{self, ADMIN};
use crate::support::cli::Server;
use crate::support::{PgDb, TempDir, Tursodb};
use edgepub::secrets::Key;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Sends through `server` as the admin; the answer must be a success.
async fn send(server: &Server, method: Method, path: &str, body: Option<Value>) -> Value {
    let (status, body) = replicas::send(server, method, path, body).await;
    assert!(status < 300, "{path}: {status} {body}");
    body
}

/// Publishes through `server` and waits for the job; the release it recorded.
async fn publish(server: &Server, path: &str) -> Value {
    let accepted = send(server, Method::POST, path, None).await;
    let status = accepted["status_url"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(60);
    let job = loop {
        let job = send(server, Method::GET, &status, None).await;
        if job["state"] == "succeeded" {
            break job;
        }
        assert!(
            job["state"] != "failed" && Instant::now() < deadline,
            "{job}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let release = job["release_id"].as_str().unwrap().to_string();
    send(
        server,
        Method::GET,
        &format!("/api/releases/{release}"),
        None,
    )
    .await
}

fn signal(server: &Server, sig: &str) {
    let pid = server.child.id().to_string();
    let done = std::process::Command::new("kill")
        .args([sig, &pid])
        .status();
    assert!(done.is_ok_and(|s| s.success()), "kill {sig} {pid}");
}

/// Each page's (slug, version) in a release.
fn versions(release: &Value) -> Vec<(String, i64)> {
    let mut v: Vec<(String, i64)> = release["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let slug = p["slug"].as_str().unwrap().to_string();
            (slug, p["version"].as_i64().unwrap())
        })
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn replicas_publishing_in_turn_build_on_each_others_releases() {
    let db = PgDb::create().await;
    let key = Key::generate().encode();
    let env = [
        ("EDGEPUB_ADMIN_TOKEN", ADMIN),
        ("DATABASE_URL", db.url.as_str()),
        ("EDGEPUB_SECRET_KEY", key.as_str()),
    ];
    let (a_dir, b_dir) = (TempDir::new(), TempDir::new());
    // A alone runs the first publish, so it holds the first release.
    let a = Server::start(&a_dir, &env);
    send(
        &a,
        Method::POST,
        "/api/projects",
        Some(json!({"name": "Site"})),
    )
    .await;
    // One Turso database both replicas write: what each release holds is what readers get.
    let turso = Tursodb::start();
    let list = send(&a, Method::GET, "/api/projects/site/targets", None).await;
    let local = list[0]["id"].as_str().unwrap();
    let off = Some(json!({"enabled": false}));
    send(&a, Method::PATCH, &format!("/api/targets/{local}"), off).await;
    let target =
        json!({"kind": "turso", "name": "db", "url": turso.url, "token": "turso-token-0123456789"});
    send(&a, Method::POST, "/api/projects/site/targets", Some(target)).await;
    let mut ids = Vec::new();
    for (slug, home) in [("home", true), ("about", false), ("blog", false)] {
        let body = json!({"slug": slug, "name": slug, "is_homepage": home});
        let page = send(&a, Method::POST, "/api/projects/site/pages", Some(body)).await;
        ids.push(page["id"].as_str().unwrap().to_string());
    }
    let first = publish(&a, "/api/projects/site/publish").await;
    let ones = |slugs: &[&str]| slugs.iter().map(|s| (s.to_string(), 1)).collect::<Vec<_>>();
    assert_eq!(versions(&first), ones(&["about", "blog", "home"]));

    // B changes and publishes "about" while A is stopped (any replica's worker may take a
    // job); then A, which still holds the first release, changes "blog" and publishes the
    // whole project while B is stopped.
    let b = Server::start(&b_dir, &env);
    let rename = |name: &str| Some(json!({"name": name}));
    signal(&a, "-STOP");
    send(
        &b,
        Method::PATCH,
        &format!("/api/pages/{}", ids[1]),
        rename("About us"),
    )
    .await;
    let second = publish(&b, &format!("/api/pages/{}/publish", ids[1])).await;
    signal(&a, "-CONT");
    signal(&b, "-STOP");
    send(
        &a,
        Method::PATCH,
        &format!("/api/pages/{}", ids[2]),
        rename("Blog"),
    )
    .await;
    let third = publish(&a, "/api/projects/site/publish").await;
    signal(&b, "-CONT");

    let expected = [("about", 2), ("blog", 1), ("home", 1)];
    let expected: Vec<(String, i64)> = expected.iter().map(|(s, v)| (s.to_string(), *v)).collect();
    assert_eq!(versions(&second), expected);
    assert_eq!(
        versions(&third),
        [("about", 2), ("blog", 2), ("home", 1)].map(|(s, v)| (s.to_string(), v)),
        "A's release keeps what B published"
    );
    let page = |r: &Value, slug: &str| {
        let pages = r["pages"].as_array().unwrap();
        pages.iter().find(|p| p["slug"] == slug).cloned().unwrap()
    };
    // Unchanged since B's release: the same version, content and publish time.
    assert_eq!(page(&third, "about"), page(&second, "about"));
    assert_ne!(page(&third, "about"), page(&first, "about"));
    let rows = turso
        .query("SELECT slug, version, content_hash FROM published_pages ORDER BY slug")
        .await;
    let held: Vec<(Value, Value, Value)> = rows
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone(), r[2].clone()))
        .collect();
    let want: Vec<(Value, Value, Value)> = ["about", "blog", "home"]
        .iter()
        .map(|slug| {
            let p = third["pages"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["slug"] == *slug);
            let p = p.unwrap();
            (
                p["slug"].clone(),
                p["version"].clone(),
                p["content_hash"].clone(),
            )
        })
        .collect();
    assert_eq!(held, want, "the database holds the third release exactly");
}
