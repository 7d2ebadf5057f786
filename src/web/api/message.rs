//! One message: its JSON, headers, raw source, parts and thumbnails, and the
//! `latest` alias (optionally with `?query=`) that stands for the newest one.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::ApiState;
use super::error::ApiError;
use super::params::Params;
use super::shapes::Message;
use crate::message::{headers, part, thumbnail, view};
use crate::store::{MessageMeta, Target};

/// The message an `{ID}` path segment names: an ID, or `latest`.
pub async fn resolve(state: &ApiState, id: &str, params: &Params) -> Result<MessageMeta, ApiError> {
    let found = if id == "latest" {
        state.store.latest(params.search()?).await?
    } else {
        let id = id.parse().map_err(|_| ApiError::NoMessage)?;
        state.store.get(&id).await?
    };
    found.ok_or(ApiError::NoMessage)
}

/// The message and its stored bytes.
pub async fn load(
    state: &ApiState,
    id: &str,
    params: &Params,
) -> Result<(MessageMeta, Vec<u8>), ApiError> {
    let meta = resolve(state, id, params).await?;
    let raw = state
        .store
        .raw(&meta.id)
        .await?
        .ok_or(ApiError::NoMessage)?;
    Ok((meta, raw))
}

/// Opening a message marks it read, as in Mailpit, unless `?peek=1`.
pub async fn mark_read(
    state: &ApiState,
    meta: &mut MessageMeta,
    params: &Params,
) -> Result<(), ApiError> {
    if !meta.read && !params.flag("peek") {
        state
            .store
            .set_read(Target::Ids(vec![meta.id.clone()]), true)
            .await?;
        meta.read = true;
    }
    Ok(())
}

/// `GET /api/v1/message/{ID}`
#[utoipa::path(get, path = "/api/v1/message/{id}", tag = "message",
    summary = "A message; opening it marks it read unless ?peek=1",
    params(("id" = String, Path, description = "A message ID, or latest for the newest (with ?query= the newest matching)"), ("query" = Option<String>, Query, description = "With latest: the newest message matching this search"),
        ("peek" = Option<bool>, Query, description = "Read without marking read")),
    responses((status = 200, body = Message), (status = 404, description = "Message not found")))]
pub async fn get_message(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    Query(params): Query<Params>,
) -> Result<Json<Message>, ApiError> {
    let (mut meta, raw) = load(&state, &id, &params).await?;
    let view = tokio::task::spawn_blocking(move || view::view(&raw))
        .await
        .map_err(|_| ApiError::bad("Error: the message could not be read"))?;
    mark_read(&state, &mut meta, &params).await?;
    Ok(Json(Message::new(&meta, view)))
}

/// `GET /api/v1/message/{ID}/headers`
#[utoipa::path(get, path = "/api/v1/message/{id}/headers", tag = "message",
    summary = "The headers, keyed by canonical name, values as received",
    params(("id" = String, Path, description = "A message ID, or latest for the newest (with ?query= the newest matching)"), ("query" = Option<String>, Query, description = "With latest: the newest message matching this search")),
    responses((status = 200, body = std::collections::BTreeMap<String, Vec<String>>),
        (status = 404, description = "Message not found")))]
pub async fn get_headers(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    let (_, raw) = load(&state, &id, &params).await?;
    Ok(Json(headers::headers(&raw)).into_response())
}

/// `GET /api/v1/message/{ID}/raw` (`?dl=1` to download as `<ID>.eml`)
#[utoipa::path(get, path = "/api/v1/message/{id}/raw", tag = "message",
    summary = "The message source as stored",
    params(("id" = String, Path, description = "A message ID, or latest for the newest (with ?query= the newest matching)"), ("query" = Option<String>, Query, description = "With latest: the newest message matching this search"),
        ("dl" = Option<bool>, Query, description = "Download as <ID>.eml")),
    responses((status = 200, content_type = "text/plain", body = String),
        (status = 404, description = "Message not found")))]
pub async fn get_raw(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    let (meta, raw) = load(&state, &id, &params).await?;
    let mut response = (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        Body::from(raw),
    )
        .into_response();
    if params.flag("dl") {
        let disposition = format!("attachment; filename=\"{}.eml\"", meta.id);
        if let Ok(value) = HeaderValue::from_str(&disposition) {
            response
                .headers_mut()
                .insert(header::CONTENT_DISPOSITION, value);
        }
    }
    Ok(response)
}

/// `GET /api/v1/message/{ID}/part/{PartID}`: the decoded part.
#[utoipa::path(get, path = "/api/v1/message/{id}/part/{part}", tag = "message",
    summary = "One MIME part, decoded",
    params(("id" = String, Path, description = "A message ID, or latest for the newest (with ?query= the newest matching)"), ("part" = String, Path, description = "The PartID, e.g. 2 or 1.2"), ("query" = Option<String>, Query, description = "With latest: the newest message matching this search")),
    responses((status = 200, description = "The part's bytes with its Content-Type"),
        (status = 404, description = "No such message or part")))]
pub async fn get_part(
    State(state): State<ApiState>,
    Path((id, part_id)): Path<(String, String)>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    let (_, raw) = load(&state, &id, &params).await?;
    let part = part::part(&raw, &part_id).ok_or(ApiError::NotFound)?;
    let name = if part.file_name.is_empty() {
        part.content_id.clone()
    } else {
        part.file_name.clone()
    };
    let mut response = Body::from(part.data).into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&part.content_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    // The name comes from the message: keep it to safe characters.
    let safe: String = name
        .chars()
        .filter(|c| !c.is_control() && *c != '"' && *c != '\\')
        .collect();
    if let Ok(value) = HeaderValue::from_str(&format!("inline; filename=\"{safe}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // A part opened in the browser (an HTML or SVG attachment) is the
    // sender's content on Mailsink's origin: it runs in a sandbox, as an
    // opaque origin without script. Chromium shows no PDF in a sandbox, and a
    // PDF runs no script of its own there.
    if part.content_type != "application/pdf" {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PART_POLICY),
        );
    }
    Ok(response)
}

/// The Content-Security-Policy of a part served on its own.
const PART_POLICY: &str = "sandbox; default-src 'none'; img-src 'self' data:; \
     style-src 'unsafe-inline'; media-src 'self'";

/// `GET /api/v1/message/{ID}/part/{PartID}/thumb`: a 180×120 JPEG.
#[utoipa::path(get, path = "/api/v1/message/{id}/part/{part}/thumb", tag = "message",
    summary = "A 180×120 JPEG thumbnail of an image part (white for anything else)",
    params(("id" = String, Path, description = "A message ID"), ("part" = String, Path)),
    responses((status = 200, content_type = "image/jpeg", description = "The thumbnail"),
        (status = 400, description = "No such part"), (status = 404, description = "Message not found")))]
pub async fn get_thumbnail(
    State(state): State<ApiState>,
    Path((id, part_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    // Like Mailpit, no `latest` here.
    let id_value = id.parse().map_err(|_| ApiError::NoMessage)?;
    let raw = state
        .store
        .raw(&id_value)
        .await?
        .ok_or(ApiError::NoMessage)?;
    let part = part::part(&raw, &part_id)
        .ok_or_else(|| ApiError::bad(format!("Error: no part {part_id:?} in message {id}")))?;
    let jpeg = tokio::task::spawn_blocking(move || thumbnail::thumbnail(&part.data))
        .await
        .map_err(|_| ApiError::bad("Error: the thumbnail could not be made"))?;
    Ok(([(header::CONTENT_TYPE, "image/jpeg")], jpeg).into_response())
}

/// `GET /api/v1/message/{ID}/extract`: the links and one-time codes in the
/// message, for "click the confirmation link" and "type the code" tests.
#[utoipa::path(get, path = "/api/v1/message/{id}/extract", tag = "message",
    summary = "The links and one-time codes found in the message (Mailsink's own)",
    params(("id" = String, Path, description = "A message ID, or latest for the newest (with ?query= the newest matching)"), ("query" = Option<String>, Query, description = "With latest: the newest message matching this search")),
    responses((status = 200, body = crate::message::extract::Extracted),
        (status = 404, description = "Message not found")))]
pub async fn get_extract(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    Query(params): Query<Params>,
) -> Result<Json<crate::message::extract::Extracted>, ApiError> {
    let (_, raw) = load(&state, &id, &params).await?;
    let extracted = tokio::task::spawn_blocking(move || {
        let view = view::view(&raw);
        crate::message::extract::extract(&view.text, &view.html)
    })
    .await
    .map_err(|_| ApiError::bad("Error: the message could not be read"))?;
    Ok(Json(extracted))
}
