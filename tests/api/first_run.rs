//! What a new user meets first, through the binary: a CLI that finds its database or says
//! where it looked, a first admin token that survives a start that could not listen, startup
//! errors that name the path or address and what to do, plain logs in a file.

use crate::support::cli::{free_port, run, Server};
use crate::support::{PgDb, TempDir};
use std::time::{Duration, Instant};

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn cli_commands_never_create_a_database() {
    let dir = TempDir::new();
    let data = dir.0.join("data");
    for args in [
        &["token", "list"][..],
        &["token", "create", "--name", "x", "--scope", "admin"],
        &["publish", "--project", "my-site"],
        &["verify", "--project", "my-site"],
        &["secrets", "rotate-key"],
    ] {
        let out = run(&dir, &[], args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains(&data.join("edgepub.db").display().to_string())
                && err.contains("EDGEPUB_DATA_DIR")
                && err.contains("DATABASE_URL"),
            "{args:?} names the path and both ways to point elsewhere: {err}"
        );
        assert!(!data.exists(), "{args:?} created {}", data.display());
    }
    // `migrate` (like `serve`) creates it; then the other commands find it.
    let out = run(&dir, &[], &["migrate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(&dir, &[], &["token", "list"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// The same on Postgres, where the database exists (made by `createdb`) but is empty: a
/// command other than `serve`/`migrate` does not give it edgepub's tables.
#[tokio::test]
async fn cli_commands_never_migrate_an_empty_postgres() {
    let dir = TempDir::new();
    let db = PgDb::create().await;
    let env = [("DATABASE_URL", db.url.as_str())];
    let out = run(&dir, &env, &["token", "list"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("no edgepub tables") && err.contains("edgepub migrate"),
        "{err}"
    );
    assert!(!err.contains(&db.url), "never the URL: {err}");
    let out = run(&dir, &env, &["migrate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(&dir, &env, &["token", "list"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// A first start whose port is taken exits without making (and showing) the admin token, so
/// the next start still shows it.
fn first_token_survives_a_taken_port(env: &[(&str, &str)]) {
    let dir = TempDir::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let mut env_taken = env.to_vec();
    env_taken.push(("EDGEPUB_LISTEN", &addr));
    let out = run(&dir, &env_taken, &["serve"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("cannot listen on {addr}")) && err.contains("EDGEPUB_LISTEN"),
        "{err}"
    );
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("ep_"),
        "no token shown by a start that could not listen"
    );
    drop(taken);
    let mut server = Server::start(&dir, env);
    let shown = server.stdout();
    assert!(
        shown.iter().any(|l| l.trim().starts_with("ep_")),
        "the next start shows the first admin token: {shown:?}"
    );
    assert!(server.terminate().success());
}

#[test]
fn first_token_survives_a_taken_port_sqlite() {
    first_token_survives_a_taken_port(&[]);
}

#[tokio::test]
async fn first_token_survives_a_taken_port_postgres() {
    let db = PgDb::create().await;
    let url = db.url.clone();
    tokio::task::spawn_blocking(move || {
        first_token_survives_a_taken_port(&[("DATABASE_URL", &url)])
    })
    .await
    .expect("join");
}

/// Runs `migrate` with `env`; asserts it fails within a few seconds and returns stderr.
fn fails_fast(dir: &TempDir, env: &[(&str, &str)]) -> String {
    let started = Instant::now();
    let out = run(dir, env, &["migrate"]);
    assert!(!out.status.success());
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "took {:?}",
        started.elapsed()
    );
    stderr(&out)
}

#[tokio::test]
async fn unreachable_postgres_is_named_with_its_kind() {
    let dir = TempDir::new();
    let port = free_port();
    let url = format!("postgres://postgres@127.0.0.1:{port}/edgepub");
    let err = fails_fast(&dir, &[("DATABASE_URL", &url)]);
    assert!(
        err.contains(&format!("127.0.0.1:{port}")) && err.contains("(refused)"),
        "{err}"
    );

    // A host name that cannot resolve (`.invalid` never does).
    let url = "postgres://postgres@nonexistent.invalid:5432/edgepub";
    let err = fails_fast(&dir, &[("DATABASE_URL", url)]);
    assert!(
        err.contains("nonexistent.invalid:5432") && err.contains("(dns)"),
        "{err}"
    );

    // A port that accepts connections but never answers: a timeout, not a ten-second pool
    // wait with no address.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = silent.local_addr().expect("addr").port();
    let url = format!("postgres://postgres@127.0.0.1:{port}/edgepub");
    let err = fails_fast(&dir, &[("DATABASE_URL", &url)]);
    assert!(
        err.contains(&format!("127.0.0.1:{port}")) && err.contains("(timeout)"),
        "{err}"
    );
    drop(silent);

    // A server that answers, without the database: say how to create it.
    let admin = crate::support::pg_admin_url();
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    let name = format!("edgepub_missing_{}", uuid::Uuid::new_v4().simple());
    let url = format!("{base}/{name}");
    let err = fails_fast(&dir, &[("DATABASE_URL", &url)]);
    assert!(
        err.contains("(missing database)") && err.contains("createdb") && err.contains(&name),
        "{err}"
    );
    assert!(!err.contains("postgres://"), "never the URL: {err}");

    // A user the server does not know: `auth`, naming the user and never the password.
    let host = base.rsplit_once('@').map_or(base, |(_, h)| h);
    let url = format!("postgres://nobody_here:hunter2secret@{host}/postgres");
    let err = fails_fast(&dir, &[("DATABASE_URL", &url)]);
    assert!(
        err.contains("(auth)") && err.contains("nobody_here") && err.contains(host),
        "{err}"
    );
    assert!(!err.contains("hunter2secret"), "never the password: {err}");
}

#[test]
fn data_dir_problems_are_named() {
    let dir = TempDir::new();
    let file = dir.0.join("not-a-dir");
    std::fs::write(&file, "x").expect("write");
    let err = fails_fast(&dir, &[("EDGEPUB_DATA_DIR", file.to_str().unwrap())]);
    assert!(
        err.contains(&file.display().to_string()) && err.contains("is not a directory"),
        "{err}"
    );
    // Root writes through permission bits; sysfs refuses new files even to root.
    let locked = std::path::Path::new("/sys/kernel");
    if locked.is_dir() {
        let err = fails_fast(&dir, &[("EDGEPUB_DATA_DIR", "/sys/kernel")]);
        assert!(
            err.contains("/sys/kernel") && err.contains("is not writable"),
            "{err}"
        );
    }
}

#[test]
fn toml_errors_give_line_and_column() {
    let dir = TempDir::new();
    let config = dir.0.join("edgepub.toml");
    std::fs::write(&config, "listen = \"127.0.0.1:7000\"\nworkers = = 3\n").expect("write");
    let out = run(&dir, &[], &["migrate"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("line 2, column"), "{err}");
}

#[test]
fn logs_in_a_file_carry_no_colour_codes() {
    let dir = TempDir::new();
    let log = dir.0.join("edgepub.log");
    let mut server = Server::start_logging(&dir, &[("EDGEPUB_LOG", "info")], Some(&log));
    assert!(server.terminate().success());
    let text = std::fs::read_to_string(&log).expect("log");
    assert!(text.contains("edgepub listening"), "{text}");
    assert!(!text.contains('\u{1b}'), "ANSI codes in a file: {text:?}");
}

#[test]
fn cli_revokes_a_shared_name_only_by_id_and_lists_no_secret() {
    let dir = TempDir::new();
    let chosen = "my-own-admin-token-0123456789";
    let env = [("EDGEPUB_ADMIN_TOKEN", chosen)];
    assert!(run(&dir, &env, &["migrate"]).status.success());
    let mut server = Server::start(&dir, &env);
    assert!(server.terminate().success());
    let mut ids = Vec::new();
    for _ in 0..2 {
        let out = run(
            &dir,
            &[],
            &["token", "create", "--name", "ci", "--scope", "publish"],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let err = stderr(&out);
        let id = err
            .split(['(', ')'])
            .nth(1)
            .expect("the id in parentheses")
            .to_string();
        ids.push(id);
    }
    let out = run(&dir, &[], &["token", "revoke", "ci"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        ids.iter().all(|id| err.contains(id.as_str())) && err.contains("by id"),
        "{err}"
    );
    let list = String::from_utf8_lossy(&run(&dir, &[], &["token", "list"]).stdout).into_owned();
    assert_eq!(
        list.lines()
            .filter(|l| l.contains(" ci ") && l.ends_with("active"))
            .count(),
        2,
        "nothing was revoked: {list}"
    );
    // No part of the chosen secret, however short, shows.
    assert!(!list.contains(&chosen[..6]), "{list}");

    let out = run(&dir, &[], &["token", "revoke", &ids[0]]);
    assert!(out.status.success(), "{}", stderr(&out));

    // Rows written before kept a token's first characters; a start replaces them.
    let db = dir.0.join("data/edgepub.db");
    let sql = |q: &str| {
        let out = std::process::Command::new("sqlite3")
            .arg(&db)
            .arg(q)
            .output()
            .expect("sqlite3");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    sql(&format!(
        "UPDATE api_tokens SET prefix = '{}'",
        &chosen[..10]
    ));
    let mut server = Server::start(&dir, &env);
    assert!(server.terminate().success());
    let stored = sql("SELECT prefix FROM api_tokens");
    assert!(!stored.contains(&chosen[..6]), "{stored}");
}
