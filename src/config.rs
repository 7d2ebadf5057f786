//! The command line. Every option is a long flag and a `MAILSINK_*` environment
//! variable; values are checked here so a bad one is refused at start with a
//! message naming the option.

use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::auth::Credentials;

/// A fake mail server for developers and CI: catches mail over SMTP and keeps
/// it in SQLite for people and tests to read.
#[derive(Debug, Parser)]
#[command(name = "mailsink", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Options of `serve`, which runs when no subcommand is given.
    #[command(flatten)]
    pub serve: Config,
}

impl Cli {
    /// The subcommand to run, `serve` when none was given.
    pub fn into_command(self) -> Command {
        self.command.unwrap_or(Command::Serve(self.serve))
    }
}

/// What the binary does.
#[derive(Debug, Subcommand)]
// One value per process: boxing the large variant would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Run the server (the default).
    Serve(Config),
    /// Exit 0 when a running instance answers on its HTTP address.
    Readyz(ReadyzArgs),
    /// Read a message on standard input and submit it to a running instance
    /// over SMTP (sendmail(8) compatible: -t, -i, -f, -S host:port; see --help).
    #[command(disable_help_flag = true)]
    Sendmail(SendmailArgs),
    /// Import .eml files, mbox files and Maildir folders into a running instance over SMTP.
    Ingest(IngestArgs),
    /// Print the version.
    Version,
}

/// Options of `readyz`.
#[derive(Debug, Args)]
pub struct ReadyzArgs {
    /// HTTP address of the running instance.
    #[arg(long, env = "MAILSINK_HTTP_ADDR", default_value = "127.0.0.1:8025", value_parser = parse_socket_addr)]
    pub http_addr: SocketAddr,
    /// How long to wait for an answer.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Keep asking until the instance is ready or this much time has passed
    /// (30s when no duration is given).
    #[arg(long, value_name = "DURATION", num_args = 0..=1, default_missing_value = "30s",
          value_parser = parse_duration)]
    pub wait: Option<Duration>,
}

/// Options of `sendmail`, parsed as sendmail(8) parses them.
#[derive(Debug, Args)]
pub struct SendmailArgs {
    /// sendmail's options and the recipients.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
    pub args: Vec<String>,
}

/// Options of `ingest`.
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// SMTP address of the running instance.
    #[arg(
        long,
        short = 'S',
        env = "MAILSINK_SMTP_ADDR",
        default_value = "127.0.0.1:1025"
    )]
    pub smtp_addr: Listen,
    /// Files and folders to import: .eml files, mbox files, Maildir folders.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

/// Everything `serve` can be told.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// SMTP listener address, or "off".
    #[arg(long, env = "MAILSINK_SMTP_ADDR", default_value = "127.0.0.1:1025")]
    pub smtp_addr: Listen,
    /// Implicit-TLS SMTP listener address (conventionally port 1465), or "off".
    #[arg(long, env = "MAILSINK_SMTPS_ADDR", default_value = "off")]
    pub smtps_addr: Listen,
    /// POP3 listener address, or "off".
    #[arg(long, env = "MAILSINK_POP3_ADDR", default_value = "127.0.0.1:1110")]
    pub pop3_addr: Listen,
    /// Implicit-TLS POP3 listener address (conventionally port 1995), or "off".
    #[arg(long, env = "MAILSINK_POP3S_ADDR", default_value = "off")]
    pub pop3s_addr: Listen,
    /// Require these POP3 credentials: "user:pass[,user:pass…]". Without it any
    /// login is accepted.
    #[arg(long, env = "MAILSINK_POP3_AUTH", conflicts_with = "pop3_auth_file")]
    pub pop3_auth: Option<Credentials>,
    /// Require the POP3 credentials in the "user:pass" lines of this file.
    #[arg(long, env = "MAILSINK_POP3_AUTH_FILE")]
    pub pop3_auth_file: Option<PathBuf>,
    /// Close a POP3 session that sends nothing for this long (RFC 1939: at least 10 minutes).
    #[arg(long, env = "MAILSINK_POP3_IDLE_TIMEOUT", default_value = "10m", value_parser = parse_duration)]
    pub pop3_idle_timeout: Duration,
    /// IMAP listener address, or "off".
    #[arg(long, env = "MAILSINK_IMAP_ADDR", default_value = "127.0.0.1:1143")]
    pub imap_addr: Listen,
    /// Implicit-TLS IMAP listener address (conventionally port 1993), or "off".
    #[arg(long, env = "MAILSINK_IMAPS_ADDR", default_value = "off")]
    pub imaps_addr: Listen,
    /// Require these IMAP credentials: "user:pass[,user:pass…]". Without it any
    /// login is accepted.
    #[arg(long, env = "MAILSINK_IMAP_AUTH", conflicts_with = "imap_auth_file")]
    pub imap_auth: Option<Credentials>,
    /// Require the IMAP credentials in the "user:pass" lines of this file.
    #[arg(long, env = "MAILSINK_IMAP_AUTH_FILE")]
    pub imap_auth_file: Option<PathBuf>,
    /// Log out an IMAP session that sends nothing for this long (RFC 3501: at least 30 minutes).
    #[arg(long, env = "MAILSINK_IMAP_IDLE_TIMEOUT", default_value = "30m", value_parser = parse_duration)]
    pub imap_idle_timeout: Duration,
    /// HTTP listener address (web UI and API), or "off".
    #[arg(long, env = "MAILSINK_HTTP_ADDR", default_value = "127.0.0.1:8025")]
    pub http_addr: Listen,
    /// Ask for HTTP basic auth with "user:pass[,user:pass…]" on every web UI and API
    /// route (the health checks /livez and /readyz stay open).
    #[arg(long, env = "MAILSINK_UI_AUTH")]
    pub ui_auth: Option<crate::web::BasicAuth>,
    /// Name the server gives itself in greetings, trace headers and the generated certificate.
    #[arg(long, env = "MAILSINK_HOSTNAME", default_value = "mailsink", value_parser = parse_hostname)]
    pub hostname: String,
    /// TLS certificate chain (PEM). Without it a self-signed certificate is generated at start.
    #[arg(long, env = "MAILSINK_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM), with --tls-cert.
    #[arg(long, env = "MAILSINK_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// SQLite database file. Without it a temporary database is used and removed at exit.
    #[arg(long, env = "MAILSINK_DB")]
    pub db: Option<PathBuf>,
    /// When a commit is durable: "normal" survives a crash of the process, "full" also a
    /// power loss (an fsync per commit group).
    #[arg(long, env = "MAILSINK_DB_SYNC", value_enum, default_value_t = DbSync::Normal)]
    pub db_sync: DbSync,
    /// Keep at most this many messages, pruning the oldest (off when not set).
    #[arg(long, env = "MAILSINK_MAX_MESSAGES", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_messages: Option<u64>,
    /// Prune messages older than this, e.g. "36h" or "7d" (off when not set).
    #[arg(long, env = "MAILSINK_MAX_AGE", value_parser = parse_duration)]
    pub max_age: Option<Duration>,
    /// Require SMTP AUTH with these credentials: "user:pass[,user:pass…]". Without it any
    /// credentials are accepted and AUTH is optional.
    #[arg(long, env = "MAILSINK_SMTP_AUTH", conflicts_with = "smtp_auth_file")]
    pub smtp_auth: Option<Credentials>,
    /// Require SMTP AUTH with the "user:pass" lines of this file.
    #[arg(long, env = "MAILSINK_SMTP_AUTH_FILE")]
    pub smtp_auth_file: Option<PathBuf>,
    /// Largest message accepted, e.g. "50MB", "512KB" or a number of bytes.
    #[arg(long, env = "MAILSINK_MAX_MESSAGE_SIZE", default_value = "50MB")]
    pub max_message_size: ByteSize,
    /// Most recipients accepted in one SMTP transaction.
    #[arg(long, env = "MAILSINK_SMTP_MAX_RECIPIENTS", default_value_t = 1000,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub smtp_max_recipients: u32,
    /// Longest SMTP command line accepted, in octets including CRLF (RFC 5321 §4.5.3.1.4).
    #[arg(long, env = "MAILSINK_SMTP_MAX_LINE_LENGTH", default_value_t = 512,
          value_parser = clap::value_parser!(u32).range(64..=65536))]
    pub smtp_max_line_length: u32,
    /// Close an SMTP session that sends nothing for this long.
    #[arg(long, env = "MAILSINK_SMTP_IDLE_TIMEOUT", default_value = "5m", value_parser = parse_duration)]
    pub smtp_idle_timeout: Duration,
    /// Most SMTP sessions served at once; more are answered 421.
    #[arg(long, env = "MAILSINK_SMTP_MAX_CONNECTIONS", default_value_t = 1000,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub smtp_max_connections: u32,
    /// Log filter: a level (error, warn, info, debug, trace) or a tracing directive list.
    #[arg(long, env = "MAILSINK_LOG_LEVEL", default_value = "info", value_parser = parse_log_level)]
    pub log_level: String,
    /// Log line format.
    #[arg(long, env = "MAILSINK_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

impl Config {
    /// The configuration `serve` uses with no options at all.
    pub fn defaults() -> Self {
        let cli = Cli::try_parse_from(["mailsink"]).expect("the defaults parse");
        cli.serve
    }

    /// The SMTP credentials, read from --smtp-auth or --smtp-auth-file.
    pub fn smtp_credentials(&self) -> Result<Credentials, crate::auth::CredentialsError> {
        credentials(&self.smtp_auth, &self.smtp_auth_file)
    }

    /// The POP3 credentials, read from --pop3-auth or --pop3-auth-file.
    pub fn pop3_credentials(&self) -> Result<Credentials, crate::auth::CredentialsError> {
        credentials(&self.pop3_auth, &self.pop3_auth_file)
    }
}

impl Config {
    /// The IMAP credentials, read from --imap-auth or --imap-auth-file.
    pub fn imap_credentials(&self) -> Result<Credentials, crate::auth::CredentialsError> {
        credentials(&self.imap_auth, &self.imap_auth_file)
    }
}

fn credentials(
    list: &Option<Credentials>,
    file: &Option<PathBuf>,
) -> Result<Credentials, crate::auth::CredentialsError> {
    match (list, file) {
        (Some(credentials), _) => Ok(credentials.clone()),
        (None, Some(path)) => Credentials::from_file(path),
        (None, None) => Ok(Credentials::AcceptAny),
    }
}

/// A listener address, or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listen {
    Off,
    On(SocketAddr),
}

impl Listen {
    /// The address to bind, if the listener is on.
    pub fn addr(self) -> Option<SocketAddr> {
        match self {
            Self::Off => None,
            Self::On(addr) => Some(addr),
        }
    }
}

impl FromStr for Listen {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("off") {
            return Ok(Self::Off);
        }
        parse_socket_addr(s).map(Self::On)
    }
}

impl fmt::Display for Listen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Off => f.write_str("off"),
            Self::On(addr) => addr.fmt(f),
        }
    }
}

/// `host:port`; a name is resolved once at start, ":port" means all interfaces.
fn parse_socket_addr(s: &str) -> Result<SocketAddr, String> {
    let s = s.trim();
    let full = if s.starts_with(':') {
        format!("0.0.0.0{s}")
    } else {
        s.to_owned()
    };
    if let Ok(addr) = full.parse() {
        return Ok(addr);
    }
    full.to_socket_addrs()
        .map_err(|e| format!("expected host:port or \"off\" ({e})"))?
        .next()
        .ok_or_else(|| "the name resolves to no address".to_owned())
}

/// A size in bytes, written as a number with an optional K/KB/M/MB/G/GB suffix (powers of 1024).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSize(pub u64);

impl FromStr for ByteSize {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let (digits, unit) = s.split_at(split);
        let number: u64 = digits
            .parse()
            .map_err(|_| format!("expected a size such as 50MB, got {s:?}"))?;
        let multiplier: u64 = match unit.trim().to_ascii_uppercase().as_str() {
            "" | "B" => 1,
            "K" | "KB" | "KIB" => 1 << 10,
            "M" | "MB" | "MIB" => 1 << 20,
            "G" | "GB" | "GIB" => 1 << 30,
            other => return Err(format!("unknown size unit {other:?} (use B, KB, MB or GB)")),
        };
        let bytes = number
            .checked_mul(multiplier)
            .ok_or_else(|| format!("{s} is too large"))?;
        if bytes == 0 {
            return Err("the size must be greater than zero".to_owned());
        }
        Ok(Self(bytes))
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// How much a commit waits for the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DbSync {
    Normal,
    Full,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s.trim())
        .map_err(|e| format!("expected a duration such as 30s, 5m, 36h or 7d ({e})"))?;
    if d.is_zero() {
        return Err("the duration must be greater than zero".to_owned());
    }
    Ok(d)
}

fn parse_hostname(s: &str) -> Result<String, String> {
    let valid = !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if valid {
        Ok(s.to_owned())
    } else {
        Err(format!("{s:?} is not a valid host name"))
    }
}

fn parse_log_level(s: &str) -> Result<String, String> {
    tracing_subscriber::EnvFilter::try_new(s)
        .map(|_| s.to_owned())
        .map_err(|e| format!("not a log level or filter ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_spec() {
        let c = Config::defaults();
        assert_eq!(c.smtp_addr.to_string(), "127.0.0.1:1025");
        assert_eq!(c.http_addr.to_string(), "127.0.0.1:8025");
        assert_eq!(c.smtps_addr, Listen::Off);
        assert_eq!(c.pop3_addr.to_string(), "127.0.0.1:1110");
        assert_eq!(c.pop3s_addr, Listen::Off);
        assert_eq!(c.pop3_idle_timeout, Duration::from_secs(600));
        assert_eq!(c.imap_addr.to_string(), "127.0.0.1:1143");
        assert_eq!(c.imaps_addr, Listen::Off);
        assert_eq!(c.imap_idle_timeout, Duration::from_secs(1800));
        assert_eq!(c.max_message_size, ByteSize(50 << 20));
        assert_eq!(c.smtp_max_recipients, 1000);
        assert_eq!(c.smtp_max_line_length, 512);
        assert_eq!(c.smtp_idle_timeout, Duration::from_secs(300));
        assert_eq!(c.smtp_max_connections, 1000);
        assert_eq!(c.max_messages, None);
        assert_eq!(c.max_age, None);
    }

    #[test]
    fn sizes() {
        assert_eq!("1024".parse(), Ok(ByteSize(1024)));
        assert_eq!("2kb".parse(), Ok(ByteSize(2048)));
        assert_eq!("50MB".parse(), Ok(ByteSize(50 << 20)));
        assert!("0".parse::<ByteSize>().is_err());
        assert!("12XB".parse::<ByteSize>().is_err());
        assert!("MB".parse::<ByteSize>().is_err());
        assert!("99999999999999999999G".parse::<ByteSize>().is_err());
    }

    #[test]
    fn listen_addresses() {
        assert_eq!("off".parse(), Ok(Listen::Off));
        assert_eq!(
            ":2525".parse::<Listen>().map(|l| l.to_string()),
            Ok("0.0.0.0:2525".to_owned())
        );
        assert!("127.0.0.1".parse::<Listen>().is_err());
        assert!("127.0.0.1:99999".parse::<Listen>().is_err());
    }

    #[test]
    fn hostnames() {
        assert!(parse_hostname("mail.example.com").is_ok());
        assert!(parse_hostname("bad host").is_err());
        assert!(parse_hostname("a..b").is_err());
    }
}
