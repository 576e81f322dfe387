//! Saves: the answer of a save is what a read gives, history stays bounded however many saves
//! there are, and concurrent saves queue: each one lands or gets the right 412.

use crate::both_backends;
use crate::support::{db_texts, error_code, read, spawn, spawn_with, Backend};
use reqwest::Method;
use serde_json::{json, Value};

both_backends!(
    a_save_answers_what_a_read_gives,
    history_stays_bounded_over_many_saves,
    concurrent_saves_all_land_or_get_the_right_412
);

async fn a_save_answers_what_a_read_gives(backend: Backend) {
    let app = spawn(backend).await;
    let project = app.project("Site").await;
    let page = app
        .page(&project, json!({"slug": "home", "name": "Home"}))
        .await;
    let url = format!("/api/pages/{}", page["id"].as_str().unwrap());
    // Keys out of order, nested arrays, escapes, non-ASCII text, floats and large integers.
    let layout = json!({
        "root": {"props": {"title": "Caf\u{e9} \"quoted\" \\ \n", "ratio": 0.1, "big": 9_007_199_254_740_993_i64}},
        "content": [{"type": "Text", "id": "t1", "props": {"z": [1, 2.5, -3e-7, null, true], "a": {}}}]
    });
    let res = app
        .req(Method::PUT, &url)
        .header("If-Match", "\"1\"")
        .json(&json!({"slug": "home", "name": "Home", "layout_data": layout, "seo_data": {"title": "S"}}))
        .send()
        .await
        .unwrap();
    let etag = res.headers().get("etag").cloned();
    let (s, saved) = read(res).await;
    assert_eq!(s, 200, "{saved}");
    assert_eq!(saved["layout_data"], layout);

    let res = app.req(Method::GET, &url).send().await.unwrap();
    assert_eq!(res.headers().get("etag").cloned(), etag);
    let (_, got) = read(res).await;
    assert_eq!(saved, got, "a save answers exactly what a read gives");
    let (_, v2) = app.get(&format!("{url}/versions/2")).await;
    assert_eq!(v2["layout_data"], layout);

    let (s, patched) = app
        .send(
            Method::PATCH,
            &url,
            Some(json!({"layout_data": {"root": {"props": {"ratio": 2}}}})),
        )
        .await;
    assert_eq!(s, 200, "{patched}");
    assert_eq!(patched["layout_data"]["root"]["props"]["ratio"], 2);
    assert_eq!(patched, app.get(&url).await.1);
}

async fn history_stays_bounded_over_many_saves(backend: Backend) {
    let app = spawn_with(backend, &[("EDGEPUB_PAGE_HISTORY_LIMIT", "3")]).await;
    let project = app.project("Site").await;
    let page = app
        .page(&project, json!({"slug": "home", "name": "v1"}))
        .await;
    let url = format!("/api/pages/{}", page["id"].as_str().unwrap());
    for v in 2..=41_i64 {
        let body = json!({"slug": "home", "name": format!("v{v}")});
        let res = app
            .req(Method::PUT, &url)
            .header("If-Match", format!("\"{}\"", v - 1))
            .json(&body)
            .send()
            .await
            .unwrap();
        let (s, saved) = read(res).await;
        assert_eq!((s, saved["version"].as_i64()), (200, Some(v)), "{saved}");

        let (_, list) = app.get(&format!("{url}/versions")).await;
        let versions: Vec<i64> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["version"].as_i64().unwrap())
            .collect();
        let kept: Vec<i64> = (1.max(v - 2)..=v).rev().collect();
        assert_eq!(versions, kept, "after saving v{v}: {list}");
        assert_eq!(list["total"], kept.len());
        if v < 4 {
            continue;
        }
        let (s, body) = app.get(&format!("{url}/versions/{}", v - 3)).await;
        assert_eq!(
            (s, error_code(&body)),
            (404, "not_found"),
            "v{} is gone",
            v - 3
        );
        let (s, body) = app
            .send(
                Method::POST,
                &format!("{url}/versions/{}/restore", v - 3),
                None,
            )
            .await;
        assert_eq!((s, error_code(&body)), (404, "not_found"));
        let (s, oldest) = app.get(&format!("{url}/versions/{}", v - 2)).await;
        assert_eq!(
            (s, oldest["name"].as_str()),
            (200, Some(format!("v{}", v - 2).as_str()))
        );
    }
    // What is stored stays bounded too: old rows are deleted in batches of at most 16.
    let stored = db_texts(&app, "SELECT CAST(COUNT(*) AS TEXT) FROM page_versions").await;
    let stored: i64 = stored[0].as_deref().unwrap().parse().unwrap();
    assert!(
        (3..3 + 16).contains(&stored),
        "{stored} history rows stored"
    );
}

async fn concurrent_saves_all_land_or_get_the_right_412(backend: Backend) {
    let app = spawn(backend).await;
    let project = app.project("Site").await;
    let free = app
        .page(&project, json!({"slug": "free", "name": "Free"}))
        .await;
    let guarded = app
        .page(&project, json!({"slug": "guarded", "name": "Guarded"}))
        .await;
    let free_url = format!("/api/pages/{}", free["id"].as_str().unwrap());
    let guarded_url = format!("/api/pages/{}", guarded["id"].as_str().unwrap());

    // 20 saves without If-Match and 20 with If-Match "1", all at once, on two pages.
    let unguarded = (0..20).map(|i| {
        app.req(Method::PUT, &free_url)
            .json(&json!({"slug": "free", "name": format!("editor {i}")}))
            .send()
    });
    let conditional = (0..20).map(|i| {
        app.req(Method::PUT, &guarded_url)
            .header("If-Match", "\"1\"")
            .json(&json!({"slug": "guarded", "name": format!("editor {i}")}))
            .send()
    });
    let (a, b) = futures_util::future::join(
        futures_util::future::join_all(unguarded),
        futures_util::future::join_all(conditional),
    )
    .await;

    let mut saved: Vec<(i64, String)> = Vec::new();
    for res in a {
        let (s, body) = read(res.expect("response")).await;
        assert_eq!(s, 200, "every unconditional save lands: {body}");
        saved.push((
            body["version"].as_i64().unwrap(),
            body["name"].as_str().unwrap().to_owned(),
        ));
    }
    saved.sort();
    let versions: Vec<i64> = saved.iter().map(|(v, _)| *v).collect();
    assert_eq!(versions, (2..=21).collect::<Vec<_>>());
    // Each version's history row holds what that save wrote.
    for (v, name) in &saved {
        let (_, row) = app.get(&format!("{free_url}/versions/{v}")).await;
        assert_eq!(row["name"].as_str(), Some(name.as_str()), "v{v}");
    }
    let (_, list) = app.get(&format!("{free_url}/versions")).await;
    assert_eq!(list["total"], 21);

    let mut winners = 0;
    for res in b {
        let (s, body) = read(res.expect("response")).await;
        match s {
            200 => winners += 1,
            412 => assert_eq!(
                (
                    error_code(&body),
                    &body["error"]["details"]["current_version"]
                ),
                ("precondition_failed", &Value::from(2))
            ),
            _ => panic!("unexpected {s}: {body}"),
        }
    }
    assert_eq!(winners, 1);
    assert_eq!(app.get(&guarded_url).await.1["version"], 2);
}
