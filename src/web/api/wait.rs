//! `GET /api/v1/wait`: holds the request until enough messages match, so
//! tests need no polling loop. Woken by the store's events, never by a timer.

use std::time::Duration;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::time::Instant;

use super::ApiState;
use super::error::ApiError;
use super::messages::summary;
use super::params::Params;
use crate::store::Filter;

/// Longest wait a request may ask for, in seconds.
const MAX_TIMEOUT: u64 = 3600;

/// `?query=` (optional; all messages without it), `count` (default 1),
/// `timeout` in seconds (default 30), `start` and `limit` as for a search.
/// Answers like `GET /api/v1/search` once `messages_count >= count`, or 408
/// with the same shape at the deadline.
#[utoipa::path(get, path = "/api/v1/wait", tag = "messages",
    summary = "Wait until enough messages match a search (Mailsink's own)",
    description = "Holds the request until messages_count >= count, then answers like /api/v1/search; \
        408 with the same shape when the timeout passes first. Woken by new mail, never by polling.",
    params(
        ("query" = Option<String>, Query, description = "The search; every message when absent"),
        ("count" = Option<u64>, Query, description = "Matches to wait for (default 1)"),
        ("timeout" = Option<u64>, Query, description = "Seconds to wait, at most 3600 (default 30)"),
        ("start" = Option<u64>, Query), ("limit" = Option<u64>, Query), ("tz" = Option<String>, Query),
    ),
    responses((status = 200, body = super::shapes::MessagesSummary),
        (status = 408, body = super::shapes::MessagesSummary, description = "Timed out"),
        (status = 400, description = "A bad parameter")))]
pub async fn wait_for_messages(
    State(state): State<ApiState>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    let query = params.search()?;
    let count = params.number("count", 1, u64::MAX)?;
    let timeout = params.number("timeout", 30, MAX_TIMEOUT)?;
    let deadline = Instant::now() + Duration::from_secs(timeout);
    // Subscribed before the first look, so nothing committed after it is missed.
    let mut events = state.store.subscribe();
    loop {
        let filter = Filter {
            query: query.clone(),
            before: None,
            offset: params.start(),
            limit: params.limit(),
        };
        let found = summary(&state, filter).await?;
        if found.messages_count >= count {
            return Ok(Json(found).into_response());
        }
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Err(_) => return Ok((StatusCode::REQUEST_TIMEOUT, Json(found)).into_response()),
            Ok(Ok(_) | Err(RecvError::Lagged(_))) => {
                // One look covers every change already queued.
                while !matches!(
                    events.try_recv(),
                    Err(TryRecvError::Empty | TryRecvError::Closed)
                ) {}
            }
            Ok(Err(RecvError::Closed)) => {
                return Ok((StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response());
            }
        }
    }
}
