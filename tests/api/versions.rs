use crate::both_backends;
use crate::support::{error_code, spawn_with, Backend};
use reqwest::Method;
use serde_json::json;

both_backends!(history_is_bounded_and_restorable);

async fn history_is_bounded_and_restorable(backend: Backend) {
    let app = spawn_with(backend, &[("EDGEPUB_PAGE_HISTORY_LIMIT", "3")]).await;
    let project = app.project("Site").await;
    let page = app
        .page(&project, json!({"slug": "home", "name": "v1", "layout_data": {"content": [{"id": "a", "type": "Text"}]}}))
        .await;
    let url = format!("/api/pages/{}", page["id"].as_str().unwrap());
    for n in 2..=5 {
        let body = json!({"slug": "home", "name": format!("v{n}"), "layout_data": {"content": [{"id": format!("c{n}"), "type": "Text"}]}});
        let (s, saved) = app.send(Method::PUT, &url, Some(body)).await;
        assert_eq!((s, saved["version"].as_i64()), (200, Some(n)));
    }

    let (_, list) = app.get(&format!("{url}/versions")).await;
    assert_eq!(list["total"], 3, "only the newest 3 are kept: {list}");
    let versions: Vec<i64> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [5, 4, 3]);
    assert_eq!(app.get(&format!("{url}/versions/2")).await.0, 404);

    let (s, v3) = app.get(&format!("{url}/versions/3")).await;
    assert_eq!(s, 200);
    assert_eq!(
        (
            v3["name"].as_str(),
            v3["layout_data"]["content"][0]["id"].as_str()
        ),
        (Some("v3"), Some("c3"))
    );

    // A restore is a new save, subject to If-Match like any other.
    let res = app
        .req(Method::POST, &format!("{url}/versions/3/restore"))
        .header("If-Match", "\"4\"")
        .send()
        .await
        .unwrap();
    let (s, body) = crate::support::read(res).await;
    assert_eq!((s, error_code(&body)), (412, "precondition_failed"));
    let res = app
        .req(Method::POST, &format!("{url}/versions/3/restore"))
        .header("If-Match", "\"5\"")
        .send()
        .await
        .unwrap();
    let (s, restored) = crate::support::read(res).await;
    assert_eq!(s, 200, "{restored}");
    assert_eq!(
        (restored["version"].as_i64(), restored["name"].as_str()),
        (Some(6), Some("v3"))
    );
    assert_eq!(restored["layout_data"]["content"][0]["id"], "c3");
    let (_, list) = app.get(&format!("{url}/versions?limit=1")).await;
    assert_eq!(
        (list["items"][0]["version"].as_i64(), list["total"].as_i64()),
        (Some(6), Some(3))
    );
}
