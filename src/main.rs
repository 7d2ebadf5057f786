//! The `mailsink` binary: parses the command line, sets up logging and runs the
//! chosen subcommand from the library.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{CommandFactory, Parser};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tracing_subscriber::EnvFilter;

use mailsink::app::App;
use mailsink::compat_env;
use mailsink::config::{Cli, Command, Config, IngestArgs, LogFormat, ReadyzArgs};
use mailsink::{ingest, sendmail};

fn main() -> ExitCode {
    let warnings = match apply_compat_env() {
        Ok(warnings) => warnings,
        Err(code) => return code,
    };
    if invoked_as_sendmail() {
        let args: Vec<String> = std::env::args().skip(1).collect();
        return sendmail(&args);
    }
    let command = Cli::parse().into_command();
    // The companion commands that need no runtime.
    let command = match command {
        Command::Sendmail(args) => return sendmail(&args.args),
        Command::Ingest(args) => return ingest(args),
        command => command,
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("mailsink: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match command {
            Command::Serve(config) => serve(config, warnings).await,
            Command::Readyz(args) => readyz(args).await,
            Command::Version => {
                println!("mailsink {}", env!("CARGO_PKG_VERSION"));
                Ok(())
            }
            Command::Sendmail(_) | Command::Ingest(_) => unreachable!("handled above"),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("mailsink: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// A link named `sendmail` (e.g. /usr/sbin/sendmail) behaves as `mailsink sendmail`.
fn invoked_as_sendmail() -> bool {
    std::env::args_os()
        .next()
        .map(std::path::PathBuf::from)
        .is_some_and(|p| p.file_name().is_some_and(|n| n == "sendmail"))
}

fn sendmail(args: &[String]) -> ExitCode {
    let server = std::env::var("MAILSINK_SMTP_ADDR").ok();
    let outcome = sendmail::run(args, &mut std::io::stdin().lock(), server.as_deref());
    print!("{}", outcome.stdout);
    eprint!("{}", outcome.stderr);
    ExitCode::from(outcome.status)
}

fn ingest(args: IngestArgs) -> ExitCode {
    let Some(server) = args.smtp_addr.addr() else {
        eprintln!("mailsink ingest: --smtp-addr is off: nowhere to send the messages");
        return ExitCode::from(2);
    };
    let found = ingest::discover(&args.paths);
    let bar = ingest::progress_bar(&found);
    match ingest::import(&found, server, &bar) {
        Ok(report) => {
            print!("{}", report.summary());
            if report.skipped.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(error) => {
            eprintln!("mailsink ingest: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Sets the `MAILSINK_*` variables that Mailpit's and MailHog's variables
/// translate to, before clap reads the environment. Returns what to warn about.
fn apply_compat_env() -> Result<Vec<String>, ExitCode> {
    let translation = match compat_env::from_env(&Cli::command()) {
        Ok(translation) => translation,
        Err(error) => {
            eprintln!("mailsink: {error}");
            return Err(ExitCode::from(2));
        }
    };
    for (name, value) in translation.set {
        // SAFETY: nothing else runs yet (no runtime, no other thread), so no
        // one reads the environment while it changes.
        unsafe { std::env::set_var(name, value) };
    }
    Ok(translation.warnings)
}

async fn serve(config: Config, warnings: Vec<String>) -> anyhow::Result<()> {
    init_tracing(&config.log_level, config.log_format);
    for warning in warnings {
        tracing::warn!("{warning}");
    }
    let signal = shutdown_signal()?;
    let persistent = config.db.is_some();
    let app = App::build(config).await?;
    let addresses = app.addresses();
    for (name, addr) in [
        ("smtp", addresses.smtp),
        ("smtps", addresses.smtps),
        ("pop3", addresses.pop3),
        ("pop3s", addresses.pop3s),
        ("imap", addresses.imap),
        ("imaps", addresses.imaps),
        ("http", addresses.http),
    ] {
        if let Some(addr) = addr {
            tracing::info!(%addr, "{name} listening");
        }
    }
    let db = app.store().path().display().to_string();
    if persistent {
        tracing::info!(%db, "database");
    } else {
        tracing::info!(%db, "temporary database, removed at exit");
    }
    let shutdown = app.shutdown_token();
    tokio::spawn(async move {
        signal.await;
        tracing::info!("shutting down");
        shutdown.cancel();
    });
    app.run().await;
    Ok(())
}

/// Waits for SIGINT or SIGTERM (the latter is what `docker stop` sends to PID 1).
/// The handlers are installed when this is called, not when it is first
/// polled, so a signal that arrives during start-up is not lost.
fn shutdown_signal() -> anyhow::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
    let mut terminate = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

fn init_tracing(filter: &str, format: LogFormat) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// Asks a running instance's `/readyz`; with `--wait`, asks again until it
/// answers 200 or the time runs out.
async fn readyz(args: ReadyzArgs) -> anyhow::Result<()> {
    let Some(wait) = args.wait else {
        return ready_once(&args).await;
    };
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let attempt = tokio::time::timeout_at(deadline, ready_once(&args)).await;
        let error = match attempt {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(error)) => error,
            Err(_) => anyhow::anyhow!("no answer"),
        };
        if tokio::time::Instant::now() + READY_POLL >= deadline {
            bail!(
                "not ready after {}: {error:#}",
                humantime::format_duration(wait)
            );
        }
        tokio::time::sleep(READY_POLL).await;
    }
}

/// How often `readyz --wait` asks.
const READY_POLL: std::time::Duration = std::time::Duration::from_millis(100);

/// One `/readyz` request (a minimal HTTP/1.0 request: no client library is
/// needed for one status line).
async fn ready_once(args: &ReadyzArgs) -> anyhow::Result<()> {
    let check = async {
        let mut stream = tokio::net::TcpStream::connect(args.http_addr)
            .await
            .with_context(|| format!("cannot connect to {}", args.http_addr))?;
        let request = format!(
            "GET /readyz HTTP/1.0\r\nHost: {}\r\nConnection: close\r\n\r\n",
            args.http_addr
        );
        stream.write_all(request.as_bytes()).await?;
        let mut response = Vec::new();
        stream.take(64 * 1024).read_to_end(&mut response).await?;
        let response = String::from_utf8_lossy(&response);
        let status = response.lines().next().unwrap_or_default();
        if status.split_whitespace().nth(1) == Some("200") {
            Ok(())
        } else {
            bail!("not ready: {status}")
        }
    };
    tokio::time::timeout(args.timeout, check)
        .await
        .unwrap_or_else(|_| bail!("no answer within {:?}", args.timeout))
}
