//! The `mailsink` binary as a child process, for what only a real process can
//! show: start-up errors, signals, `kill -9`, files left behind.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_mailsink");

/// A running `mailsink serve` with JSON logs on stderr.
pub struct Process {
    pub child: Child,
    /// `addr` of each "<name> listening" log line, by name ("smtp", "http", …).
    pub listening: HashMap<String, SocketAddr>,
    /// The database path from the start-up log.
    pub db: String,
    lines: mpsc::Receiver<String>,
    startup: Vec<String>,
}

impl Process {
    /// Starts `mailsink serve` with `args` (listeners default to port 0 here)
    /// and waits until it has logged its database and listeners.
    pub fn start(args: &[&str]) -> Self {
        let mut all = vec![
            "serve",
            "--smtp-addr",
            "127.0.0.1:0",
            "--http-addr",
            "127.0.0.1:0",
            "--pop3-addr",
            "127.0.0.1:0",
            "--imap-addr",
            "127.0.0.1:0",
            "--log-format",
            "json",
        ];
        all.extend_from_slice(args);
        Self::spawn(&all, &[])
    }

    /// Starts `mailsink` with exactly `args` and the extra environment `env`
    /// (JSON logs are needed to read the start-up) and waits until it has
    /// logged its database and listeners.
    pub fn spawn(args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(BIN);
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("start mailsink");
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let mut process = Self {
            child,
            listening: HashMap::new(),
            db: String::new(),
            lines,
            startup: Vec::new(),
        };
        process.read_startup();
        process
    }

    /// Log lines read so far during start-up that are not listener or
    /// database lines (warnings, for instance).
    pub fn startup_log(&self) -> &[String] {
        &self.startup
    }

    fn read_startup(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.db.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .expect("mailsink logs its start-up within 20 s");
            let Ok(json) = serde_json::from_str::<serde_json::Value>(&line) else {
                self.startup.push(line);
                continue;
            };
            self.startup.push(line.clone());
            let fields = &json["fields"];
            let message = fields["message"].as_str().unwrap_or_default();
            if let Some(name) = message.strip_suffix(" listening") {
                let addr = fields["addr"].as_str().expect("addr field");
                self.listening
                    .insert(name.to_owned(), addr.parse().expect("a socket address"));
            }
            if let Some(db) = fields["db"].as_str() {
                self.db = db.to_owned();
            }
        }
    }

    pub fn smtp(&self) -> SocketAddr {
        self.listening["smtp"]
    }

    /// Sends a signal by name (e.g. "TERM", "KILL").
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} failed");
    }

    /// Waits for the process to exit, up to `limit`.
    pub fn wait(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "mailsink did not exit within {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `mailsink` with `args` to completion (for options refused at start).
pub fn run_mailsink(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut command = Command::new(BIN);
    command.args(args).stdin(Stdio::null());
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("run mailsink")
}
