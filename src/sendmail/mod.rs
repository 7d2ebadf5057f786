//! `mailsink sendmail`: a sendmail(8) replacement for applications that hand
//! mail to a local program (PHP's `sendmail_path`, cron, `mail(1)`). It reads
//! one message on standard input and submits it over SMTP to a running
//! Mailsink, then exits with sendmail's status codes (sysexits.h), so callers
//! that check them keep working.
//!
//! The server is `-S host:port`, else `MAILSINK_SMTP_ADDR` (the address the
//! server itself listens on, so one variable configures both, in the Docker
//! image too), else 127.0.0.1:1025.

pub mod args;

use std::io::Read;
use std::net::SocketAddr;

pub use args::{Args, USAGE, UsageError};

use crate::config::Listen;
use crate::submit::{self, Submitter};

/// Exit statuses from sysexits.h, as sendmail uses them.
pub mod exit {
    pub const OK: u8 = 0;
    /// A bad command line, or no recipient.
    pub const USAGE: u8 = 64;
    /// A recipient or sender that is not an address.
    pub const NOUSER: u8 = 67;
    /// The server refused the message (5xx).
    pub const UNAVAILABLE: u8 = 69;
    /// Standard input could not be read.
    pub const IOERR: u8 = 74;
    /// The server could not be reached or answered 4xx: try again later.
    pub const TEMPFAIL: u8 = 75;
    /// `MAILSINK_SMTP_ADDR` holds no address.
    pub const CONFIG: u8 = 78;
}

/// How a run ended: the exit status and what to print.
#[derive(Debug, PartialEq, Eq)]
pub struct Outcome {
    pub status: u8,
    /// For standard output (`--help`, `-v`).
    pub stdout: String,
    /// For standard error.
    pub stderr: String,
}

impl Outcome {
    fn fail(status: u8, message: impl std::fmt::Display) -> Self {
        Self {
            status,
            stdout: String::new(),
            stderr: format!("mailsink sendmail: {message}\n"),
        }
    }
}

/// The default server when neither `-S` nor `MAILSINK_SMTP_ADDR` says.
pub const DEFAULT_SERVER: &str = "127.0.0.1:1025";

/// Runs sendmail with `args` (after the program name), reading the message
/// from `input`; `env_server` is `MAILSINK_SMTP_ADDR` when set.
pub fn run(args: &[String], input: &mut dyn Read, env_server: Option<&str>) -> Outcome {
    let args = match Args::parse(args) {
        Ok(args) => args,
        Err(error) => return Outcome::fail(exit::USAGE, format!("{error}\n{USAGE}")),
    };
    if args.help {
        return Outcome {
            status: exit::OK,
            stdout: USAGE.to_owned(),
            stderr: String::new(),
        };
    }
    let server = match server(&args, env_server) {
        Ok(server) => server,
        Err(outcome) => return outcome,
    };
    let mut raw = Vec::new();
    if let Err(error) = input.read_to_end(&mut raw) {
        return Outcome::fail(exit::IOERR, format!("cannot read the message: {error}"));
    }
    if !args.ignore_dots {
        raw = until_lone_dot(&raw).to_vec();
    }
    let mut message = submit::crlf(&raw);
    let mut recipients = args.recipients.clone();
    if args.from_headers {
        for address in submit::header_recipients(&message) {
            if !recipients.iter().any(|r| r.eq_ignore_ascii_case(&address)) {
                recipients.push(address);
            }
        }
        message = submit::remove_bcc(&message);
    }
    if recipients.is_empty() {
        let hint = if args.from_headers {
            "no recipient addresses found in the message header"
        } else {
            "no recipients given (name them, or use -t to read the headers)"
        };
        return Outcome::fail(exit::USAGE, hint);
    }
    let sender = args.sender.clone().unwrap_or_else(default_sender);
    let mut submitter = Submitter::new(server);
    let result = submitter.submit(Some(&sender), &recipients, &message);
    submitter.finish();
    match result {
        Ok(reply) => Outcome {
            status: exit::OK,
            stdout: if args.verbose {
                format!("{reply}\n")
            } else {
                String::new()
            },
            stderr: String::new(),
        },
        Err(error) => {
            let status = match error {
                submit::Error::Connection { .. } | submit::Error::Transient(_) => exit::TEMPFAIL,
                submit::Error::Permanent(_) => exit::UNAVAILABLE,
                submit::Error::Address(_) => exit::NOUSER,
                submit::Error::NoRecipients => exit::USAGE,
            };
            Outcome::fail(status, error)
        }
    }
}

fn server(args: &Args, env_server: Option<&str>) -> Result<SocketAddr, Outcome> {
    if let Some(server) = args.server {
        return Ok(server);
    }
    let Some(text) = env_server else {
        return Ok(DEFAULT_SERVER.parse().expect("the default is an address"));
    };
    match text.parse() {
        Ok(Listen::On(addr)) => Ok(addr),
        _ => Err(Outcome::fail(
            exit::CONFIG,
            format!("MAILSINK_SMTP_ADDR={text:?} is not an address; give -S host:port"),
        )),
    }
}

/// The message up to a line holding a single dot (sendmail without `-i`).
fn until_lone_dot(raw: &[u8]) -> &[u8] {
    let mut start = 0;
    while start < raw.len() {
        let end = memchr::memchr(b'\n', &raw[start..]).map_or(raw.len(), |i| start + i + 1);
        let line = &raw[start..end];
        if matches!(line, b".\n" | b".\r\n" | b".") {
            return &raw[..start];
        }
        start = end;
    }
    raw
}

/// sendmail's default envelope sender: the login name at this host.
fn default_sender() -> String {
    let user = ["LOGNAME", "USER"]
        .iter()
        .find_map(|var| std::env::var(var).ok().filter(|u| !u.is_empty()))
        .unwrap_or_else(|| "nobody".to_owned());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned());
    format!("{user}@{host}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lone_dot_ends_the_message_unless_told_otherwise() {
        assert_eq!(until_lone_dot(b"a\n.\nb\n"), b"a\n");
        assert_eq!(until_lone_dot(b"a\r\n.\r\nb\r\n"), b"a\r\n");
        assert_eq!(until_lone_dot(b"a\n..\n.b\n"), b"a\n..\n.b\n");
        assert_eq!(until_lone_dot(b"a\n."), b"a\n");
    }

    #[test]
    fn usage_errors_exit_64_and_help_exits_0() {
        let out = run(&["-z".to_owned()], &mut &b""[..], None);
        assert_eq!(out.status, exit::USAGE);
        assert!(out.stderr.contains("unknown option -z"), "{}", out.stderr);
        let help = run(&["--help".to_owned()], &mut &b""[..], None);
        assert_eq!(help.status, exit::OK);
        assert!(help.stdout.starts_with("usage: mailsink sendmail"));
    }

    #[test]
    fn no_recipients_is_a_usage_error() {
        let out = run(&["-t".to_owned()], &mut &b"Subject: x\n\nhi\n"[..], None);
        assert_eq!(out.status, exit::USAGE);
        let out = run(&[], &mut &b"To: a@example.com\n\nhi\n"[..], None);
        assert_eq!(out.status, exit::USAGE);
    }

    #[test]
    fn a_bad_server_variable_is_a_configuration_error() {
        let out = run(
            &["a@example.com".to_owned()],
            &mut &b""[..],
            Some("nowhere"),
        );
        assert_eq!(out.status, exit::CONFIG);
        assert!(out.stderr.contains("MAILSINK_SMTP_ADDR"));
    }

    #[test]
    fn default_sender_is_user_at_host() {
        let sender = default_sender();
        assert!(sender.contains('@') && !sender.starts_with('@'), "{sender}");
    }
}
