//! The HTTP listener: the REST API ([`api`]), health checks for orchestrators
//! (`/livez`, `/readyz`) and the start page, rendered by askama from
//! `templates/` with its stylesheet embedded from `static/`.

pub mod api;

use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::ServiceExt;
use axum::extract::Request;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::Layer;
use tower::util::MapRequestLayer;

use crate::stats::Stats;
use crate::store::{MessageMeta, Store};

/// Messages shown on the start page.
const RECENT: u64 = 50;

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
    Router::new()
        .route("/", get(index))
        .route("/livez", get(livez))
        .route("/readyz", get(readyz))
        .route("/static/mailsink.css", get(stylesheet))
        .with_state(state)
        .merge(api)
        .fallback(not_found)
}

/// Unknown routes answer as Go's router does for Mailpit.
async fn not_found() -> impl IntoResponse {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "404 page not found\n",
    )
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

#[derive(Template)]
#[template(path = "index.html")]
struct Index {
    total: u64,
    messages: Vec<MessageMeta>,
    smtp_addr: Option<SocketAddr>,
}

impl Index {
    fn from_line(meta: &MessageMeta) -> String {
        meta.summary
            .from
            .as_ref()
            .map(|m| {
                if m.name.is_empty() {
                    m.address.clone()
                } else {
                    m.name.clone()
                }
            })
            .unwrap_or_else(|| meta.envelope.mail_from.clone())
    }

    fn to_line(meta: &MessageMeta) -> String {
        let addresses: Vec<&str> = meta.summary.to.iter().map(|m| m.address.as_str()).collect();
        if addresses.is_empty() {
            meta.envelope.recipient_addresses().join(", ")
        } else {
            addresses.join(", ")
        }
    }

    fn received(meta: &MessageMeta) -> String {
        meta.received_at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
    }
}

async fn index(State(state): State<AppState>) -> Response {
    let page = async {
        Ok::<_, crate::store::Error>(Index {
            total: state.store.count().await?,
            messages: state.store.list(0, RECENT).await?,
            smtp_addr: state.smtp_addr,
        })
    };
    match page.await.map(|page| page.render()) {
        Ok(Ok(html)) => Html(html).into_response(),
        Ok(Err(error)) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
        Err(error) => (StatusCode::SERVICE_UNAVAILABLE, error.to_string()).into_response(),
    }
}

async fn stylesheet() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../../static/mailsink.css"),
    )
}
