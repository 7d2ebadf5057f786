//! HTTP basic authentication for the web UI and the API (`--ui-auth
//! user:pass[,user:pass…]`). Every route except the health checks asks for it; a request
//! without the right credentials gets `401` with `WWW-Authenticate`.

use std::fmt;
use std::str::FromStr;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha2::{Digest, Sha256};

/// The user names and passwords the UI and API accept.
#[derive(Clone, PartialEq, Eq)]
pub struct BasicAuth {
    /// SHA-256 of each `user:pass`: what requests are compared against.
    digests: Vec<[u8; 32]>,
    users: Vec<String>,
}

impl fmt::Debug for BasicAuth {
    // The password never reaches a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicAuth")
            .field("users", &self.users)
            .finish_non_exhaustive()
    }
}

impl FromStr for BasicAuth {
    type Err = String;

    /// Parses `user:pass[,user:pass…]`; a password may contain further colons.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut auth = Self {
            digests: Vec::new(),
            users: Vec::new(),
        };
        for pair in s.split(',') {
            match pair.split_once(':') {
                Some((user, pass)) if !user.is_empty() && !pass.is_empty() => {
                    auth.digests.push(digest(pair.as_bytes()));
                    auth.users.push(user.to_owned());
                }
                _ => {
                    return Err(
                        "expected user:password[,user:password…] (a user name, a colon \
                                and a password)"
                            .to_owned(),
                    );
                }
            }
        }
        Ok(auth)
    }
}

impl BasicAuth {
    /// Whether `headers` carry these credentials in `Authorization: Basic …`.
    pub fn allows(&self, headers: &HeaderMap) -> bool {
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return false;
        };
        let Some((scheme, token)) = value.to_str().unwrap_or_default().trim().split_once(' ')
        else {
            return false;
        };
        if !scheme.eq_ignore_ascii_case("basic") {
            return false;
        }
        let Ok(decoded) = BASE64.decode(token.trim()) else {
            return false;
        };
        if !decoded.contains(&b':') {
            return false;
        }
        // Comparing fixed-size digests byte by byte without an early exit keeps
        // the time independent of how much of the guess was right.
        let given = digest(&decoded);
        self.digests.iter().fold(false, |found, known| {
            let same = given
                .iter()
                .zip(known.iter())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
            found | same
        })
    }
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Middleware: lets the request through with the right credentials, else 401.
pub async fn require(State(auth): State<BasicAuth>, request: Request, next: Next) -> Response {
    if auth.allows(request.headers()) {
        return next.run(request).await;
    }
    (
        StatusCode::UNAUTHORIZED,
        [
            (
                header::WWW_AUTHENTICATE,
                "Basic realm=\"Mailsink\", charset=\"UTF-8\"",
            ),
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
        ],
        "401 Unauthorized: this Mailsink asks for a user name and password\n",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(value).expect("a header value"),
        );
        headers
    }

    #[test]
    fn parses_and_checks() {
        let auth: BasicAuth = "admin:s3cret:x".parse().expect("parses");
        let good = format!("Basic {}", BASE64.encode("admin:s3cret:x"));
        assert!(auth.allows(&with(&good)));
        assert!(auth.allows(&with(&good.replace("Basic", "basic"))));
        assert!(!auth.allows(&HeaderMap::new()));
        assert!(!auth.allows(&with(&format!("Basic {}", BASE64.encode("admin:wrong")))));
        assert!(!auth.allows(&with(&format!(
            "Bearer {}",
            BASE64.encode("admin:s3cret:x")
        ))));
        assert!(!auth.allows(&with("Basic not*base64")));
        assert!(!auth.allows(&with("Basic")));
        assert!(!auth.allows(&with(&format!("Basic {}", BASE64.encode("nocolon")))));
        assert!(!format!("{auth:?}").contains("s3cret"));
        let two: BasicAuth = "ann:one,bob:two".parse().expect("a list parses");
        assert!(two.allows(&with(&format!("Basic {}", BASE64.encode("bob:two")))));
        assert!(two.allows(&with(&format!("Basic {}", BASE64.encode("ann:one")))));
        assert!(!two.allows(&with(&format!("Basic {}", BASE64.encode("ann:two")))));
        for bad in ["nocolon", ":pass", "user:", "", "a:b,", "a:b,,c:d"] {
            assert!(bad.parse::<BasicAuth>().is_err(), "{bad:?}");
        }
    }
}
