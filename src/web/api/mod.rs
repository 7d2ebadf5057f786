//! The REST API: Mailpit's API v1 (paths, parameters, JSON shapes and quirks,
//! see COMPAT), and what Mailsink adds: `GET /api/v1/wait` and `?peek=1`.

mod error;
mod info;
mod json;
mod message;
mod messages;
mod params;
pub mod shapes;
mod tags;
mod view;
mod wait;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;

pub use error::ApiError;

use crate::stats::Stats;
use crate::store::Store;

/// What the API handlers share.
#[derive(Clone)]
pub struct ApiState {
    pub store: Store,
    pub stats: Arc<Stats>,
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
        .route("/api/v1/info", get(info::info))
        .route("/api/v1/webui", get(info::webui))
        .route("/view/{file}", get(view::view_file))
        .with_state(state)
}
