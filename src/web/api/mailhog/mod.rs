//! MailHog's API (COMPAT §3), for the clients and CI scripts written for
//! MailHog: `/api/v2/messages`, `/api/v2/search`, the v1 routes that take a
//! message ID under `/api/v1/messages/`, the live `/api/v1/events` (SSE) and
//! `/api/v2/websocket`, and Jim and release answered as switched off.
//! Where a path is also Mailpit's (`/api/v1/messages` itself), Mailpit's
//! answer wins; it lives in [`super::messages`].
//!
//! Departures from MailHog, each for a reason: an unknown message ID is a 404
//! (MailHog answers `null` or a 500), a part download only carries the part's
//! `Content-Type` and is always an attachment (a caught part must never be
//! rendered on Mailsink's origin), and the live streams check `Origin`.

mod live;
mod shape;

use std::collections::HashMap;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::ApiState;
use super::error::ApiError;
use super::unconfigured;
use crate::store::search::{Field, Term};
use crate::store::{Filter, MessageId, MessageMeta, Query as Search, Target};
use shape::Message;

/// Items per page when `limit` is missing, zero or negative.
const DEFAULT_LIMIT: u64 = 50;
/// MailHog never sends more than this many items at once.
const MAX_LIMIT: u64 = 250;

/// The MailHog routes, to be merged with the Mailpit ones.
pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/api/v2/messages", get(list_messages))
        .route("/api/v2/search", get(search_messages))
        .route(
            "/api/v2/jim",
            get(jim_off).put(jim_off).delete(jim_off).post(enable_jim),
        )
        .route("/api/v2/outgoing-smtp", get(outgoing_smtp))
        .route("/api/v2/websocket", get(live::websocket))
        .route("/api/v1/events", get(live::events))
        .route(
            "/api/v1/messages/{id}",
            get(get_message).delete(delete_message),
        )
        .route("/api/v1/messages/{id}/download", get(download))
        .route(
            "/api/v1/messages/{id}/mime/part/{index}/download",
            get(download_part),
        )
        .route("/api/v1/messages/{id}/release", post(unconfigured::release))
}

/// `start` and `limit` as MailHog reads them: anything unreadable is the default.
fn paging(params: &HashMap<String, String>) -> (u64, u64) {
    let number = |name: &str| params.get(name).and_then(|v| v.trim().parse::<i64>().ok());
    let start = number("start")
        .and_then(|n| u64::try_from(n).ok())
        .unwrap_or(0);
    let limit = match number("limit") {
        Some(n) if n > 0 => u64::try_from(n).unwrap_or(MAX_LIMIT).min(MAX_LIMIT),
        _ => DEFAULT_LIMIT,
    };
    (start, limit)
}

/// The message ID in a path: Mailsink's ID, alone or as MailHog's `ID@host`.
fn message_id(raw: &str) -> Result<MessageId, ApiError> {
    let id = raw.split_once('@').map_or(raw, |(id, _)| id);
    id.parse().map_err(|_| ApiError::NoMessage)
}

async fn load(state: &ApiState, id: &MessageId) -> Result<Message, ApiError> {
    let meta = state.store.get(id).await?.ok_or(ApiError::NoMessage)?;
    let raw = state.store.raw(id).await?.ok_or(ApiError::NoMessage)?;
    Ok(Message::new(&meta, &raw, &state.hostname))
}

/// The JSON of each message still stored, in order.
async fn messages(state: &ApiState, metas: &[MessageMeta]) -> Result<Vec<Message>, ApiError> {
    let mut items = Vec::with_capacity(metas.len());
    for meta in metas {
        // A message deleted since the page was read is left out.
        if let Some(raw) = state.store.raw(&meta.id).await? {
            items.push(Message::new(meta, &raw, &state.hostname));
        }
    }
    Ok(items)
}

/// A page of messages in MailHog's envelope, with its content type.
async fn page(
    state: &ApiState,
    query: Option<Search>,
    params: &HashMap<String, String>,
    content_type: &'static str,
) -> Result<Response, ApiError> {
    let (start, limit) = paging(params);
    let page = state
        .store
        .page(Filter {
            query,
            before: None,
            offset: start,
            limit: Some(limit),
        })
        .await?;
    let items = messages(state, &page.messages).await?;
    let body = serde_json::json!({
        "total": page.matched,
        "count": items.len(),
        "start": start,
        "items": items,
    });
    Ok(([(header::CONTENT_TYPE, content_type)], body.to_string()).into_response())
}

/// `GET /api/v2/messages`: newest first. MailHog's content type is `text/json`.
async fn list_messages(
    State(state): State<ApiState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    page(&state, None, &params, "text/json").await
}

/// `GET /api/v2/search?kind=from|to|containing&query=…`
async fn search_messages(
    State(state): State<ApiState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let text = params.get("query").map(|q| q.trim()).unwrap_or_default();
    if text.is_empty() {
        return Err(ApiError::bad("Error: no query (query=…)"));
    }
    let text = text.to_owned();
    let term = |term: Term| Search::Term(term);
    // MailHog matches the envelope as well as the headers.
    let query = match params.get("kind").map(String::as_str) {
        Some("from") => Search::Or(vec![
            term(Term::Field(Field::From, text.clone())),
            term(Term::EnvelopeFrom(text)),
        ]),
        Some("to") => Search::Or(vec![
            term(Term::Field(Field::To, text.clone())),
            term(Term::EnvelopeTo(text)),
        ]),
        Some("containing") => term(Term::Text(text)),
        _ => return Err(ApiError::bad("Error: kind must be from, to or containing")),
    };
    page(&state, Some(query), &params, "application/json").await
}

/// `GET /api/v1/messages/{id}`
async fn get_message(
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let message = load(&state, &message_id(&id)?).await?;
    let body = serde_json::to_string(&message).map_err(|e| ApiError::bad(e.to_string()))?;
    Ok(([(header::CONTENT_TYPE, "text/json")], body).into_response())
}

/// `DELETE /api/v1/messages/{id}`: an empty 200, as MailHog's clients expect.
async fn delete_message(
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = message_id(&id)?;
    match state.store.delete(Target::Ids(vec![id])).await? {
        0 => Err(ApiError::NoMessage),
        _ => Ok(StatusCode::OK.into_response()),
    }
}

/// `GET /api/v1/messages/{id}/download`: the message as stored, as a `.eml` file.
async fn download(
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let message_id = message_id(&id)?;
    let raw = state
        .store
        .raw(&message_id)
        .await?
        .ok_or(ApiError::NoMessage)?;
    let name = format!("{message_id}@{}.eml", state.hostname);
    Ok(attachment(raw.into(), "message/rfc822", &name))
}

/// `GET /api/v1/messages/{id}/mime/part/{index}/download`: one top-level part
/// as MailHog numbers them, base64 decoded when it is base64.
async fn download_part(
    State(state): State<ApiState>,
    Path((id, index)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let message_id = message_id(&id)?;
    let message = load(&state, &message_id).await?;
    let index: usize = index
        .parse()
        .map_err(|_| ApiError::bad(format!("Error: part index {index:?} is not a number")))?;
    let (headers, body) = message.part(index).ok_or(ApiError::NotFound)?;
    let first = |name: &str| {
        headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .and_then(|(_, values)| values.first())
            .map(String::as_str)
    };
    let bytes = match first("Content-Transfer-Encoding") {
        Some(encoding) if encoding.trim().eq_ignore_ascii_case("base64") => {
            let compact: String = body.split_whitespace().collect();
            BASE64
                .decode(compact)
                .map_err(|_| ApiError::bad(format!("Error: part {index} is not valid base64")))?
        }
        _ => body.as_bytes().to_vec(),
    };
    let content_type = first("Content-Type").unwrap_or("application/octet-stream");
    let name = first("Content-Disposition")
        .and_then(file_name)
        .unwrap_or_else(|| format!("{message_id}-part-{index}"));
    Ok(attachment(bytes.into(), content_type, &name))
}

/// The `filename` parameter of a Content-Disposition value.
fn file_name(disposition: &str) -> Option<String> {
    disposition
        .split(';')
        .filter_map(|param| param.split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("filename"))
        .map(|(_, value)| value.trim().trim_matches('"').to_owned())
        .filter(|name| !name.is_empty())
}

/// A download: never rendered in the browser, whatever the type says.
fn attachment(body: Body, content_type: &str, name: &str) -> Response {
    let content_type = HeaderValue::from_str(content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    // Quotes and control characters cannot end the parameter early.
    let name: String = name
        .chars()
        .map(|c| {
            if c == '"' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .unwrap_or(HeaderValue::from_static("attachment"));
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            // Should a browser render it after all, it runs nothing.
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("sandbox; default-src 'none'"),
            ),
        ],
        body,
    )
        .into_response()
}

/// Jim, MailHog's chaos monkey, is never on: `GET` answers 404, which is how
/// clients tell it is off, and so do `PUT` and `DELETE`, as MailHog does
/// when it is off.
async fn jim_off() -> StatusCode {
    StatusCode::NOT_FOUND
}

/// `POST /api/v2/jim`: refused, so a test that needs Jim fails clearly.
async fn enable_jim() -> ApiError {
    ApiError::bad("Error: Jim (MailHog's chaos monkey) is not available in Mailsink")
}

/// `GET /api/v2/outgoing-smtp`: no release servers are configured.
async fn outgoing_smtp() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], "{}").into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn paging_reads_like_mailhog() {
        assert_eq!(paging(&params(&[])), (0, 50));
        assert_eq!(paging(&params(&[("start", "5"), ("limit", "10")])), (5, 10));
        assert_eq!(paging(&params(&[("limit", "1000")])), (0, 250));
        assert_eq!(paging(&params(&[("limit", "0")])), (0, 50));
        assert_eq!(
            paging(&params(&[("limit", "-3"), ("start", "-1")])),
            (0, 50)
        );
        assert_eq!(paging(&params(&[("limit", "x"), ("start", "y")])), (0, 50));
    }

    #[test]
    fn ids_with_and_without_host() {
        let id = "abcdefghijklmnopqrstuv";
        assert_eq!(message_id(id).expect("plain").as_str(), id);
        assert_eq!(
            message_id(&format!("{id}@mailsink"))
                .expect("hosted")
                .as_str(),
            id
        );
        assert!(message_id("short@x").is_err());
        assert_eq!(
            file_name("attachment; filename=\"a.pdf\"").as_deref(),
            Some("a.pdf")
        );
        assert_eq!(file_name("inline"), None);
    }
}
