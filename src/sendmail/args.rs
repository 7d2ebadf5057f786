//! sendmail(8)'s command line, parsed getopt-style as sendmail and Postfix
//! do: clustered flags (`-ti`), values attached or separate (`-fme@x`,
//! `-f me@x`), `-o` options (`-oi`, `-odi`, `-oem`), and `--` before the
//! recipients. Options that only tune a real MTA's queue or logging are
//! accepted and ignored; modes Mailsink cannot provide are refused.

use std::net::SocketAddr;

use crate::config::Listen;

/// What a sendmail invocation asks for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Args {
    /// `-t`: take recipients from the To, Cc and Bcc headers.
    pub from_headers: bool,
    /// `-i` / `-oi`: a line holding a single dot does not end the message.
    pub ignore_dots: bool,
    /// `-f` / `-r`: the envelope sender.
    pub sender: Option<String>,
    /// `-S host:port`: the Mailsink to submit to.
    pub server: Option<SocketAddr>,
    /// `-v`: print the server's reply.
    pub verbose: bool,
    /// Recipients given as arguments.
    pub recipients: Vec<String>,
    /// `--help`.
    pub help: bool,
}

/// A command line that cannot be followed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UsageError {
    #[error("unknown option -{0}")]
    Unknown(char),
    #[error("option -{0} needs a value")]
    MissingValue(char),
    #[error("-b{0}: only -bm (read a message and send it) is supported")]
    Mode(String),
    #[error("-q: Mailsink has no queue to run")]
    Queue,
    #[error("-S {0:?}: expected host:port")]
    Server(String),
}

/// Flags that take a value and are ignored: -F full name, -N DSN notify,
/// -R DSN return, -V envelope id, -B body type, -L syslog tag, -X log file,
/// -C config file, -h hop count, -O option=value, -A submit/mta.
const IGNORED_WITH_VALUE: &str = "FNRVBLXChOA";
/// Flags without a value that are ignored: -m (me too), -n (no aliasing),
/// -U (initial submission), -G (gateway).
const IGNORED_FLAGS: &str = "mnUG";

/// Usage text for `mailsink sendmail --help`.
pub const USAGE: &str = "\
usage: mailsink sendmail [-t] [-i] [-f sender] [-S host:port] [-v] [--] [recipient...]

Reads a message on standard input and submits it over SMTP to a running Mailsink
(-S, else MAILSINK_SMTP_ADDR, else 127.0.0.1:1025).
  -t            recipients from the To, Cc and Bcc headers (Bcc is removed)
  -i, -oi       a line with a single dot does not end the message
  -f, -r ADDR   envelope sender (default: user@host)
  -S HOST:PORT  the Mailsink SMTP address
  -v            print the server's reply
Accepted and ignored: -bm -F -N -R -V -B -L -X -C -h -O -A -m -n -U -G and -o options.
";

impl Args {
    /// Parses the arguments after the program name.
    pub fn parse<I, S>(args: I) -> Result<Self, UsageError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let args: Vec<String> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
        let mut out = Self::default();
        let mut i = 0;
        while i < args.len() {
            let arg = &args[i];
            i += 1;
            if arg == "--" {
                out.recipients.extend(args[i..].iter().cloned());
                break;
            }
            if arg == "--help" {
                out.help = true;
                continue;
            }
            let Some(cluster) = arg.strip_prefix('-').filter(|c| !c.is_empty()) else {
                out.recipients.push(arg.clone());
                continue;
            };
            for (at, flag) in cluster.char_indices() {
                let attached = &cluster[at + flag.len_utf8()..];
                match flag {
                    't' => out.from_headers = true,
                    'i' => out.ignore_dots = true,
                    'v' => out.verbose = true,
                    'q' => return Err(UsageError::Queue),
                    c if IGNORED_FLAGS.contains(c) => {}
                    'o' => {
                        // -oX[value]: sendmail's configuration options; only
                        // -oi changes how the message is read.
                        if attached == "i" {
                            out.ignore_dots = true;
                        }
                        break;
                    }
                    'b' => {
                        if attached != "m" {
                            return Err(UsageError::Mode(attached.to_owned()));
                        }
                        break;
                    }
                    'f' | 'r' | 'S' => {
                        let value = take_value(flag, attached, &args, &mut i)?;
                        match flag {
                            'S' => {
                                out.server = match value.parse() {
                                    Ok(Listen::On(addr)) => Some(addr),
                                    _ => return Err(UsageError::Server(value)),
                                };
                            }
                            _ => out.sender = Some(value),
                        }
                        break;
                    }
                    c if IGNORED_WITH_VALUE.contains(c) => {
                        take_value(flag, attached, &args, &mut i)?;
                        break;
                    }
                    c => return Err(UsageError::Unknown(c)),
                }
            }
        }
        Ok(out)
    }
}

fn take_value(
    flag: char,
    attached: &str,
    args: &[String],
    i: &mut usize,
) -> Result<String, UsageError> {
    if !attached.is_empty() {
        return Ok(attached.to_owned());
    }
    let value = args.get(*i).ok_or(UsageError::MissingValue(flag))?;
    *i += 1;
    Ok(value.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, UsageError> {
        Args::parse(args)
    }

    #[test]
    fn php_invocation() {
        let args = parse(&["-t", "-i"]).expect("parses");
        assert!(args.from_headers && args.ignore_dots);
        assert!(args.recipients.is_empty());
        assert_eq!(parse(&["-ti"]), Ok(args));
    }

    #[test]
    fn values_attached_or_separate() {
        let a = parse(&[
            "-f",
            "me@example.com",
            "-S",
            "127.0.0.1:2525",
            "you@example.com",
        ])
        .expect("parses");
        assert_eq!(a.sender.as_deref(), Some("me@example.com"));
        assert_eq!(a.server, Some("127.0.0.1:2525".parse().expect("addr")));
        assert_eq!(a.recipients, ["you@example.com"]);
        let b =
            parse(&["-fme@example.com", "-S127.0.0.1:2525", "you@example.com"]).expect("parses");
        assert_eq!(a, b);
        assert_eq!(
            parse(&["-r", "<>"]).expect("parses").sender.as_deref(),
            Some("<>")
        );
    }

    #[test]
    fn common_flags_are_accepted_and_ignored() {
        let a = parse(&[
            "-bm",
            "-odi",
            "-oem",
            "-oi",
            "-F",
            "Jo Bloggs",
            "-Fjo",
            "-N",
            "never",
            "-U",
            "-m",
            "-O",
            "DeliveryMode=b",
            "-X",
            "/dev/null",
            "-h",
            "5",
            "-v",
            "a@example.com",
        ])
        .expect("parses");
        assert!(a.ignore_dots && a.verbose && !a.from_headers);
        assert_eq!(a.recipients, ["a@example.com"]);
    }

    #[test]
    fn double_dash_ends_options() {
        let a = parse(&["-t", "--", "-odd@example.com"]).expect("parses");
        assert_eq!(a.recipients, ["-odd@example.com"]);
    }

    #[test]
    fn bad_forms_are_refused() {
        assert_eq!(parse(&["-z"]), Err(UsageError::Unknown('z')));
        assert_eq!(parse(&["-tz"]), Err(UsageError::Unknown('z')));
        assert_eq!(parse(&["-f"]), Err(UsageError::MissingValue('f')));
        assert_eq!(parse(&["-bp"]), Err(UsageError::Mode("p".to_owned())));
        assert_eq!(parse(&["-bs"]), Err(UsageError::Mode("s".to_owned())));
        assert_eq!(parse(&["-q"]), Err(UsageError::Queue));
        assert_eq!(parse(&["-q1h"]), Err(UsageError::Queue));
        assert!(matches!(
            parse(&["-S", "nowhere"]),
            Err(UsageError::Server(_))
        ));
    }
}
