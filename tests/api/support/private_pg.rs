//! A Postgres server of a test's own (initdb into a temp dir, its own port and socket
//! directory), so an outage test can stop and start it without disturbing the cluster every
//! other test shares.

use crate::support::TempDir;
use std::path::PathBuf;
use std::process::{Command, Stdio};

pub struct PrivatePg {
    bin: PathBuf,
    dir: TempDir,
    pub port: u16,
    pub url: String,
}

/// The server binaries: `EDGEPUB_TEST_PG_BIN`, else the newest `/usr/lib/postgresql/*/bin`.
fn bin_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("EDGEPUB_TEST_PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL server binaries (run scripts/test.sh)")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|b| b.join("initdb").exists())
        .collect();
    found.sort();
    found.pop().expect("initdb under /usr/lib/postgresql/*/bin")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

/// Runs a server binary, as the `postgres` user when the tests run as root (Postgres refuses
/// to run as root).
fn run(bin: &std::path::Path, args: &[&str]) -> std::process::Output {
    let mut cmd = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin);
        c
    } else {
        Command::new(bin)
    };
    cmd.args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", bin.display()))
}

impl PrivatePg {
    pub fn start() -> PrivatePg {
        let bin = bin_dir();
        let dir = TempDir::new();
        if is_root() {
            let status = Command::new("chown")
                .args(["postgres:postgres", &dir.0.display().to_string()])
                .status()
                .expect("chown");
            assert!(status.success(), "chown the data directory to postgres");
        }
        let data = dir.0.join("data");
        let out = run(
            &bin.join("initdb"),
            &[
                "-D",
                &data.display().to_string(),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
            ],
        );
        assert!(out.status.success(), "initdb: {out:?}");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("free port")
            .local_addr()
            .expect("port")
            .port();
        let pg = PrivatePg {
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            bin,
            dir,
            port,
        };
        pg.up();
        pg
    }

    fn ctl(&self, args: &[&str]) -> std::process::Output {
        let data = self.dir.0.join("data").display().to_string();
        let mut all = vec!["-D", data.as_str()];
        all.extend_from_slice(args);
        run(&self.bin.join("pg_ctl"), &all)
    }

    /// Starts the server and waits until it accepts connections.
    pub fn up(&self) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.0.display()
        );
        let log = self.dir.0.join("log").display().to_string();
        let out = self.ctl(&["-w", "-t", "30", "-l", &log, "-o", &opts, "start"]);
        assert!(out.status.success(), "pg_ctl start: {out:?}");
    }

    /// Stops the server the way a restart or failover does: clients are cut off mid-query.
    pub fn down(&self) {
        let out = self.ctl(&["-w", "-m", "fast", "stop"]);
        assert!(out.status.success(), "pg_ctl stop: {out:?}");
    }
}

impl Drop for PrivatePg {
    fn drop(&mut self) {
        let _ = self.ctl(&["-m", "immediate", "stop"]);
    }
}
