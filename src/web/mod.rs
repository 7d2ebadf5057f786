//! The HTTP listener: the web UI ([`ui`]), the REST API ([`api`]) and health
//! checks for orchestrators (`/livez`, `/readyz`). With `--ui-auth` every
//! route but the health checks asks for basic auth ([`basic_auth`]).

pub mod api;
pub mod basic_auth;
pub mod ui;

pub use basic_auth::BasicAuth;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::ServiceExt;
use axum::extract::Request;
use axum::extract::State;
use axum::http::HeaderValue;
use axum::http::{StatusCode, header};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::Layer;
use tower::util::MapRequestLayer;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::stats::Stats;
use crate::store::Store;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub stats: Arc<Stats>,
    /// The SMTP address to show a new user, when SMTP is on.
    pub smtp_addr: Option<SocketAddr>,
    pub hostname: String,
    pub max_message_size: usize,
    pub shutdown: CancellationToken,
    /// Basic auth asked for on every route but the health checks.
    pub ui_auth: Option<BasicAuth>,
}

/// The router, apart from any socket so tests can call it directly.
pub fn app(state: AppState) -> Router {
    let api = api::routes(api::ApiState {
        store: state.store.clone(),
        stats: Arc::clone(&state.stats),
        hostname: state.hostname.clone(),
        max_message_size: state.max_message_size,
        shutdown: state.shutdown.clone(),
    });
    let mut routes = ui::routes(state.clone())
        .merge(api)
        .fallback(not_found)
        .layer(from_fn_with_state(state.clone(), ui::message_pages));
    if let Some(auth) = state.ui_auth.clone() {
        routes = routes.layer(from_fn_with_state(auth, basic_auth::require));
    }
    Router::new()
        .route("/livez", get(livez))
        .route("/readyz", get(readyz))
        .with_state(state)
        .merge(routes)
        // No response is to be read as another type than it says, and no
        // page hands its address (which holds message IDs) to another site.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
}

/// Unknown routes answer as Go's router does for Mailpit; a person's
/// browser gets the UI's page instead.
async fn not_found(request: Request) -> Response {
    let wants_html = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if wants_html && !request.uri().path().starts_with("/api/") {
        return ui::not_found();
    }
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "404 page not found\n",
    )
        .into_response()
}

/// Serves `router` on `listener` until `cancel` fires, then finishes open requests.
pub async fn serve(listener: TcpListener, router: Router, cancel: CancellationToken) {
    let shutdown = async move { cancel.cancelled().await };
    // Paths are cleaned before routing: clients build URLs such as
    // `//view/{ID}.html`, which Mailpit's Go router accepts.
    let app = MapRequestLayer::new(collapse_slashes).layer(router);
    let service = ServiceExt::<Request>::into_make_service_with_connect_info::<SocketAddr>(app);
    if let Err(error) = axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await
    {
        tracing::error!(%error, "HTTP listener failed");
    }
}

/// Rewrites runs of `/` in the path to one.
fn collapse_slashes(mut request: Request) -> Request {
    let uri = request.uri();
    if !uri.path().contains("//") {
        return request;
    }
    let mut path = String::with_capacity(uri.path().len());
    for c in uri.path().chars() {
        if !(c == '/' && path.ends_with('/')) {
            path.push(c);
        }
    }
    let path_and_query = match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path,
    };
    let mut parts = uri.clone().into_parts();
    if let Ok(value) = path_and_query.parse() {
        parts.path_and_query = Some(value);
        if let Ok(uri) = axum::http::Uri::from_parts(parts) {
            *request.uri_mut() = uri;
        }
    }
    request
}

async fn livez() -> &'static str {
    "ok"
}

/// Ready when the database answers a query.
async fn readyz(State(state): State<AppState>) -> Response {
    match state.store.count().await {
        Ok(_) => "ok".into_response(),
        Err(error) => (StatusCode::SERVICE_UNAVAILABLE, error.to_string()).into_response(),
    }
}
