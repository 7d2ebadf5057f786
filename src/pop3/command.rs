//! POP3 commands (RFC 1939, RFC 2449 CAPA, RFC 2595 STLS, RFC 5034 AUTH),
//! parsed from one line without any I/O. No maintained crate parses the
//! server side of POP3, and the grammar is small.

use std::fmt;

/// A message number as the client writes it: 1-based.
pub type Number = u32;

/// One POP3 command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    User(String),
    Pass(String),
    Apop {
        user: String,
        digest: String,
    },
    Auth {
        mechanism: Option<String>,
        initial: Option<String>,
    },
    Capa,
    Stls,
    Stat,
    List(Option<Number>),
    Uidl(Option<Number>),
    Retr(Number),
    Top {
        message: Number,
        lines: u32,
    },
    Dele(Number),
    Rset,
    Noop,
    Quit,
}

/// Why a line is not a command; the text goes after `-ERR`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("unknown command")]
    Unknown,
    #[error("{0} needs an argument")]
    MissingArgument(&'static str),
    #[error("{0} takes no more arguments")]
    ExtraArgument(&'static str),
    #[error("invalid message number")]
    BadNumber,
    #[error("invalid line count")]
    BadLines,
}

impl Command {
    /// Parses one line, with or without its line ending. Keywords are
    /// case-insensitive (RFC 1939 §3); arguments are kept as written.
    pub fn parse(line: &[u8]) -> Result<Self, ParseError> {
        let line = String::from_utf8_lossy(line);
        let line = line.trim_end_matches(['\r', '\n']);
        let mut words = line.split(' ').filter(|w| !w.is_empty());
        let keyword = words
            .next()
            .ok_or(ParseError::Unknown)?
            .to_ascii_uppercase();
        let args: Vec<&str> = words.collect();
        let command = match keyword.as_str() {
            // The password may contain spaces: everything after "PASS ".
            "PASS" => {
                let rest = line.get(5..).unwrap_or_default();
                if rest.is_empty() {
                    return Err(ParseError::MissingArgument("PASS"));
                }
                Command::Pass(rest.to_owned())
            }
            "USER" => Command::User(one(&args, "USER")?.to_owned()),
            "APOP" => match args.as_slice() {
                [user, digest] => Command::Apop {
                    user: (*user).to_owned(),
                    digest: (*digest).to_owned(),
                },
                [] | [_] => return Err(ParseError::MissingArgument("APOP")),
                _ => return Err(ParseError::ExtraArgument("APOP")),
            },
            "AUTH" => match args.as_slice() {
                [] => Command::Auth {
                    mechanism: None,
                    initial: None,
                },
                [mechanism] => Command::Auth {
                    mechanism: Some(mechanism.to_ascii_uppercase()),
                    initial: None,
                },
                [mechanism, initial] => Command::Auth {
                    mechanism: Some(mechanism.to_ascii_uppercase()),
                    initial: Some((*initial).to_owned()),
                },
                _ => return Err(ParseError::ExtraArgument("AUTH")),
            },
            "CAPA" => none(&args, "CAPA", Command::Capa)?,
            "STLS" => none(&args, "STLS", Command::Stls)?,
            "STAT" => none(&args, "STAT", Command::Stat)?,
            "RSET" => none(&args, "RSET", Command::Rset)?,
            "NOOP" => none(&args, "NOOP", Command::Noop)?,
            "QUIT" => none(&args, "QUIT", Command::Quit)?,
            "LIST" => Command::List(optional_number(&args, "LIST")?),
            "UIDL" => Command::Uidl(optional_number(&args, "UIDL")?),
            "RETR" => Command::Retr(number(one(&args, "RETR")?)?),
            "DELE" => Command::Dele(number(one(&args, "DELE")?)?),
            "TOP" => match args.as_slice() {
                [message, lines] => Command::Top {
                    message: number(message)?,
                    lines: lines.parse().map_err(|_| ParseError::BadLines)?,
                },
                [] | [_] => return Err(ParseError::MissingArgument("TOP")),
                _ => return Err(ParseError::ExtraArgument("TOP")),
            },
            _ => return Err(ParseError::Unknown),
        };
        Ok(command)
    }
}

fn one<'a>(args: &[&'a str], keyword: &'static str) -> Result<&'a str, ParseError> {
    match args {
        [arg] => Ok(arg),
        [] => Err(ParseError::MissingArgument(keyword)),
        _ => Err(ParseError::ExtraArgument(keyword)),
    }
}

fn none(args: &[&str], keyword: &'static str, command: Command) -> Result<Command, ParseError> {
    if args.is_empty() {
        Ok(command)
    } else {
        Err(ParseError::ExtraArgument(keyword))
    }
}

fn optional_number(args: &[&str], keyword: &'static str) -> Result<Option<Number>, ParseError> {
    match args {
        [] => Ok(None),
        [arg] => number(arg).map(Some),
        _ => Err(ParseError::ExtraArgument(keyword)),
    }
}

/// RFC 1939: message numbers are decimal and start at 1.
fn number(text: &str) -> Result<Number, ParseError> {
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseError::BadNumber);
    }
    match text.parse::<Number>() {
        Ok(0) | Err(_) => Err(ParseError::BadNumber),
        Ok(n) => Ok(n),
    }
}

impl fmt::Display for Command {
    /// The command as a client writes it (without CRLF).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::User(user) => write!(f, "USER {user}"),
            Command::Pass(pass) => write!(f, "PASS {pass}"),
            Command::Apop { user, digest } => write!(f, "APOP {user} {digest}"),
            Command::Auth { mechanism, initial } => {
                f.write_str("AUTH")?;
                if let Some(mechanism) = mechanism {
                    write!(f, " {mechanism}")?;
                }
                if let Some(initial) = initial {
                    write!(f, " {initial}")?;
                }
                Ok(())
            }
            Command::Capa => f.write_str("CAPA"),
            Command::Stls => f.write_str("STLS"),
            Command::Stat => f.write_str("STAT"),
            Command::List(None) => f.write_str("LIST"),
            Command::List(Some(n)) => write!(f, "LIST {n}"),
            Command::Uidl(None) => f.write_str("UIDL"),
            Command::Uidl(Some(n)) => write!(f, "UIDL {n}"),
            Command::Retr(n) => write!(f, "RETR {n}"),
            Command::Top { message, lines } => write!(f, "TOP {message} {lines}"),
            Command::Dele(n) => write!(f, "DELE {n}"),
            Command::Rset => f.write_str("RSET"),
            Command::Noop => f.write_str("NOOP"),
            Command::Quit => f.write_str("QUIT"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Command, ParseError> {
        Command::parse(line.as_bytes())
    }

    #[test]
    fn commands_and_arguments() {
        assert_eq!(
            parse("USER bob@example.com\r\n"),
            Ok(Command::User("bob@example.com".into()))
        );
        assert_eq!(
            parse("pass s3cret with spaces\r\n"),
            Ok(Command::Pass("s3cret with spaces".into()))
        );
        assert_eq!(parse("stat"), Ok(Command::Stat));
        assert_eq!(parse("LIST"), Ok(Command::List(None)));
        assert_eq!(parse("LIST 2"), Ok(Command::List(Some(2))));
        assert_eq!(parse("UIDL 10\r\n"), Ok(Command::Uidl(Some(10))));
        assert_eq!(
            parse("TOP 1 0"),
            Ok(Command::Top {
                message: 1,
                lines: 0
            })
        );
        assert_eq!(
            parse("APOP mrose c4c9334bac560ecc979e58001b3e22fb"),
            Ok(Command::Apop {
                user: "mrose".into(),
                digest: "c4c9334bac560ecc979e58001b3e22fb".into()
            })
        );
        assert_eq!(
            parse("AUTH plain AGEAYg=="),
            Ok(Command::Auth {
                mechanism: Some("PLAIN".into()),
                initial: Some("AGEAYg==".into())
            })
        );
        assert_eq!(
            parse("AUTH"),
            Ok(Command::Auth {
                mechanism: None,
                initial: None
            })
        );
    }

    #[test]
    fn bad_forms() {
        assert_eq!(parse(""), Err(ParseError::Unknown));
        assert_eq!(parse("FROB"), Err(ParseError::Unknown));
        assert_eq!(parse("RETR"), Err(ParseError::MissingArgument("RETR")));
        assert_eq!(parse("RETR 0"), Err(ParseError::BadNumber));
        assert_eq!(parse("RETR -1"), Err(ParseError::BadNumber));
        assert_eq!(parse("RETR +1"), Err(ParseError::BadNumber));
        assert_eq!(parse("RETR 99999999999"), Err(ParseError::BadNumber));
        assert_eq!(parse("RETR 1 2"), Err(ParseError::ExtraArgument("RETR")));
        assert_eq!(parse("TOP 1"), Err(ParseError::MissingArgument("TOP")));
        assert_eq!(parse("TOP 1 x"), Err(ParseError::BadLines));
        assert_eq!(parse("STAT now"), Err(ParseError::ExtraArgument("STAT")));
        assert_eq!(parse("PASS"), Err(ParseError::MissingArgument("PASS")));
        assert_eq!(parse("USER"), Err(ParseError::MissingArgument("USER")));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(line in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let _ = Command::parse(&line);
        }

        #[test]
        fn round_trips(n in 1u32..1_000_000, lines in 0u32..1000, word in "[!-~]{1,20}") {
            for command in [
                Command::User(word.clone()),
                Command::Pass(word.clone()),
                Command::List(Some(n)),
                Command::Uidl(None),
                Command::Retr(n),
                Command::Top { message: n, lines },
                Command::Dele(n),
                Command::Apop { user: word.clone(), digest: word.clone() },
                Command::Auth { mechanism: Some("PLAIN".into()), initial: Some(word.clone()) },
                Command::Quit,
            ] {
                let text = format!("{command}\r\n");
                proptest::prop_assert_eq!(Command::parse(text.as_bytes()), Ok(command));
            }
        }
    }
}
