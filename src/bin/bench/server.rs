//! The two servers under load, each a child process that is killed and
//! reaped when its [`Server`] is dropped, error paths included.

use std::fs::{self, File};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail, ensure};
use tokio::time::{Instant, sleep, timeout};

use crate::machine;
use crate::smtp::Connection;

/// How long a server may take to greet after it is started. Mailsink creates
/// its database on start, which is quick, but a loaded machine may be slow.
const STARTUP_LIMIT: Duration = Duration::from_secs(30);
/// Pause between connection attempts while a server starts.
const STARTUP_POLL: Duration = Duration::from_millis(50);
/// Limit for one connect-and-greet attempt.
const GREETING_LIMIT: Duration = Duration::from_secs(5);
/// smtp-sink's listen backlog: well above the 50 sessions of the largest
/// load, so no connection waits for a slot.
const SINK_BACKLOG: &str = "1024";
/// Log lines shown when a server dies.
const LOG_TAIL_LINES: usize = 20;

pub struct Server {
    name: &'static str,
    child: Child,
    addr: SocketAddr,
    /// Mailsink's HTTP listener, when it has one.
    http_addr: Option<SocketAddr>,
    /// Mailsink's POP3 listener, when it has one.
    pop3_addr: Option<SocketAddr>,
    /// Mailsink's IMAP listener, when it has one.
    imap_addr: Option<SocketAddr>,
    log: PathBuf,
    command_line: String,
}

impl Server {
    /// Starts `command` with its output going to `log`.
    fn spawn(
        name: &'static str,
        mut command: Command,
        addr: SocketAddr,
        log: PathBuf,
    ) -> Result<Self> {
        let stdout = File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let stderr = stdout
            .try_clone()
            .context("duplicating the log file handle")?;
        let command_line = describe(&command);
        let child = command
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .with_context(|| format!("starting {name}: {command_line}"))?;
        Ok(Self {
            name,
            child,
            addr,
            http_addr: None,
            pop3_addr: None,
            imap_addr: None,
            log,
            command_line,
        })
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The HTTP listener's address, if the server has one.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http_addr
    }

    /// The POP3 listener's address, if the server has one.
    pub fn pop3_addr(&self) -> Option<SocketAddr> {
        self.pop3_addr
    }

    /// The IMAP listener's address, if the server has one.
    pub fn imap_addr(&self) -> Option<SocketAddr> {
        self.imap_addr
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn command_line(&self) -> &str {
        &self.command_line
    }

    /// Fails, with the end of the server's log, if the server has exited.
    pub fn ensure_running(&mut self) -> Result<()> {
        let exited = self
            .child
            .try_wait()
            .with_context(|| format!("checking on {}", self.name))?;
        match exited {
            None => Ok(()),
            Some(status) => bail!(
                "{} exited ({status}); the end of its output:\n{}",
                self.name,
                log_tail(&self.log)
            ),
        }
    }

    /// Returns once the server answers a connection with a 220 greeting.
    async fn wait_until_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + STARTUP_LIMIT;
        loop {
            self.ensure_running()?;
            let attempt = match timeout(GREETING_LIMIT, greet(self.addr)).await {
                Ok(result) => result,
                Err(_) => Err(anyhow!("no greeting within {GREETING_LIMIT:?}")),
            };
            let Err(error) = attempt else {
                return Ok(());
            };
            ensure!(
                Instant::now() < deadline,
                "{} did not greet on {} within {STARTUP_LIMIT:?}: {error:#}",
                self.name,
                self.addr
            );
            sleep(STARTUP_POLL).await;
        }
    }

    /// The extension keywords the server announces in its EHLO reply.
    pub async fn ehlo_keywords(&self) -> Result<Vec<String>> {
        let session = async {
            let (mut conn, _greeting) = Connection::open(self.addr).await?;
            let reply = conn.ehlo().await?;
            conn.quit().await;
            Ok::<_, anyhow::Error>(reply.ehlo_keywords())
        };
        timeout(GREETING_LIMIT, session)
            .await
            .map_err(|_| anyhow!("no EHLO reply within {GREETING_LIMIT:?}"))?
            .with_context(|| format!("asking {} for its extensions", self.name))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Errors are ignored: the process may already be gone, and there is
        // nothing better to do with a failure while cleaning up.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts Mailsink on a free loopback port with a fresh database in `dir`,
/// without its HTTP and POP3 listeners.
pub async fn start_mailsink(binary: &Path, dir: &Path) -> Result<Server> {
    mailsink(binary, dir, Listeners::default()).await
}

/// Starts Mailsink as [`start_mailsink`] does, with its HTTP listener on
/// another free loopback port ([`Server::http_addr`]). Returns once SMTP
/// greets; the HTTP listener may take a moment longer.
pub async fn start_mailsink_with_http(binary: &Path, dir: &Path) -> Result<Server> {
    let listeners = Listeners {
        http: true,
        ..Listeners::default()
    };
    mailsink(binary, dir, listeners).await
}

/// Starts Mailsink as [`start_mailsink`] does, with its POP3 listener on
/// another free loopback port ([`Server::pop3_addr`]). Returns once SMTP
/// greets.
pub async fn start_mailsink_with_pop3(binary: &Path, dir: &Path) -> Result<Server> {
    let listeners = Listeners {
        pop3: true,
        ..Listeners::default()
    };
    mailsink(binary, dir, listeners).await
}

/// Starts Mailsink as [`start_mailsink`] does, with its IMAP listener on
/// another free loopback port ([`Server::imap_addr`]). Returns once SMTP
/// greets.
pub async fn start_mailsink_with_imap(binary: &Path, dir: &Path) -> Result<Server> {
    let listeners = Listeners {
        imap: true,
        ..Listeners::default()
    };
    mailsink(binary, dir, listeners).await
}

/// The listeners besides SMTP a benchmark needs.
#[derive(Debug, Default, Clone, Copy)]
struct Listeners {
    http: bool,
    pop3: bool,
    imap: bool,
}

/// Starts Mailsink. Listeners not asked for are turned off, so that the
/// benchmark never collides with their default ports (POP3's is 1110,
/// IMAP's 1143).
async fn mailsink(binary: &Path, dir: &Path, listeners: Listeners) -> Result<Server> {
    let addr = free_loopback_addr()?;
    let free_if = |on: bool| on.then(free_loopback_addr).transpose();
    let http_addr = free_if(listeners.http)?;
    let pop3_addr = free_if(listeners.pop3)?;
    let imap_addr = free_if(listeners.imap)?;
    let listen =
        |addr: Option<SocketAddr>| addr.map_or_else(|| "off".to_owned(), |a| a.to_string());
    let mut command = Command::new(binary);
    // Mailsink reads its settings from MAILSINK_* variables too; clearing
    // them keeps one developer's environment (say, required SMTP AUTH or
    // full fsync) out of the figures.
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("MAILSINK_") {
            command.env_remove(name);
        }
    }
    command
        .arg("serve")
        .arg("--smtp-addr")
        .arg(addr.to_string())
        .arg("--http-addr")
        .arg(listen(http_addr))
        .arg("--pop3-addr")
        .arg(listen(pop3_addr))
        .arg("--imap-addr")
        .arg(listen(imap_addr))
        .arg("--db")
        .arg(dir.join("bench.db"))
        .args(["--log-level", "warn"]);
    let mut server = Server::spawn("Mailsink", command, addr, dir.join("mailsink.log"))?;
    server.http_addr = http_addr;
    server.pop3_addr = pop3_addr;
    server.imap_addr = imap_addr;
    server.wait_until_ready().await?;
    Ok(server)
}

/// Starts Postfix's smtp-sink, which accepts mail and discards it, on a free
/// loopback port.
pub async fn start_smtp_sink(binary: &Path, dir: &Path) -> Result<Server> {
    let addr = free_loopback_addr()?;
    let mut command = Command::new(binary);
    // smtp-sink refuses to run as root unless told which user to become;
    // staying root keeps it running as the current user, as when not root.
    if machine::effective_uid()? == 0 {
        command.args(["-u", "root"]);
    }
    command.arg(addr.to_string()).arg(SINK_BACKLOG);
    let mut server = Server::spawn("smtp-sink", command, addr, dir.join("smtp-sink.log"))?;
    server.wait_until_ready().await?;
    Ok(server)
}

/// A loopback address with a port that was free a moment ago: the kernel
/// picks it for a listener that is closed at once. Another process could
/// take it before the server binds; the server then fails to start and the
/// benchmark says so.
fn free_loopback_addr() -> Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free loopback port")?;
    listener.local_addr().context("reading the free port")
}

/// Connects, expects a 220 greeting, and says QUIT.
async fn greet(addr: SocketAddr) -> Result<()> {
    let (conn, greeting) = Connection::open(addr).await?;
    ensure!(greeting.code == 220, "greeted with {greeting}");
    conn.quit().await;
    Ok(())
}

/// The command as a shell-like line, for the report and error messages.
fn describe(command: &Command) -> String {
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|part| part.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The last lines of a log file, or why it could not be read.
fn log_tail(path: &Path) -> String {
    match fs::read_to_string(path) {
        Ok(text) if text.trim().is_empty() => "(none)".to_owned(),
        Ok(text) => {
            let lines: Vec<&str> = text.lines().collect();
            let start = lines.len().saturating_sub(LOG_TAIL_LINES);
            lines[start..].join("\n")
        }
        Err(error) => format!("(could not read it: {error})"),
    }
}
