//! The `mailsink` binary: parses the command line, sets up logging and runs the
//! chosen subcommand from the library.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Parser;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tracing_subscriber::EnvFilter;

use mailsink::app::App;
use mailsink::config::{Cli, Command, Config, LogFormat, ReadyzArgs};

fn main() -> ExitCode {
    let command = Cli::parse().into_command();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("mailsink: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match command {
            Command::Serve(config) => serve(config).await,
            Command::Readyz(args) => readyz(args).await,
            Command::Version => {
                println!("mailsink {}", env!("CARGO_PKG_VERSION"));
                Ok(())
            }
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

async fn serve(config: Config) -> anyhow::Result<()> {
    init_tracing(&config.log_level, config.log_format);
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

/// Asks a running instance's `/readyz` (a minimal HTTP/1.0 request: no client
/// library is needed for one status line).
async fn readyz(args: ReadyzArgs) -> anyhow::Result<()> {
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
