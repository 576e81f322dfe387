//! The proxy against a real Redis: commands, pipelines, transactions and encodings.

use crate::common::{direct, prefix, send, TestProxy};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use redis::AsyncCommands;
use serde_json::{json, Value as Json};

#[tokio::test]
async fn single_commands() {
    let p = TestProxy::start().await;
    let k = prefix();
    let key = format!("{k}:a");

    // Numbers in the body become their decimal text (EX 60).
    assert_eq!(p.ok(json!(["SET", key, "v1", "EX", 60])).await, json!("OK"));
    assert_eq!(p.ok(json!(["get", key])).await, json!("v1"));
    let ttl = p.ok(json!(["TTL", key])).await.as_i64().unwrap_or(-100);
    assert!((1..=60).contains(&ttl), "ttl {ttl}");
    assert_eq!(p.ok(json!(["EXPIRE", key, 120])).await, json!(1));
    let ttl = p.ok(json!(["ttl", key])).await.as_i64().unwrap_or(-100);
    assert!((61..=120).contains(&ttl), "ttl {ttl}");

    let counter = format!("{k}:n");
    assert_eq!(p.ok(json!(["INCR", counter])).await, json!(1));
    assert_eq!(p.ok(json!(["incrby", counter, 41])).await, json!(42));
    assert_eq!(
        p.ok(json!(["incrbyfloat", counter, 0.5])).await,
        json!("42.5")
    );

    let missing = format!("{k}:missing");
    assert_eq!(
        p.ok(json!(["MGET", key, missing, counter])).await,
        json!(["v1", null, "42.5"])
    );
    assert_eq!(p.ok(json!(["GET", missing])).await, Json::Null);
    assert_eq!(p.ok(json!(["DEL", key, counter, missing])).await, json!(2));
    assert_eq!(p.ok(json!(["EXISTS", key])).await, json!(0));

    // A Redis error is a 400 with Redis's own text.
    p.ok(json!(["SET", key, "text"])).await;
    let (status, body) = p.cmd(json!(["INCR", key])).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"],
        json!("ERR value is not an integer or out of range")
    );
    p.stop().await;
}

#[tokio::test]
async fn scan_with_match_and_count() {
    let p = TestProxy::start().await;
    let k = prefix();
    let mut wanted: Vec<String> = (0..25).map(|i| format!("{k}:scan:{i}")).collect();
    for key in &wanted {
        p.ok(json!(["SET", key, "x"])).await;
    }
    p.ok(json!(["SET", format!("{k}:other"), "x"])).await;

    let mut found: Vec<String> = Vec::new();
    let mut cursor = "0".to_owned();
    for _ in 0..10_000 {
        let page = p
            .ok(json!([
                "SCAN",
                cursor,
                "MATCH",
                format!("{k}:scan:*"),
                "COUNT",
                1000
            ]))
            .await;
        cursor = page[0].as_str().expect("cursor is a string").to_owned();
        let keys = page[1].as_array().expect("keys array");
        found.extend(keys.iter().filter_map(|v| v.as_str().map(str::to_owned)));
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(cursor, "0", "scan did not finish");
    found.sort();
    found.dedup();
    wanted.sort();
    assert_eq!(found, wanted);
    p.stop().await;
}

#[tokio::test]
async fn path_form_and_query_token() {
    let p = TestProxy::start().await;
    let k = prefix();
    let url = |path: &str| format!("{}{path}", p.url);

    let (status, body) = send(
        p.http
            .get(url(&format!("/set/{k}:p/hello%20w%2Frld")))
            .bearer_auth(&p.token),
    )
    .await;
    assert_eq!((status, body), (200, json!({"result": "OK"})));
    let (_, body) = send(p.http.get(url(&format!("/GET/{k}:p?_token={}", p.token)))).await;
    assert_eq!(body, json!({"result": "hello w/rld"}));

    // A POST body is the last argument, so values need no URL escaping.
    let value = "{\"json\": \"ünïcode / ✓\"}";
    let (status, _) = send(
        p.http
            .post(url(&format!("/set/{k}:body")))
            .bearer_auth(&p.token)
            .body(value),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        p.ok(json!(["GET", format!("{k}:body")])).await,
        json!(value)
    );
    p.stop().await;
}

#[tokio::test]
async fn pipeline_keeps_going_after_a_failing_command() {
    let p = TestProxy::start().await;
    let k = prefix();
    let (a, b) = (format!("{k}:a"), format!("{k}:b"));
    let (status, body) = send(p.post("/pipeline").json(&json!([
        ["SET", a, "not a number"],
        ["INCR", a],
        ["SUBSCRIBE", "chan"],
        ["INCR", b],
        ["GET", a],
    ])))
    .await;
    assert_eq!(status, 200, "{body}");
    let items = body.as_array().expect("array answer");
    assert_eq!(items.len(), 5);
    assert_eq!(items[0], json!({"result": "OK"}));
    assert_eq!(
        items[1]["error"],
        json!("ERR value is not an integer or out of range")
    );
    assert!(items[1].get("result").is_none());
    let refused = items[2]["error"].as_str().unwrap_or_default();
    assert!(refused.contains("not supported over REST"), "{refused}");
    assert_eq!(items[3], json!({"result": 1}));
    assert_eq!(items[4], json!({"result": "not a number"}));
    p.stop().await;
}

#[tokio::test]
async fn multi_exec_is_atomic() {
    let p = TestProxy::start().await;
    let k = prefix();
    let (a, b, c) = (format!("{k}:a"), format!("{k}:b"), format!("{k}:c"));
    let (status, body) = send(p.post("/multi-exec").json(&json!([
        ["SET", a, "1"],
        ["INCR", a],
        ["SET", b, "text"],
        ["INCR", b],
        ["RPUSH", c, "x", "y"],
    ])))
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!([
            {"result": "OK"},
            {"result": 2},
            {"result": "OK"},
            {"error": "ERR value is not an integer or out of range"},
            {"result": 2},
        ])
    );
    // All writes of the transaction are visible, read straight from Redis.
    let mut conn = direct().await;
    let got: (String, String, Vec<String>) = redis::pipe()
        .get(&a)
        .get(&b)
        .lrange(&c, 0, -1)
        .query_async(&mut conn)
        .await
        .expect("direct read");
    assert_eq!(
        got,
        ("2".into(), "text".into(), vec!["x".into(), "y".into()])
    );

    // An error while queuing aborts everything: nothing is written.
    let d = format!("{k}:d");
    let (status, body) = send(
        p.post("/multi-exec")
            .json(&json!([["SET", d, "1"], ["SET", d],])),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let msg = body["error"].as_str().unwrap_or_default();
    assert!(msg.starts_with("EXECABORT"), "{msg}");
    assert!(msg.contains("command 2"), "{msg}");
    let exists: bool = conn.exists(&d).await.expect("exists");
    assert!(!exists, "aborted transaction wrote a key");

    // Refused commands refuse the whole transaction.
    let (status, body) = send(
        p.post("/multi-exec")
            .json(&json!([["SET", d, "1"], ["MULTI"]])),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    p.stop().await;
}

#[tokio::test]
async fn base64_encoding_on_and_off() {
    let p = TestProxy::start().await;
    let k = prefix();
    let key = format!("{k}:u");
    let unicode = "héllo ✓ 🚀 \u{0} \u{10FFFF}";
    let b64 = |s: &[u8]| json!(STANDARD.encode(s));

    let (_, set) = p.cmd_b64(json!(["SET", key, unicode])).await;
    assert_eq!(
        set,
        json!({"result": "T0s="}),
        "status replies are encoded too"
    );
    assert_eq!(p.ok(json!(["GET", key])).await, json!(unicode));
    let (_, got) = p.cmd_b64(json!(["GET", key])).await;
    assert_eq!(got["result"], b64(unicode.as_bytes()));

    let (_, pong) = p.cmd_b64(json!(["PING"])).await;
    assert_eq!(pong["result"], b64(b"PONG"));
    // Numbers and nil are never encoded; arrays are encoded element by element.
    let (_, n) = p.cmd_b64(json!(["INCR", format!("{k}:n")])).await;
    assert_eq!(n["result"], json!(1));
    let (_, arr) = p.cmd_b64(json!(["MGET", key, format!("{k}:none")])).await;
    assert_eq!(arr["result"], json!([b64(unicode.as_bytes()), null]));

    // Bytes that are not UTF-8, written straight to Redis.
    let raw_key = format!("{k}:raw");
    let raw: Vec<u8> = vec![0xff, 0xfe, 0x00, b'a', 0x80, 0xc3];
    let mut conn = direct().await;
    let () = conn
        .set(&raw_key, raw.as_slice())
        .await
        .expect("direct set");
    let (status, got) = p.cmd_b64(json!(["GET", raw_key])).await;
    assert_eq!(status, 200);
    let decoded = STANDARD
        .decode(got["result"].as_str().expect("string result"))
        .expect("valid base64");
    assert_eq!(decoded, raw);
    // Without base64 the text is lossy, never an error and never raw bytes.
    assert_eq!(
        p.ok(json!(["GET", raw_key])).await,
        json!("\u{fffd}\u{fffd}\u{0}a\u{fffd}\u{fffd}")
    );

    // Pipelines encode per slot; errors stay readable text.
    let (_, body) = send(
        p.post("/pipeline")
            .header("upstash-encoding", "BASE64")
            .json(&json!([
                ["GET", key],
                ["INCR", key],
                ["HSET", format!("{k}:h"), "f", "v"]
            ])),
    )
    .await;
    assert_eq!(body[0]["result"], b64(unicode.as_bytes()));
    assert_eq!(
        body[1]["error"],
        json!("ERR value is not an integer or out of range")
    );
    assert_eq!(body[2]["result"], json!(1));
    p.stop().await;
}
