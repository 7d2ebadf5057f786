//! Credentials and the SASL mechanisms (RFC 4616 PLAIN, LOGIN, RFC 2195 CRAM-MD5)
//! shared by the mail protocols.
//!
//! Mailsink accepts any login unless credentials are configured; then each
//! mechanism checks them. The exchanges themselves are sans-I/O: a protocol
//! session feeds the decoded client lines in and writes the challenges out.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use md5::Md5;

/// Who may log in.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum Credentials {
    /// Any username and password are accepted.
    #[default]
    AcceptAny,
    /// Only these `user -> password` pairs are accepted.
    Users(HashMap<String, String>),
}

impl fmt::Debug for Credentials {
    // Passwords never reach a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AcceptAny => f.write_str("AcceptAny"),
            Self::Users(users) => {
                let mut names: Vec<_> = users.keys().collect();
                names.sort();
                f.debug_tuple("Users").field(&names).finish()
            }
        }
    }
}

/// A credentials list that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error("expected user:password, got {0:?}")]
    Malformed(String),
    #[error("no credentials given")]
    Empty,
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
}

impl FromStr for Credentials {
    type Err = CredentialsError;

    /// Parses `user:pass[,user:pass…]`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_entries(s.split(','))
    }
}

impl Credentials {
    /// Reads a file of `user:password` lines; blank lines and `#` comments are skipped.
    pub fn from_file(path: &Path) -> Result<Self, CredentialsError> {
        let text = std::fs::read_to_string(path).map_err(|source| CredentialsError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_entries(
            text.lines()
                .map(str::trim)
                .filter(|line| !line.is_empty() && !line.starts_with('#')),
        )
    }

    fn from_entries<'a>(entries: impl Iterator<Item = &'a str>) -> Result<Self, CredentialsError> {
        let mut users = HashMap::new();
        for entry in entries {
            match entry.split_once(':') {
                Some((user, pass)) if !user.is_empty() => {
                    users.insert(user.to_owned(), pass.to_owned());
                }
                _ => return Err(CredentialsError::Malformed(entry.to_owned())),
            }
        }
        if users.is_empty() {
            return Err(CredentialsError::Empty);
        }
        Ok(Self::Users(users))
    }

    /// Whether a login is mandatory before mail is accepted.
    pub fn required(&self) -> bool {
        matches!(self, Self::Users(_))
    }

    /// Checks a username and password.
    pub fn check(&self, user: &str, pass: &str) -> bool {
        match self {
            Self::AcceptAny => true,
            Self::Users(users) => users.get(user).is_some_and(|p| p == pass),
        }
    }

    /// Checks a CRAM-MD5 digest: the HMAC-MD5 of `challenge` keyed with the password.
    fn check_cram_md5(&self, user: &str, challenge: &[u8], digest_hex: &str) -> bool {
        let Self::Users(users) = self else {
            return true;
        };
        let Some(pass) = users.get(user) else {
            return false;
        };
        let mut mac =
            Hmac::<Md5>::new_from_slice(pass.as_bytes()).expect("HMAC accepts keys of any length");
        mac.update(challenge);
        let expected: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        expected.eq_ignore_ascii_case(digest_hex)
    }
}

/// A SASL mechanism the mail protocols offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    Plain,
    Login,
    CramMd5,
}

impl Mechanism {
    /// Parses a mechanism name, case-insensitively.
    pub fn parse(name: &str) -> Option<Self> {
        match name.to_ascii_uppercase().as_str() {
            "PLAIN" => Some(Self::Plain),
            "LOGIN" => Some(Self::Login),
            "CRAM-MD5" => Some(Self::CramMd5),
            _ => None,
        }
    }
}

/// The next step of a SASL exchange.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Send this challenge (raw bytes; the protocol base64-encodes it) and wait for a line.
    Challenge(Vec<u8>),
    /// The exchange succeeded for this user.
    Success(String),
    /// The credentials were wrong.
    Failure,
    /// The client's data was not valid for the mechanism (bad base64, bad layout).
    Malformed,
    /// The client sent `*` (RFC 4954 §4).
    Cancelled,
}

/// A SASL exchange in progress. Feed it the client's lines until it stops asking.
#[derive(Debug)]
pub struct Exchange {
    state: ExchangeState,
}

#[derive(Debug)]
enum ExchangeState {
    Plain,
    LoginUser,
    LoginPass { user: String },
    CramMd5 { challenge: Vec<u8> },
    Done,
}

impl Exchange {
    /// Starts an exchange. `initial` is the initial response (SASL-IR), if any;
    /// `hostname` goes into the CRAM-MD5 challenge.
    pub fn start(
        mechanism: Mechanism,
        initial: Option<&str>,
        hostname: &str,
        credentials: &Credentials,
    ) -> (Self, Step) {
        let (state, challenge) = match mechanism {
            Mechanism::Plain => (ExchangeState::Plain, Vec::new()),
            Mechanism::Login => (ExchangeState::LoginUser, b"Username:".to_vec()),
            Mechanism::CramMd5 => {
                let nonce: u64 = rand::random();
                let stamp = chrono::Utc::now().timestamp();
                let challenge = format!("<{nonce}.{stamp}@{hostname}>").into_bytes();
                (
                    ExchangeState::CramMd5 {
                        challenge: challenge.clone(),
                    },
                    challenge,
                )
            }
        };
        let mut exchange = Self { state };
        let step = match initial {
            // CRAM-MD5 has no initial response (RFC 2195): the server speaks first.
            Some(line) if mechanism != Mechanism::CramMd5 => exchange.respond(line, credentials),
            _ => Step::Challenge(challenge),
        };
        (exchange, step)
    }

    /// Feeds one client line (base64, or `*` to cancel).
    pub fn respond(&mut self, line: &str, credentials: &Credentials) -> Step {
        let line = line.trim();
        if line == "*" {
            self.state = ExchangeState::Done;
            return Step::Cancelled;
        }
        // RFC 4954 §4: "=" is an empty initial response.
        let decoded = if line == "=" {
            Vec::new()
        } else {
            match BASE64.decode(line) {
                Ok(bytes) => bytes,
                Err(_) => {
                    self.state = ExchangeState::Done;
                    return Step::Malformed;
                }
            }
        };
        match std::mem::replace(&mut self.state, ExchangeState::Done) {
            ExchangeState::Plain => plain(&decoded, credentials),
            ExchangeState::LoginUser => match String::from_utf8(decoded) {
                Ok(user) => {
                    self.state = ExchangeState::LoginPass { user };
                    Step::Challenge(b"Password:".to_vec())
                }
                Err(_) => Step::Malformed,
            },
            ExchangeState::LoginPass { user } => match String::from_utf8(decoded) {
                Ok(pass) if credentials.check(&user, &pass) => Step::Success(user),
                Ok(_) => Step::Failure,
                Err(_) => Step::Malformed,
            },
            ExchangeState::CramMd5 { challenge } => {
                let Ok(text) = String::from_utf8(decoded) else {
                    return Step::Malformed;
                };
                match text.rsplit_once(' ') {
                    Some((user, digest))
                        if credentials.check_cram_md5(user, &challenge, digest) =>
                    {
                        Step::Success(user.to_owned())
                    }
                    Some(_) => Step::Failure,
                    None => Step::Malformed,
                }
            }
            ExchangeState::Done => Step::Malformed,
        }
    }
}

/// RFC 4616: `[authzid] NUL authcid NUL passwd`.
fn plain(decoded: &[u8], credentials: &Credentials) -> Step {
    let mut fields = decoded.split(|&b| b == 0);
    let (Some(_authzid), Some(user), Some(pass), None) =
        (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return Step::Malformed;
    };
    let (Ok(user), Ok(pass)) = (std::str::from_utf8(user), std::str::from_utf8(pass)) else {
        return Step::Malformed;
    };
    if credentials.check(user, pass) {
        Step::Success(user.to_owned())
    } else {
        Step::Failure
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users() -> Credentials {
        "alice:secret,bob:hunter2".parse().expect("valid list")
    }

    #[test]
    fn parses_credential_lists() {
        assert!(users().check("alice", "secret"));
        assert!(!users().check("alice", "hunter2"));
        assert!(!users().check("carol", "x"));
        assert!(matches!(
            "alice".parse::<Credentials>(),
            Err(CredentialsError::Malformed(_))
        ));
        assert!(matches!(
            ":x".parse::<Credentials>(),
            Err(CredentialsError::Malformed(_))
        ));
    }

    #[test]
    fn plain_with_initial_response() {
        let ir = BASE64.encode(b"\0alice\0secret");
        let (_, step) = Exchange::start(Mechanism::Plain, Some(&ir), "h", &users());
        assert_eq!(step, Step::Success("alice".into()));
        let bad = BASE64.encode(b"\0alice\0nope");
        let (_, step) = Exchange::start(Mechanism::Plain, Some(&bad), "h", &users());
        assert_eq!(step, Step::Failure);
        let (_, step) = Exchange::start(Mechanism::Plain, Some("!!"), "h", &users());
        assert_eq!(step, Step::Malformed);
    }

    #[test]
    fn login_two_steps_and_cancel() {
        let creds = users();
        let (mut ex, step) = Exchange::start(Mechanism::Login, None, "h", &creds);
        assert_eq!(step, Step::Challenge(b"Username:".to_vec()));
        assert_eq!(
            ex.respond(&BASE64.encode("bob"), &creds),
            Step::Challenge(b"Password:".to_vec())
        );
        assert_eq!(
            ex.respond(&BASE64.encode("hunter2"), &creds),
            Step::Success("bob".into())
        );
        let (mut ex, _) = Exchange::start(Mechanism::Login, None, "h", &creds);
        assert_eq!(ex.respond("*", &creds), Step::Cancelled);
    }

    #[test]
    fn cram_md5_checks_the_digest() {
        let creds = users();
        let (mut ex, step) = Exchange::start(Mechanism::CramMd5, None, "host", &creds);
        let Step::Challenge(challenge) = step else {
            panic!("CRAM-MD5 starts with a challenge");
        };
        let mut mac = Hmac::<Md5>::new_from_slice(b"secret").expect("any key length");
        mac.update(&challenge);
        let digest: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let answer = BASE64.encode(format!("alice {digest}"));
        assert_eq!(ex.respond(&answer, &creds), Step::Success("alice".into()));
    }
}
