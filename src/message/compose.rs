//! Building a real MIME message from the JSON of Mailpit's
//! `POST /api/v1/send`: the caller validates nothing, this module refuses
//! what would make a broken or misleading message, and mail-builder writes it.

use mail_builder::MessageBuilder;
use mail_builder::headers::HeaderType;
use mail_builder::headers::address::Address as BuilderAddress;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::date::Date;
use mail_builder::headers::raw::Raw;
use mail_builder::headers::text::Text;
use mail_builder::mime::MimePart;

/// A name and e-mail address, as the send request gives them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Address {
    /// The address itself, `user@example.com`.
    pub email: String,
    /// The display name, "" for none.
    pub name: String,
}

/// A file to attach. With a Content-ID it is an inline part the HTML can show
/// with `cid:`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DraftAttachment {
    /// Required: the name the recipient sees.
    pub file_name: String,
    /// The media type; guessed from the file name's extension when `None`.
    pub content_type: Option<String>,
    /// Makes the part inline in a multipart/related (without `<>`).
    pub content_id: Option<String>,
    /// The file's bytes.
    pub data: Vec<u8>,
}

/// Everything a send request can say about the message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Draft {
    /// The sender (required).
    pub from: Address,
    /// Recipients shown in To.
    pub to: Vec<Address>,
    /// Recipients shown in Cc.
    pub cc: Vec<Address>,
    /// Blind copies: checked, never written into the message (the caller adds
    /// them to the envelope).
    pub bcc: Vec<String>,
    /// Where replies go.
    pub reply_to: Vec<Address>,
    /// The subject; line breaks become spaces.
    pub subject: String,
    /// The text/plain body, "" for none.
    pub text: String,
    /// The text/html body, "" for none.
    pub html: String,
    /// Extra headers, in order. A `Message-ID` here replaces the generated one.
    pub headers: Vec<(String, String)>,
    /// Written as one `X-Tags: a, b` header.
    pub tags: Vec<String>,
    /// Files: inline (with a Content-ID) or attached.
    pub attachments: Vec<DraftAttachment>,
}

/// Why a draft cannot become a message. The texts are meant for the API's
/// `{"Error": …}` answer.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ComposeError {
    /// `field` is the request's field: From, To, Cc, Bcc or ReplyTo.
    #[error("invalid {field} address: {address}")]
    InvalidAddress {
        field: &'static str,
        address: String,
    },
    /// No To, Cc or Bcc: the message could go nowhere.
    #[error("no recipients: To, Cc and Bcc are all empty")]
    NoRecipients,
    /// A custom header that the request's own fields (or the MIME structure)
    /// write.
    #[error("header {0} cannot be set: it is written from the request's own fields")]
    ReservedHeader(String),
    /// A header name that is empty or holds a space, a colon or a control byte.
    #[error("invalid header name: {0}")]
    InvalidHeaderName(String),
    /// A header value with a line break or another control character.
    #[error("invalid value for header {0}: line breaks and control characters are not allowed")]
    InvalidHeaderValue(String),
    /// A tag with a control character.
    #[error("invalid tag: {0}")]
    InvalidTag(String),
    /// The attachment at this position (from 1) has an empty file name.
    #[error("attachment {0} has no file name")]
    MissingFileName(usize),
    /// An attachment's file name, content type or Content-ID cannot be written.
    #[error("invalid attachment {field} for {file_name}: {value}")]
    InvalidAttachment {
        file_name: String,
        field: &'static str,
        value: String,
    },
}

/// Headers a send request may not set, because they come from its own fields
/// or describe the MIME structure this module writes.
const RESERVED: &[&str] = &[
    "to",
    "from",
    "cc",
    "bcc",
    "reply-to",
    "date",
    "subject",
    "content-type",
    "content-transfer-encoding",
    "mime-version",
];

/// Builds the message. Its Message-ID is `<random@message_id_domain>` unless
/// the draft's headers give one; its Date is now. Bcc recipients are checked
/// but, as on any real mail, not written.
pub fn compose(draft: &Draft, message_id_domain: &str) -> Result<Vec<u8>, ComposeError> {
    check_address("From", &draft.from)?;
    for (field, list) in [
        ("To", &draft.to),
        ("Cc", &draft.cc),
        ("ReplyTo", &draft.reply_to),
    ] {
        for address in list {
            check_address(field, address)?;
        }
    }
    for email in &draft.bcc {
        if !is_valid_email(email) {
            return Err(invalid("Bcc", email));
        }
    }
    if draft.to.is_empty() && draft.cc.is_empty() && draft.bcc.is_empty() {
        return Err(ComposeError::NoRecipients);
    }

    let mut message_id = None;
    let mut extra: Vec<(String, HeaderType<'_>)> = Vec::new();
    for (name, value) in &draft.headers {
        check_header(name, value, !draft.tags.is_empty())?;
        if name.eq_ignore_ascii_case("message-id") {
            message_id = Some(value.trim().trim_start_matches('<').trim_end_matches('>'));
        } else {
            extra.push((name.clone(), header_value(value)));
        }
    }
    let tags = tags_header(&draft.tags)?;

    let mut builder = MessageBuilder::new().from(builder_address(&draft.from));
    if !draft.to.is_empty() {
        builder = builder.to(builder_list(&draft.to));
    }
    if !draft.cc.is_empty() {
        builder = builder.cc(builder_list(&draft.cc));
    }
    if !draft.reply_to.is_empty() {
        builder = builder.reply_to(builder_list(&draft.reply_to));
    }
    let generated = generated_id(message_id_domain);
    builder = builder
        .subject(one_line(&draft.subject))
        .date(Date::now())
        .message_id(message_id.unwrap_or(&generated).to_owned());
    for (name, value) in extra {
        builder = builder.header(name, value);
    }
    if let Some(tags) = tags {
        builder = builder.header("X-Tags", Raw::new(tags));
    }
    let mut out = Vec::new();
    builder.body(body(draft)?).serialize(&mut out);
    Ok(out)
}

/// The MIME tree, as Gmail and most mailers write it:
/// mixed[related[alternative[text, html], inline…], attachment…], each level
/// only when needed.
fn body(draft: &Draft) -> Result<MimePart<'_>, ComposeError> {
    let text = || MimePart::new("text/plain", draft.text.as_str());
    let html = || MimePart::new("text/html", draft.html.as_str());
    let mut root = match (draft.text.is_empty(), draft.html.is_empty()) {
        (false, false) => MimePart::new("multipart/alternative", vec![text(), html()]),
        (true, false) => html(),
        _ => text(),
    };
    let mut inline = Vec::new();
    let mut attached = Vec::new();
    for (index, attachment) in draft.attachments.iter().enumerate() {
        let file_name = attachment.file_name.trim();
        if file_name.is_empty() {
            return Err(ComposeError::MissingFileName(index + 1));
        }
        if has_control(file_name) {
            return Err(bad_attachment(file_name, "file name", file_name));
        }
        let content_type = match attachment.content_type.as_deref().map(str::trim) {
            Some(ct) if !ct.is_empty() => {
                if has_control(ct) || !ct.contains('/') {
                    return Err(bad_attachment(file_name, "content type", ct));
                }
                ct.to_owned()
            }
            _ => sniff(file_name, &attachment.data),
        };
        let part = MimePart::new(ContentType::new(content_type), attachment.data.as_slice());
        let content_id = attachment.content_id.as_deref().map(|id| {
            id.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned()
        });
        match content_id {
            Some(id) if !id.is_empty() => {
                if id
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
                {
                    return Err(bad_attachment(file_name, "Content-ID", &id));
                }
                let disposition = ContentType::new("inline").attribute("filename", file_name);
                inline.push(part.header("Content-Disposition", disposition).cid(id));
            }
            _ => attached.push(part.attachment(file_name)),
        }
    }
    if !inline.is_empty() {
        inline.insert(0, root);
        root = MimePart::new("multipart/related", inline);
    }
    if !attached.is_empty() {
        attached.insert(0, root);
        root = MimePart::new("multipart/mixed", attached);
    }
    Ok(root)
}

fn check_address(field: &'static str, address: &Address) -> Result<(), ComposeError> {
    if !is_valid_email(&address.email) {
        return Err(invalid(field, &address.email));
    }
    if has_control(&address.name) {
        return Err(invalid(
            field,
            &format!("{} <{}>", address.name, address.email),
        ));
    }
    Ok(())
}

fn invalid(field: &'static str, address: &str) -> ComposeError {
    ComposeError::InvalidAddress {
        field,
        address: address.escape_debug().to_string(),
    }
}

fn bad_attachment(file_name: &str, field: &'static str, value: &str) -> ComposeError {
    ComposeError::InvalidAttachment {
        file_name: file_name.escape_debug().to_string(),
        field,
        value: value.escape_debug().to_string(),
    }
}

/// An addr-spec (RFC 5322 §3.4.1) as people type it: a dot-atom local part
/// and a domain of letters, digits, '-' and '_' labels or an address literal.
/// Letters beyond ASCII are allowed (RFC 6531). Quoted local parts are not.
fn is_valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    let atext = |c: char| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
    let dot_atom = |s: &str, ok: &dyn Fn(char) -> bool| {
        !s.is_empty()
            && s.split('.')
                .all(|atom| !atom.is_empty() && atom.chars().all(ok))
    };
    let label = |c: char| c.is_alphanumeric() || c == '-' || c == '_';
    let literal = domain.starts_with('[')
        && domain.ends_with(']')
        && domain.len() > 2
        && domain[1..domain.len() - 1]
            .chars()
            .all(|c| c.is_ascii_hexdigit() || ".:".contains(c) || c.is_ascii_alphanumeric());
    email.len() <= 254
        && local.len() <= 64
        && dot_atom(local, &atext)
        && (literal
            || dot_atom(domain, &label)
                && domain
                    .split('.')
                    .all(|l| !l.starts_with('-') && !l.ends_with('-') && l.len() <= 63))
}

fn check_header(name: &str, value: &str, has_tags: bool) -> Result<(), ComposeError> {
    if name.is_empty() || !name.bytes().all(|b| (33..=126).contains(&b) && b != b':') {
        return Err(ComposeError::InvalidHeaderName(
            name.escape_debug().to_string(),
        ));
    }
    let lower = name.to_ascii_lowercase();
    if RESERVED.contains(&lower.as_str()) || (has_tags && lower == "x-tags") {
        return Err(ComposeError::ReservedHeader(name.to_owned()));
    }
    // A CR or LF would let the value start a header or the body of its own.
    if value.chars().any(|c| c.is_control() && c != '\t') {
        return Err(ComposeError::InvalidHeaderValue(name.to_owned()));
    }
    Ok(())
}

/// ASCII values are written as given (folded if long); others RFC 2047-encoded.
fn header_value(value: &str) -> HeaderType<'_> {
    if value.is_ascii() {
        Raw::new(value).into()
    } else {
        Text::new(value).into()
    }
}

fn tags_header(tags: &[String]) -> Result<Option<String>, ComposeError> {
    let mut kept: Vec<&str> = Vec::new();
    for tag in tags {
        let tag = tag.trim();
        if has_control(tag) {
            return Err(ComposeError::InvalidTag(tag.escape_debug().to_string()));
        }
        if !tag.is_empty() && !kept.contains(&tag) {
            kept.push(tag);
        }
    }
    Ok((!kept.is_empty()).then(|| kept.join(", ")))
}

fn builder_address(address: &Address) -> BuilderAddress<'_> {
    let name = (!address.name.trim().is_empty()).then(|| address.name.trim());
    BuilderAddress::new_address(name, address.email.as_str())
}

fn builder_list(list: &[Address]) -> BuilderAddress<'_> {
    BuilderAddress::new_list(list.iter().map(builder_address).collect())
}

/// A subject on one line: line breaks from a JSON string become spaces.
fn one_line(s: &str) -> String {
    s.split(['\r', '\n'])
        .filter(|piece| !piece.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn generated_id(domain: &str) -> String {
    let domain = domain.trim();
    let domain = if !domain.is_empty() && is_valid_email(&format!("x@{domain}")) {
        domain
    } else {
        "mailsink.localhost"
    };
    format!("{:032x}@{domain}", rand::random::<u128>())
}

/// The media type of an attachment given without one: from the file name's
/// extension, else from the bytes themselves (as Mailpit's send API does),
/// else text when the bytes are UTF-8.
fn sniff(file_name: &str, data: &[u8]) -> String {
    if let Some(guess) = mime_guess::from_path(file_name).first() {
        return guess.essence_str().to_owned();
    }
    if let Some(kind) = infer::get(data) {
        return kind.mime_type().to_owned();
    }
    if std::str::from_utf8(data).is_ok() {
        return "text/plain".to_owned();
    }
    "application/octet-stream".to_owned()
}

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

#[cfg(test)]
#[path = "compose_tests.rs"]
mod tests;
