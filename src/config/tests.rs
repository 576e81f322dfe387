use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn defaults_work_on_a_laptop() {
    let c = Config::from_sources(None, &env(&[])).unwrap();
    assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
    assert_eq!(c.database_url.expose(), "sqlite://./data/edgepub.db");
    assert_eq!(c.max_body_bytes, 2 * 1024 * 1024);
    assert_eq!(c.db_acquire_timeout_secs, 2);
    assert_eq!(c.db_max_connections, SQLITE_MAX_CONNECTIONS);
    let pg = env(&[("DATABASE_URL", "postgres://localhost/edgepub")]);
    let c = Config::from_sources(None, &pg).unwrap();
    assert_eq!(c.db_max_connections, PG_MAX_CONNECTIONS);
    let set = env(&[("EDGEPUB_DB_MAX_CONNECTIONS", "7")]);
    assert_eq!(
        Config::from_sources(None, &set).unwrap().db_max_connections,
        7
    );
}

#[test]
fn env_wins_over_file_and_errors_are_all_reported() {
    let dir = std::env::temp_dir().join(format!("edgepub-cfg-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("edgepub.toml");
    std::fs::write(
        &file,
        "listen = \"127.0.0.1:7000\"\npage_history_limit = 5\n",
    )
    .unwrap();
    let c =
        Config::from_sources(Some(&file), &env(&[("EDGEPUB_LISTEN", "127.0.0.1:9000")])).unwrap();
    assert_eq!(c.listen.port(), 9000);
    assert_eq!(c.page_history_limit, 5);

    let err = Config::from_sources(
        None,
        &env(&[
            ("EDGEPUB_LISTEN", "nope"),
            ("EDGEPUB_MAX_BODY_BYTES", "x"),
            ("DATABASE_URL", "mysql://x"),
        ]),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("EDGEPUB_LISTEN")
            && err.contains("EDGEPUB_MAX_BODY_BYTES")
            && err.contains("DATABASE_URL"),
        "{err}"
    );
}

#[test]
fn file_keys_are_checked_and_typed_like_env() {
    let dir = std::env::temp_dir().join(format!("edgepub-cfg-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("edgepub.toml");
    std::fs::write(
        &file,
        "cors_origins = [\"https://a\", \"https://b\"]\nallow_link_local = true\nworkers = 3\n",
    )
    .unwrap();
    let c = Config::from_sources(Some(&file), &env(&[])).unwrap();
    assert_eq!(c.cors_origins, ["https://a", "https://b"]);
    assert!(c.allow_link_local);
    assert_eq!(c.workers, Some(3));
    std::fs::write(&file, "listen_addr = \"127.0.0.1:1\"\nlease_secs = 0\n").unwrap();
    let err = Config::from_sources(Some(&file), &env(&[]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("unknown key `listen_addr`") && err.contains("EDGEPUB_LEASE_SECS"),
        "{err}"
    );
}

#[test]
fn toml_errors_say_where() {
    let dir = std::env::temp_dir().join(format!("edgepub-cfg-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("edgepub.toml");
    std::fs::write(&file, "listen = \"127.0.0.1:7000\"\nworkers = = 3\n").unwrap();
    let err = Config::from_sources(Some(&file), &env(&[]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("line 2, column 11"), "{err}");
}

#[test]
fn secrets_never_show_in_debug() {
    let c = Config::from_sources(
        None,
        &env(&[("EDGEPUB_ADMIN_TOKEN", "canary-canary-canary-canary")]),
    )
    .unwrap();
    assert!(!format!("{c:?}").contains("canary"));
}
