//! The edgepub binary as a process: a CLI command in a data dir of the test's own, and
//! `Server`, a whole `edgepub serve` (killed on drop).

use super::TempDir;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The edgepub binary cargo built for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_edgepub");

pub fn edgepub(dir: &TempDir, env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(&dir.0)
        .env_remove("DATABASE_URL")
        .env_remove("EDGEPUB_ADMIN_TOKEN")
        .env_remove("EDGEPUB_LISTEN")
        .env("EDGEPUB_DATA_DIR", dir.0.join("data"))
        .env("EDGEPUB_LOG", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}
pub fn run(dir: &TempDir, env: &[(&str, &str)], args: &[&str]) -> Output {
    edgepub(dir, env).args(args).output().expect("run edgepub")
}
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
/// A running `edgepub serve`, killed on drop; stdout lines arrive on `lines`.
pub struct Server {
    pub child: Child,
    pub port: u16,
    pub lines: mpsc::Receiver<String>,
}
impl Server {
    pub fn start(dir: &TempDir, env: &[(&str, &str)]) -> Server {
        Self::start_logging(dir, env, None)
    }

    /// Starts `serve`; with `log`, its stderr (all log lines) goes to that file.
    pub fn start_logging(
        dir: &TempDir,
        env: &[(&str, &str)],
        log: Option<&std::path::Path>,
    ) -> Server {
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let mut cmd = edgepub(dir, env);
        cmd.env("EDGEPUB_LISTEN", &listen)
            .arg("serve")
            .stdout(Stdio::piped());
        if let Some(path) = log {
            cmd.stderr(std::fs::File::create(path).expect("log file"));
        }
        let mut child = cmd.spawn().expect("spawn edgepub serve");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let server = Server { child, port, lines };
        server.wait_ready();
        server
    }

    /// Polls `/healthz` (bounded) until the server answers.
    pub fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) {
                let _ =
                    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                let mut out = String::new();
                if s.read_to_string(&mut out).is_ok() && out.starts_with("HTTP/1.1 200") {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("edgepub did not become ready on port {}", self.port);
    }

    pub fn stdout(&self) -> Vec<String> {
        self.lines.try_iter().collect()
    }

    pub fn get(&self, path: &str, token: &str) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n").unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    /// SIGKILL: no shutdown at all.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
        self.child.wait().unwrap()
    }
}
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
