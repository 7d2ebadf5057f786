//! The web UI: the inbox at `/`, search at `/search?q=…` and a message at
//! `/view/{ID}`, as in Mailpit. Pages are rendered by askama from
//! `templates/` and work without script; `static/mailsink.js` (a small ES
//! module, no build step) makes them live through `/api/events` and acts
//! through the REST API. Everything is embedded in the binary ([`assets`]).

pub mod assets;
mod format;
mod inbox;
mod message;
mod page;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::get;

use super::AppState;
use crate::store::MessageId;

pub use inbox::{MAX_QUERY, PAGE_SIZE};

/// The UI's routes. The message page shares `/view/{file}` with the API's
/// `{ID}.html`, `{ID}.txt` and `latest`: [`message_pages`] picks it out.
pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/", get(inbox::inbox))
        .route("/search", get(inbox::search))
        .route("/static/{name}", get(assets::serve))
        .route("/favicon.ico", get(assets::favicon))
        .with_state(state)
}

/// Middleware: `GET /view/{ID}` with a bare message ID is the UI's message
/// page; every other `/view/…` goes on to the API.
pub async fn message_pages(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD)
        && let Some(id) = request
            .uri()
            .path()
            .strip_prefix("/view/")
            .and_then(|rest| rest.parse::<MessageId>().ok())
    {
        let peek = request
            .uri()
            .query()
            .unwrap_or_default()
            .split('&')
            .any(|pair| matches!(pair, "peek=1" | "peek=true" | "peek=yes"));
        return message::show(&state, id, peek).await;
    }
    next.run(request).await
}

/// The page for an unknown UI route.
pub fn not_found() -> Response {
    page::not_found()
}
