//! The REST API: Mailpit's API v1 (paths, parameters, JSON shapes and quirks,
//! see COMPAT), and what Mailsink adds: `GET /api/v1/wait` and `?peek=1`.

mod error;
mod events;
mod info;
mod json;
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
use axum::routing::{get, post};
use tokio_util::sync::CancellationToken;

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

/// The API's routes, including `/view/{ID}.html|.txt`.
pub fn routes(state: ApiState) -> Router {
    Router::new()
        .route(
            "/api/v1/messages",
            get(messages::list_messages)
                .put(messages::set_read)
                .delete(messages::delete_messages),
        )
        .route(
            "/api/v1/search",
            get(messages::search_messages).delete(messages::delete_search),
        )
        .route("/api/v1/wait", get(wait::wait_for_messages))
        .route("/api/v1/message/{id}", get(message::get_message))
        .route("/api/v1/message/{id}/headers", get(message::get_headers))
        .route("/api/v1/message/{id}/raw", get(message::get_raw))
        .route("/api/v1/message/{id}/part/{part}", get(message::get_part))
        .route(
            "/api/v1/message/{id}/part/{part}/thumb",
            get(message::get_thumbnail),
        )
        .route("/api/v1/tags", get(tags::list_tags).put(tags::set_tags))
        .route(
            "/api/v1/tags/{tag}",
            axum::routing::put(tags::rename_tag).delete(tags::delete_tag),
        )
        .route("/api/v1/message/{id}/extract", get(message::get_extract))
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
        .route("/api/v1/info", get(info::info))
        .route("/api/v1/webui", get(info::webui))
        .route("/api/events", get(events::events))
        .route("/view/{file}", get(view::view_file))
        .layer(DefaultBodyLimit::max(MAX_JSON_BODY))
        .route(
            "/api/v1/send",
            // Base64 makes attachments a third larger than the message they make.
            post(send::send_message).layer(DefaultBodyLimit::max(
                state.max_message_size.saturating_mul(3) / 2,
            )),
        )
        .with_state(state)
}
