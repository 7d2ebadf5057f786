//! The JSON Mailpit's API v1 answers with, field for field: PascalCase names,
//! arrays that are `[]` rather than null, the list envelope in snake_case.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::message::Mailbox;
use crate::message::unsubscribe::ListUnsubscribe;
use crate::message::view::{Attachment, View};
use crate::store::{MessageMeta, Page, Totals};

/// Go's `time.Time` in JSON: RFC 3339, fractional seconds only as needed.
pub fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// A list item, and the payload of the `new` event.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct MessageSummary {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "MessageID")]
    pub message_id: String,
    pub read: bool,
    pub from: Mailbox,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    pub bcc: Vec<Mailbox>,
    pub reply_to: Vec<Mailbox>,
    pub subject: String,
    pub created: String,
    pub username: String,
    pub tags: Vec<String>,
    pub size: u64,
    pub attachments: u32,
    pub snippet: String,
}

impl From<&MessageMeta> for MessageSummary {
    fn from(m: &MessageMeta) -> Self {
        let s = &m.summary;
        Self {
            id: m.id.to_string(),
            message_id: s.message_id.clone().unwrap_or_default(),
            read: m.read,
            from: s.from.clone().unwrap_or_default(),
            to: s.to.clone(),
            cc: s.cc.clone(),
            bcc: s.bcc.clone(),
            reply_to: s.reply_to.clone(),
            subject: s.subject.clone(),
            created: time(m.received_at),
            username: m.envelope.auth_user.clone().unwrap_or_default(),
            tags: s.tags.clone(),
            size: m.size,
            attachments: s.attachments,
            snippet: s.snippet.clone(),
        }
    }
}

/// The answer of `GET /api/v1/messages` and `GET /api/v1/search`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MessagesSummary {
    pub total: u64,
    pub unread: u64,
    /// Items in `messages` (legacy; clients still read it).
    pub count: usize,
    pub messages_count: u64,
    pub messages_unread: u64,
    pub start: u64,
    pub tags: Vec<String>,
    pub messages: Vec<MessageSummary>,
}

impl MessagesSummary {
    pub fn new(page: &Page, totals: Totals, start: u64, tags: Vec<String>) -> Self {
        Self {
            total: totals.messages,
            unread: totals.unread,
            count: page.messages.len(),
            messages_count: page.matched,
            messages_unread: page.matched_unread,
            start,
            tags,
            messages: page.messages.iter().map(MessageSummary::from).collect(),
        }
    }
}

/// The answer of `GET /api/v1/message/{ID}`. It has no `Read` and no `Created`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct Message {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "MessageID")]
    pub message_id: String,
    pub from: Option<Mailbox>,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    pub bcc: Vec<Mailbox>,
    pub reply_to: Vec<Mailbox>,
    pub return_path: String,
    pub subject: String,
    pub list_unsubscribe: ListUnsubscribe,
    pub date: String,
    pub tags: Vec<String>,
    pub username: String,
    pub text: String,
    #[serde(rename = "HTML")]
    pub html: String,
    pub size: u64,
    pub inline: Vec<Attachment>,
    pub attachments: Vec<Attachment>,
}

impl Message {
    pub fn new(meta: &MessageMeta, view: View) -> Self {
        let s = &meta.summary;
        let date = view
            .date
            .map(|d| d.to_rfc3339_opts(SecondsFormat::AutoSi, true))
            .unwrap_or_else(|| time(meta.received_at));
        Self {
            id: meta.id.to_string(),
            message_id: s.message_id.clone().unwrap_or_default(),
            from: s.from.clone(),
            to: s.to.clone(),
            cc: s.cc.clone(),
            bcc: s.bcc.clone(),
            reply_to: s.reply_to.clone(),
            return_path: view.return_path,
            subject: s.subject.clone(),
            list_unsubscribe: view.list_unsubscribe,
            date,
            tags: s.tags.clone(),
            username: meta.envelope.auth_user.clone().unwrap_or_default(),
            text: view.text,
            html: view.html,
            size: meta.size,
            inline: view.inline,
            attachments: view.attachments,
        }
    }
}
