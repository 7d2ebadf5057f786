//! `POST /api/v1/send`: Mailpit's send API. The request becomes a real MIME
//! message (see [`compose`](crate::message::compose)), stored as if it had
//! arrived over SMTP, trace headers included.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::ApiState;
use super::json;
use crate::message::compose::{self, Address, Draft, DraftAttachment};
use crate::smtp::trace;
use crate::store::{Envelope, MessageId, NewMessage, Recipient};

/// Mailpit's send request; field names match in any case.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub struct SendRequest {
    #[schema(rename = "From")]
    from: Option<Contact>,
    #[serde(default)]
    #[schema(rename = "To")]
    to: Vec<Contact>,
    #[serde(default)]
    #[schema(rename = "Cc")]
    cc: Vec<Contact>,
    #[serde(default)]
    #[schema(rename = "Bcc")]
    bcc: Vec<String>,
    #[serde(default)]
    #[schema(rename = "ReplyTo")]
    replyto: Vec<Contact>,
    #[serde(default)]
    #[schema(rename = "Subject")]
    subject: String,
    #[serde(default)]
    #[schema(rename = "Text")]
    text: String,
    #[serde(default)]
    #[schema(rename = "HTML")]
    html: String,
    #[serde(default)]
    #[schema(rename = "Headers")]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    #[schema(rename = "Tags")]
    tags: Vec<String>,
    #[serde(default)]
    #[schema(rename = "Attachments")]
    attachments: Vec<Attachment>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub struct Contact {
    #[schema(rename = "Email")]
    email: String,
    #[serde(default)]
    #[schema(rename = "Name")]
    name: String,
}

/// A file: base64 `Content` (a `data:` URL prefix is allowed); with a
/// `ContentID` it is an inline part.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = SendAttachment)]
pub struct Attachment {
    #[schema(rename = "Content")]
    content: String,
    #[schema(rename = "Filename")]
    filename: String,
    #[schema(rename = "ContentType")]
    contenttype: Option<String>,
    #[schema(rename = "ContentID")]
    contentid: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Sent {
    #[serde(rename = "ID")]
    id: String,
}

/// Send API errors are JSON, unlike the rest of the API.
fn error(status: StatusCode, text: impl Into<String>) -> Response {
    (status, Json(serde_json::json!({ "Error": text.into() }))).into_response()
}

/// `POST /api/v1/send`: answers `{"ID": "…"}`.
#[utoipa::path(post, path = "/api/v1/send", tag = "send",
    summary = "Build a message and store it as if it came over SMTP",
    request_body = SendRequest,
    responses((status = 200, body = Sent),
        (status = 400, description = "{\"Error\": \"…\"} naming the problem"),
        (status = 413, description = "Over the maximum message size")))]
pub async fn send_message(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        // Over the size limit (413) or a broken upload: still a JSON answer.
        Err(rejection) => return error(rejection.status(), rejection.body_text()),
    };
    let request: SendRequest = match json::decode_nested(&body, &["headers"]) {
        Ok(Some(request)) => request,
        Ok(None) => return error(StatusCode::BAD_REQUEST, "a JSON body is required"),
        Err(e) => return error(StatusCode::BAD_REQUEST, e.to_string()),
    };
    let Some(from) = request.from else {
        return error(StatusCode::BAD_REQUEST, "From is required");
    };
    let contacts = |list: Vec<Contact>| -> Vec<Address> {
        list.into_iter()
            .map(|c| Address {
                email: c.email,
                name: c.name,
            })
            .collect()
    };
    let mut attachments = Vec::with_capacity(request.attachments.len());
    for a in request.attachments {
        // A data: URL prefix is tolerated, as in Mailpit.
        let content = a.content.rsplit(',').next().unwrap_or_default();
        match BASE64.decode(content.trim()) {
            Ok(data) => attachments.push(DraftAttachment {
                file_name: a.filename,
                content_type: a.contenttype.filter(|t| !t.is_empty()),
                content_id: a.contentid.filter(|id| !id.is_empty()),
                data,
            }),
            Err(_) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "invalid attachment content for {:?}: not base64",
                        a.filename
                    ),
                );
            }
        }
    }
    let draft = Draft {
        from: Address {
            email: from.email,
            name: from.name,
        },
        to: contacts(request.to),
        cc: contacts(request.cc),
        bcc: request.bcc,
        reply_to: contacts(request.replyto),
        subject: request.subject,
        text: request.text,
        html: request.html,
        headers: request.headers.into_iter().collect(),
        tags: request.tags,
        attachments,
    };
    let message = match compose::compose(&draft, &state.hostname) {
        Ok(message) => message,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.to_string()),
    };
    if message.len() > state.max_message_size {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "message exceeds the maximum message size",
        );
    }
    let recipients: Vec<Recipient> = draft
        .to
        .iter()
        .chain(&draft.cc)
        .map(|a| Recipient::new(a.email.clone()))
        .chain(draft.bcc.iter().map(|b| Recipient::new(b.clone())))
        .collect();
    let id = MessageId::generate();
    let now = Utc::now();
    let mut data = trace::headers(&trace::Trace {
        mail_from: &draft.from.email,
        helo: "api",
        peer: peer.ip(),
        hostname: &state.hostname,
        id: &id,
        protocol: "HTTP",
        at: now,
    });
    data.extend_from_slice(&message);
    let envelope = Envelope {
        mail_from: draft.from.email.clone(),
        recipients,
        helo: "api".to_owned(),
        client_addr: peer.to_string(),
        auth_user: None,
        tls: false,
        dsn_ret: None,
        dsn_envid: None,
    };
    let stored =
        tokio::task::spawn_blocking(move || NewMessage::new(id, now, envelope, data)).await;
    let Ok(new) = stored else {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the message could not be read",
        );
    };
    match state.store.insert(new).await {
        Ok(meta) => Json(Sent {
            id: meta.id.to_string(),
        })
        .into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}
