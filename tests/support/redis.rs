//! A real `redis-server` for tests: started on a free loopback port without persistence,
//! stopped (killed) when dropped, and restartable on the same port.
//!
//! Shared by the tests and `benches/store.rs`, which use different parts of it.
#![allow(dead_code)]

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `redis-server` child process on 127.0.0.1.
pub struct RedisServer {
    port: u16,
    child: Option<Child>,
    /// Further command-line arguments (a `maxmemory-policy`, TLS files).
    args: Vec<String>,
    tls: bool,
}

impl RedisServer {
    /// Starts one on a free port, or `None` (with a message saying why the test skips) when
    /// `redis-server` is not installed.
    pub fn start() -> Option<RedisServer> {
        Self::start_with(&[])
    }

    /// Like [`start`](Self::start), with further `redis-server` arguments.
    pub fn start_with(args: &[&str]) -> Option<RedisServer> {
        Self::launch(args, false)
    }

    /// A server that speaks only TLS, with this certificate and key (PEM files): its URL is
    /// `rediss://localhost:<port>/`.
    pub fn start_tls(cert_file: &str, key_file: &str) -> Option<RedisServer> {
        Self::launch(
            &[
                "--tls-cert-file",
                cert_file,
                "--tls-key-file",
                key_file,
                "--tls-auth-clients",
                "no",
            ],
            true,
        )
    }

    fn launch(args: &[&str], tls: bool) -> Option<RedisServer> {
        let installed = Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !installed {
            eprintln!(
                "SKIPPED: redis-server is not installed (apt-get install redis-server); \
                 .ci/run installs it"
            );
            return None;
        }
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut server = RedisServer {
            port,
            child: None,
            args: args.iter().map(|a| a.to_string()).collect(),
            tls,
        };
        server.restart();
        Some(server)
    }

    /// `redis://127.0.0.1:<port>/`, or `rediss://localhost:<port>/` for a TLS server.
    pub fn url(&self) -> String {
        if self.tls {
            format!("rediss://localhost:{}/", self.port)
        } else {
            format!("redis://127.0.0.1:{}/", self.port)
        }
    }

    /// Kills the server (its data is gone: no persistence).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port (after [`stop`](Self::stop)), and waits until
    /// it accepts connections.
    pub fn restart(&mut self) {
        self.stop();
        let port = self.port.to_string();
        let ports = if self.tls {
            ["--port", "0", "--tls-port", &port]
        } else {
            ["--port", &port, "--tls-port", "0"]
        };
        let child = Command::new("redis-server")
            .args(ports)
            .args(&self.args)
            .args(["--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}
