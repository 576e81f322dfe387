use crate::both_backends;
use crate::support::{error_code, read, spawn, Backend};
use reqwest::Method;
use serde_json::json;

both_backends!(stale_if_match_is_refused, fifty_parallel_saves_one_winner);

async fn stale_if_match_is_refused(backend: Backend) {
    let app = spawn(backend).await;
    let project = app.project("Site").await;
    let page = app
        .page(&project, json!({"slug": "home", "name": "Home"}))
        .await;
    let url = format!("/api/pages/{}", page["id"].as_str().unwrap());

    let res = app
        .req(Method::PUT, &url)
        .header("If-Match", "\"1\"")
        .json(&json!({"slug": "home", "name": "v2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["etag"], "\"2\"");
    assert_eq!(res.status(), 200);

    // A second editor still holding version 1 loses, and is told the current version.
    let res = app
        .req(Method::PUT, &url)
        .header("If-Match", "\"1\"")
        .json(&json!({"slug": "home", "name": "lost"}))
        .send()
        .await
        .unwrap();
    let (s, body) = read(res).await;
    assert_eq!((s, error_code(&body)), (412, "precondition_failed"));
    assert_eq!(body["error"]["details"]["current_version"], 2);
    assert_eq!(app.get(&url).await.1["name"], "v2");

    // Weak ETags and `*` are understood; garbage never matches.
    let res = app
        .req(Method::PATCH, &url)
        .header("If-Match", "W/\"2\"")
        .json(&json!({"title": "t"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = app
        .req(Method::PATCH, &url)
        .header("If-Match", "*")
        .json(&json!({"title": "t2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = app
        .req(Method::PATCH, &url)
        .header("If-Match", "\"nope\"")
        .json(&json!({"title": "t3"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 412);
    let res = app
        .req(Method::DELETE, &url)
        .header("If-Match", "\"1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 412);
    assert_eq!(app.get(&url).await.1["version"], 4);
}

async fn fifty_parallel_saves_one_winner(backend: Backend) {
    let app = spawn(backend).await;
    let project = app.project("Site").await;
    let page = app
        .page(&project, json!({"slug": "home", "name": "Home"}))
        .await;
    let url = format!("/api/pages/{}", page["id"].as_str().unwrap());

    let saves = (0..50).map(|i| {
        app.req(Method::PUT, &url)
            .header("If-Match", "\"1\"")
            .json(&json!({"slug": "home", "name": format!("editor {i}")}))
            .send()
    });
    let results = futures_util::future::join_all(saves).await;
    let mut statuses: Vec<u16> = results
        .into_iter()
        .map(|r| r.expect("response").status().as_u16())
        .collect();
    statuses.sort_unstable();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 412).count(),
        49,
        "{statuses:?}"
    );

    let (_, now) = app.get(&url).await;
    assert_eq!(now["version"], 2);
    let (_, history) = app.get(&format!("{url}/versions")).await;
    assert_eq!(history["total"], 2);
    assert_eq!(history["items"][0]["name"], now["name"]);
}
