//! Stored message bytes as IMAP data (RFC 3501 §7.4.2, §6.4.5, §6.4.4):
//! ENVELOPE, BODY and BODYSTRUCTURE, the bytes of `BODY[section]` and
//! `BINARY[section]`, and the content predicates of SEARCH.
//!
//! Everything here is pure: the IMAP session hands in the stored bytes and
//! encodes the result. Stored messages may end lines with a bare LF; IMAP
//! serves CRLF, so every size, line count and section is computed over the
//! bytes as served (see [`served`]), exactly as
//! [`crate::store::served_size`] counts them. The results were checked
//! against Dovecot on the corpus in `tests/fixtures/imap/`.

mod address;
mod envelope;
mod header;
pub mod search;
mod section;
mod structure;
mod tree;

use std::borrow::Cow;

use imap_types::core::{IString, NString};

pub use envelope::envelope;
pub use search::Searchable;
pub use section::{BinaryError, binary, partial, section};
pub use structure::body_structure;

/// The bytes as IMAP serves them: every bare LF as CRLF, and a CRLF after a
/// last line that has none (the same rule as [`crate::store::served_size`]).
pub fn served(data: &[u8]) -> Cow<'_, [u8]> {
    let bare_lf = memchr::memchr_iter(b'\n', data).any(|at| at == 0 || data[at - 1] != b'\r');
    let unterminated = !data.is_empty() && !data.ends_with(b"\n");
    if !bare_lf && !unterminated {
        return Cow::Borrowed(data);
    }
    let mut out = Vec::with_capacity(data.len() + data.len() / 32 + 2);
    let mut last = 0;
    for at in memchr::memchr_iter(b'\n', data) {
        if at == 0 || data[at - 1] != b'\r' {
            out.extend_from_slice(&data[last..at]);
            out.extend_from_slice(b"\r\n");
            last = at + 1;
        }
    }
    out.extend_from_slice(&data[last..]);
    if unterminated {
        out.extend_from_slice(b"\r\n");
    }
    Cow::Owned(out)
}

/// An IMAP string holding `bytes`. NUL cannot travel in an IMAP string, so
/// it is dropped.
fn istring(bytes: impl Into<Vec<u8>>) -> IString<'static> {
    let mut bytes = bytes.into();
    bytes.retain(|&b| b != 0);
    IString::try_from(bytes).expect("bytes without NUL always make a literal")
}

/// NIL for `None`, a string otherwise.
fn nstring(bytes: Option<impl Into<Vec<u8>>>) -> NString<'static> {
    NString(bytes.map(istring))
}

#[cfg(test)]
mod tests;
