//! `/view/{ID}.html` and `/view/{ID}.txt`: a message's HTML or text part on
//! its own, as the web UI's preview frame and Mailpit's clients load them.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::ApiState;
use super::error::ApiError;
use super::message::{load, mark_read, resolve};
use super::params::Params;
use crate::message::{html, view};

/// Caught HTML may carry anything: no script runs, nothing is posted, and only
/// our own pages may frame it. Pictures and styles may load from anywhere, as
/// a mail client would show them.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; img-src * data: blob:; \
     style-src * 'unsafe-inline'; font-src * data:; media-src * data:; \
     form-action 'none'; base-uri 'none'; frame-ancestors 'self'";

/// `GET /view/{file}`: `{ID}.html`, `{ID}.txt`, or `latest` (a redirect to the
/// newest message's page).
#[utoipa::path(get, path = "/view/{file}", tag = "message",
    summary = "The HTML ({ID}.html) or text ({ID}.txt) part alone; marks read unless ?peek=1",
    params(("file" = String, Path, description = "{ID}.html, {ID}.txt or latest"),
        ("embed" = Option<bool>, Query, description = "For a preview frame: links open outside it"),
        ("peek" = Option<bool>, Query), ("query" = Option<String>, Query)),
    responses((status = 200, description = "The part"), (status = 302, description = "For latest"),
        (status = 404, description = "No such message, or no HTML part")))]
pub async fn view_file(
    State(state): State<ApiState>,
    Path(file): Path<String>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    if let Some(id) = file.strip_suffix(".html") {
        return html_part(&state, id, &params).await;
    }
    if let Some(id) = file.strip_suffix(".txt") {
        return text_part(&state, id, &params).await;
    }
    if file == "latest" {
        let meta = resolve(&state, "latest", &params).await?;
        // Mailpit answers 302 here.
        let location = format!("/view/{}", meta.id);
        return Ok((StatusCode::FOUND, [(header::LOCATION, location)]).into_response());
    }
    Err(ApiError::NotFound)
}

async fn html_part(state: &ApiState, id: &str, params: &Params) -> Result<Response, ApiError> {
    let (mut meta, raw) = load(state, id, params).await?;
    let view = view::view(&raw);
    if view.html.is_empty() {
        return Ok((
            StatusCode::NOT_FOUND,
            "This message does not contain a HTML part\n",
        )
            .into_response());
    }
    mark_read(state, &mut meta, params).await?;
    let parts: Vec<(String, String)> = view
        .inline
        .iter()
        .chain(&view.attachments)
        .filter(|a| !a.content_id.is_empty())
        .map(|a| (a.content_id.clone(), a.part_id.clone()))
        .collect();
    let mut body = html::rewrite_cid(&view.html, meta.id.as_str(), &parts);
    if params.flag("embed") {
        body = embed(&body);
    }
    let mut response = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(response)
}

/// For a preview frame: links open outside it, without a referrer.
fn embed(html: &str) -> String {
    let linked = html
        .replace("<a ", "<a target=\"_blank\" rel=\"noreferrer noopener\" ")
        .replace("<A ", "<A target=\"_blank\" rel=\"noreferrer noopener\" ");
    if linked.to_ascii_lowercase().contains("<html") {
        linked
    } else {
        format!(
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body>{linked}</body></html>"
        )
    }
}

async fn text_part(state: &ApiState, id: &str, params: &Params) -> Result<Response, ApiError> {
    let (mut meta, raw) = load(state, id, params).await?;
    let view = view::view(&raw);
    mark_read(state, &mut meta, params).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        view.text,
    )
        .into_response())
}
