//! The HTTP listener: health checks for orchestrators (`/livez`, `/readyz`) and
//! the start page, rendered by askama from `templates/` with its stylesheet
//! embedded from `static/`.

use std::net::SocketAddr;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::store::{MessageMeta, Store};

/// Messages shown on the start page.
const RECENT: u64 = 50;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// The SMTP address to show a new user, when SMTP is on.
    pub smtp_addr: Option<SocketAddr>,
}

/// The router, apart from any socket so tests can call it directly.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/livez", get(livez))
        .route("/readyz", get(readyz))
        .route("/static/mailsink.css", get(stylesheet))
        .with_state(state)
}

/// Serves `router` on `listener` until `cancel` fires, then finishes open requests.
pub async fn serve(listener: TcpListener, router: Router, cancel: CancellationToken) {
    let shutdown = async move { cancel.cancelled().await };
    if let Err(error) = axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
    {
        tracing::error!(%error, "HTTP listener failed");
    }
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
