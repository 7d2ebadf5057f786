//! Building the responses the session sends, as imap-types values: tagged
//! and untagged statuses with their response codes, and the capability list.

use std::num::NonZeroU32;

use imap_types::core::{Atom, Tag, Text, Vec1};
use imap_types::response::{Capability, Code, CodeOther, Data, Response, Status};

/// The kind of a status response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Ok,
    No,
    Bad,
}

/// A response code imap-types has no variant for (RFC 5530 and others).
pub(crate) fn code(name: &'static str) -> Code<'static> {
    Code::Other(CodeOther::unvalidated(name.as_bytes()))
}

/// Text safe to send: never empty, no line breaks.
fn text(text: &str) -> Text<'static> {
    let clean: String = text
        .chars()
        .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
        .collect();
    let clean = if clean.trim().is_empty() {
        "done".to_owned()
    } else {
        clean
    };
    Text::try_from(clean).unwrap_or_else(|_| Text::try_from("done").expect("static text is valid"))
}

/// A tagged status, or an untagged one without a tag.
pub(crate) fn status(
    tag: Option<&Tag<'static>>,
    kind: Kind,
    code: Option<Code<'static>>,
    message: &str,
) -> Response<'static> {
    let tag = tag.cloned();
    let body = text(message);
    let status = match kind {
        Kind::Ok => Status::ok(tag, code, body),
        Kind::No => Status::no(tag, code, body),
        Kind::Bad => Status::bad(tag, code, body),
    };
    Response::Status(status.expect("a valid text makes a valid status"))
}

pub(crate) fn bye(message: &str) -> Response<'static> {
    Response::Status(Status::bye(None, text(message)).expect("a valid text makes a valid status"))
}

/// `* n EXISTS`.
pub(crate) fn exists(n: usize) -> Response<'static> {
    Response::Data(Data::Exists(u32::try_from(n).unwrap_or(u32::MAX)))
}

/// `* n EXPUNGE`.
pub(crate) fn expunge(seq: usize) -> Option<Response<'static>> {
    let seq = NonZeroU32::new(u32::try_from(seq).ok()?)?;
    Some(Response::Data(Data::Expunge(seq)))
}

fn atom(name: &'static str) -> Atom<'static> {
    Atom::try_from(name).expect("capability names are atoms")
}

/// The capabilities: STARTTLS only while the connection is plaintext
/// (RFC 3501 §6.2.1); never LOGINDISABLED, plaintext login is allowed.
pub(crate) fn capabilities(tls: bool) -> Vec1<Capability<'static>> {
    let mut caps = vec![Capability::Imap4Rev1];
    if !tls {
        caps.push(Capability::StartTls);
    }
    caps.extend([
        Capability::from(atom("AUTH=PLAIN")),
        Capability::from(atom("AUTH=LOGIN")),
        Capability::SaslIr,
        Capability::LiteralPlus,
        Capability::Idle,
        Capability::UidPlus,
        Capability::Move,
        Capability::Namespace,
        Capability::Enable,
        Capability::Id,
        Capability::Unselect,
        Capability::from(atom("CHILDREN")),
        Capability::from(atom("SPECIAL-USE")),
        Capability::Binary,
    ]);
    Vec1::try_from(caps).expect("the list is never empty")
}
