use super::*;
use serde_json::json;

fn input(v: serde_json::Value) -> CacheSettingsInput {
    serde_json::from_value(v).unwrap()
}

#[test]
fn secrets_keep_clear_set_and_url_passwords() {
    let stored = CacheSettings {
        redis_type: RedisType::Upstash,
        redis_url: Some("https://x.upstash.io".into()),
        redis_token: Some("old-token".into()),
        ..Default::default()
    };
    let elsewhere = input(json!({"redis_type": "upstash", "redis_url": "https://y.example.com", "redis_enabled": true}))
        .resolve(&stored, Purpose::Save)
        .unwrap_err();
    assert_eq!(
        (elsewhere[0].path.as_str(), elsewhere[0].code),
        ("/redis_token", "secret_required")
    );
    let kept = input(json!({"redis_type": "upstash", "redis_url": "https://x.upstash.io/", "redis_enabled": true}))
        .resolve(&stored, Purpose::Save)
        .unwrap();
    assert_eq!(
        (kept.redis_token.as_deref(), kept.redis_url.as_deref()),
        (Some("old-token"), Some("https://x.upstash.io"))
    );
    let cleared = input(json!({"redis_type": "upstash", "redis_token": null}))
        .resolve(&stored, Purpose::Save)
        .unwrap();
    assert_eq!(cleared.redis_token, None);
    let tcp =
        input(json!({"redis_type": "tcp", "redis_url": "redis://:hunter2@127.0.0.1:6379", "redis_token": null}))
            .resolve(&stored, Purpose::Save)
            .unwrap();
    assert_eq!(
        (tcp.redis_url.as_deref(), tcp.redis_password.as_deref()),
        (Some("redis://127.0.0.1:6379"), Some("hunter2"))
    );
    assert!(!format!("{tcp:?}").contains("hunter2"));
}

#[test]
fn a_secret_the_type_does_not_use_is_dropped_and_a_test_never_needs_one() {
    let stored = CacheSettings {
        redis_url: Some("https://x.upstash.io".into()),
        redis_token: Some("old-token".into()),
        ..Default::default()
    };
    let tcp =
        json!({"redis_type": "tcp", "redis_url": "redis://127.0.0.1:6379", "redis_enabled": true});
    for purpose in [Purpose::Save, Purpose::Test] {
        let s = input(tcp.clone()).resolve(&stored, purpose).unwrap();
        assert_eq!((s.redis_token, s.redis_password), (None, None));
    }
    let moved = json!({"redis_type": "upstash", "redis_url": "https://y.example.com", "redis_enabled": true});
    let tested = input(moved).resolve(&stored, Purpose::Test).unwrap();
    assert_eq!(tested.redis_token, None, "never sent to another address");
    let same = json!({"redis_type": "upstash", "redis_url": "https://x.upstash.io"});
    let tested = input(same).resolve(&stored, Purpose::Test).unwrap();
    assert_eq!(tested.redis_token.as_deref(), Some("old-token"));
}

#[test]
fn every_problem_is_named() {
    let errs = input(json!({"redis_type": "upstash", "redis_url": "ftp://x", "redis_enabled": true, "redis_token": null, "cache_ttl_data": 0}))
        .resolve(&CacheSettings::default(), Purpose::Save)
        .unwrap_err();
    let paths: Vec<_> = errs.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["/redis_url", "/redis_token", "/cache_ttl_data"]);
    let errs = input(json!({"redis_type": "tcp", "redis_url": "redis+sentinel://h"}))
        .resolve(&CacheSettings::default(), Purpose::Save)
        .unwrap_err();
    assert_eq!(errs[0].path, "/redis_url");
}
