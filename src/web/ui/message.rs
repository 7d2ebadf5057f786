//! The message page (`/view/{ID}`): the HTML preview framed from
//! `/view/{ID}.html`, the text, the headers, the source, the attachments, the
//! envelope, and the links and codes found in the message. Opening it marks
//! the message read, as in Mailpit (`?peek=1` leaves it unread).

use std::collections::BTreeMap;

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;

use super::format::{self, mailboxes, or_null_sender};
use super::page::{self, Chrome};
use crate::message::extract::{self, Extracted};
use crate::message::headers;
use crate::message::view::{self, Attachment};
use crate::store::{MessageId, MessageMeta, Target};
use crate::web::AppState;

/// Most source bytes shown on the page; the download has them all.
const MAX_SOURCE: usize = 512 << 10;

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    chrome: Chrome,
    id: String,
    subject: String,
    from: String,
    to: String,
    cc: String,
    bcc: String,
    reply_to: String,
    /// The Date header, else the receive time.
    date: String,
    iso: String,
    received: String,
    size: String,
    tags: Vec<String>,
    has_html: bool,
    text: String,
    headers: BTreeMap<String, Vec<String>>,
    source: String,
    source_cut: bool,
    attachments: Vec<Part>,
    inline: Vec<Part>,
    envelope: Envelope,
    extracted: Extracted,
}

/// An attachment or inline part as the page lists it.
struct Part {
    part_id: String,
    name: String,
    content_type: String,
    size: String,
    is_image: bool,
}

impl Part {
    fn new(a: &Attachment) -> Self {
        Self {
            part_id: a.part_id.clone(),
            name: if a.file_name.is_empty() {
                format!("part {}", a.part_id)
            } else {
                a.file_name.clone()
            },
            content_type: a.content_type.clone(),
            size: format::size(a.size),
            // SVG can carry script: it is only ever shown through <img>, where
            // none runs, but it is listed as a download like any other file.
            is_image: a.content_type.starts_with("image/") && a.content_type != "image/svg+xml",
        }
    }
}

/// The SMTP envelope in words.
struct Envelope {
    mail_from: String,
    rcpt_to: Vec<String>,
    helo: String,
    client: String,
    tls: &'static str,
    auth_user: String,
}

/// `GET /view/{ID}` (dispatched from the `/view/{file}` route).
pub async fn show(state: &AppState, id: MessageId, peek: bool) -> Response {
    let meta = match state.store.get(&id).await {
        Ok(Some(meta)) => meta,
        Ok(None) => return page::not_found(),
        Err(error) => return page::unavailable(&error),
    };
    let raw = match state.store.raw(&id).await {
        Ok(Some(raw)) => raw,
        Ok(None) => return page::not_found(),
        Err(error) => return page::unavailable(&error),
    };
    if !meta.read
        && !peek
        && let Err(error) = state.store.set_read(Target::Ids(vec![id]), true).await
    {
        return page::unavailable(&error);
    }
    let totals = match state.store.totals().await {
        Ok(totals) => totals,
        Err(error) => return page::unavailable(&error),
    };
    let built =
        tokio::task::spawn_blocking(move || build(meta, &raw, Chrome::new("", "", totals))).await;
    match built {
        Ok(page) => page::render(StatusCode::OK, &page),
        Err(_) => page::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "This message could not be read",
            "Reading the message failed; its source is still available from the API.",
        ),
    }
}

fn build(meta: MessageMeta, raw: &[u8], mut chrome: Chrome) -> MessagePage {
    let view = view::view(raw);
    let extracted = extract::extract(&view.text, &view.html);
    let s = &meta.summary;
    chrome.title = format::subject(&s.subject);
    let source_cut = raw.len() > MAX_SOURCE;
    let source = String::from_utf8_lossy(&raw[..raw.len().min(MAX_SOURCE)]).into_owned();
    let e = &meta.envelope;
    MessagePage {
        chrome,
        id: meta.id.to_string(),
        subject: format::subject(&s.subject),
        from: s
            .from
            .as_ref()
            .map(format::mailbox)
            .unwrap_or_else(|| or_null_sender(&e.mail_from)),
        to: mailboxes(&s.to),
        cc: mailboxes(&s.cc),
        bcc: mailboxes(&s.bcc),
        reply_to: mailboxes(&s.reply_to),
        date: view
            .date
            .map(|d| d.to_rfc2822())
            .unwrap_or_else(|| format::utc(meta.received_at)),
        iso: format::iso(meta.received_at),
        received: format::utc(meta.received_at),
        size: format::size(meta.size),
        tags: s.tags.clone(),
        has_html: !view.html.is_empty(),
        text: view.text.clone(),
        headers: headers::headers(raw),
        source,
        source_cut,
        attachments: view.attachments.iter().map(Part::new).collect(),
        inline: view.inline.iter().map(Part::new).collect(),
        envelope: Envelope {
            mail_from: or_null_sender(&e.mail_from),
            rcpt_to: e.recipients.iter().map(|r| r.address.clone()).collect(),
            helo: e.helo.clone(),
            client: e.client_addr.clone(),
            tls: if e.tls { "yes" } else { "no" },
            auth_user: e.auth_user.clone().unwrap_or_default(),
        },
        extracted,
    }
}
