//! The README's quickstart and token examples, run as a new user would paste them: the blocks
//! are read from README.md, so a change that breaks them fails here.
//!
//! Only three things differ from a paste: the build line puts the test's own binary on the
//! PATH instead of building a release, the port is a free one instead of 8080, and the
//! background server is stopped when the script ends.

use crate::support::cli::free_port;
use crate::support::{Backend, PgDb, TempDir};
use std::process::Command;

const README: &str = include_str!("../../README.md");

/// The first ```sh block after the `<!-- marker -->` line.
fn block(marker: &str) -> String {
    let start = README
        .find(&format!("<!-- {marker} -->"))
        .unwrap_or_else(|| panic!("README.md has no `<!-- {marker} -->` block"));
    let rest = &README[start..];
    let open = rest
        .find("```sh\n")
        .expect("a ```sh block follows the marker")
        + 6;
    let len = rest[open..].find("\n```").expect("the block is closed");
    rest[open..open + len].to_string()
}

fn script(port: u16) -> String {
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_edgepub"))
        .parent()
        .expect("the binary has a directory")
        .display()
        .to_string();
    let pasted = format!("{}\n{}\n", block("quickstart"), block("tokens"));
    let body: Vec<String> = pasted
        .lines()
        .map(|line| {
            if line.starts_with("cargo build") {
                format!("export PATH=\"{bin_dir}:$PATH\"")
            } else {
                line.replace("localhost:8080", &format!("127.0.0.1:{port}"))
            }
        })
        .collect();
    format!(
        "set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n{}\n",
        body.join("\n")
    )
}

async fn readme_quickstart_runs(backend: Backend) {
    let pg = match backend {
        Backend::Postgres => Some(PgDb::create().await),
        Backend::Sqlite => None,
    };
    let dir = TempDir::new();
    let port = free_port();
    let mut cmd = Command::new("timeout");
    cmd.args(["120", "bash", "-c", &script(port)])
        .current_dir(&dir.0)
        .env("EDGEPUB_LISTEN", format!("127.0.0.1:{port}"))
        .env("EDGEPUB_LOG", "warn");
    for var in [
        "DATABASE_URL",
        "EDGEPUB_ADMIN_TOKEN",
        "EDGEPUB_DATA_DIR",
        "EDGEPUB_PAGES_ROOT",
        "EDGEPUB_CONFIG",
    ] {
        cmd.env_remove(var);
    }
    if let Some(db) = &pg {
        cmd.env("DATABASE_URL", &db.url);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("run bash"))
        .await
        .expect("join");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let context = format!("stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(out.status.success(), "the README block failed\n{context}");
    assert!(
        stdout.contains(r#""slug":"my-site""#) && stdout.contains(r#""site_dir":"my-site""#),
        "the project's body shows its site_dir\n{context}"
    );
    assert!(
        stdout.lines().any(|l| l == "home|1|1"),
        "pages.db holds the published homepage\n{context}"
    );
    assert!(
        stdout.contains(&format!(
            "PAGES_DB_URL=file:{}/data/sites/my-site/pages.db",
            dir.0.display()
        )),
        "{context}"
    );
    assert!(
        !stdout.contains(r#""error""#),
        "no request of the README was refused\n{context}"
    );
    // The token examples ran after the quickstart: the CLI one and the API one.
    assert!(
        stdout.lines().any(|l| l.starts_with("ep_"))
            && stdout.contains(r#""name":"ci""#)
            && stderr.contains("revoked token `ci`"),
        "{context}"
    );
}

crate::both_backends!(readme_quickstart_runs);
