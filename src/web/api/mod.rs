//! The REST API: Mailpit's API v1 (paths, parameters, JSON shapes and quirks,
//! see COMPAT), MailHog's API ([`mailhog`]) where it does not collide, and
//! what Mailsink adds: `GET /api/v1/wait` and `?peek=1`.

mod error;
mod events;
mod info;
mod json;
mod mailhog;
mod message;
mod messages;
mod params;
mod send;
pub mod shapes;
mod tags;
mod unconfigured;
mod view;
mod wait;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::header;
use axum::routing::{get, post};
use tokio_util::sync::CancellationToken;
use utoipa::OpenApi;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

pub use error::ApiError;

use crate::stats::Stats;
use crate::store::Store;

/// Largest JSON body accepted, except by the send API (Mailpit's limit).
const MAX_JSON_BODY: usize = 5 << 20;

/// What the API handlers share.
#[derive(Clone)]
pub struct ApiState {
    pub store: Store,
    pub stats: Arc<Stats>,
    /// The server's name, for the trace headers of sent messages.
    pub hostname: String,
    /// Largest message accepted, by SMTP and the send API alike.
    pub max_message_size: usize,
    /// Ends long-lived streams when the server shuts down.
    pub shutdown: CancellationToken,
}

/// The OpenAPI document's frame; the paths come from the handlers themselves.
#[derive(utoipa::OpenApi)]
#[openapi(info(
    title = "Mailsink API",
    description = "Mailpit's REST API v1, plus GET /api/v1/wait, GET /api/v1/message/{id}/extract \
        and ?peek=1. Request field names match in any case; mutations answer 200 \"ok\".",
))]
struct ApiDoc;

/// The API's routes, including `/view/{ID}.html|.txt`, and the OpenAPI
/// document built from the same handlers at `/api/v1/swagger.json`.
pub fn routes(state: ApiState) -> Router {
    // Base64 makes attachments a third larger than the message they make.
    let send_limit = DefaultBodyLimit::max(state.max_message_size.saturating_mul(3) / 2);
    let (router, doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(
            messages::list_messages,
            messages::set_read,
            messages::delete_messages
        ))
        .routes(routes!(messages::search_messages, messages::delete_search))
        .routes(routes!(wait::wait_for_messages))
        .routes(routes!(message::get_message))
        .routes(routes!(message::get_headers))
        .routes(routes!(message::get_raw))
        .routes(routes!(message::get_part))
        .routes(routes!(message::get_thumbnail))
        .routes(routes!(message::get_extract))
        .routes(routes!(tags::list_tags, tags::set_tags))
        .routes(routes!(tags::rename_tag, tags::delete_tag))
        .routes(routes!(info::info))
        .routes(routes!(info::webui))
        .routes(routes!(events::events))
        .routes(routes!(view::view_file))
        .layer(DefaultBodyLimit::max(MAX_JSON_BODY))
        .routes(routes!(send::send_message).layer(send_limit))
        .split_for_parts();
    let doc = doc.to_json().unwrap_or_else(|error| {
        tracing::error!(%error, "cannot serialise the OpenAPI document");
        "{}".to_owned()
    });
    router
        .route(
            "/api/v1/swagger.json",
            get(move || async move { ([(header::CONTENT_TYPE, "application/json")], doc) }),
        )
        .route("/api/v1/message/{id}/release", post(unconfigured::release))
        .route(
            "/api/v1/message/{id}/html-check",
            get(unconfigured::html_check),
        )
        .route(
            "/api/v1/message/{id}/link-check",
            get(unconfigured::link_check),
        )
        .route(
            "/api/v1/chaos",
            get(unconfigured::chaos).put(unconfigured::chaos),
        )
        .merge(mailhog::routes())
        .with_state(state)
}
