//! `GET /api/events`: Mailpit's WebSocket of live changes. Every frame is
//! `{"Type": …, "Data": …}`: `new` (a message summary), `update` (read state
//! or tags), `delete`, `prune` (many changes: reload), `truncate` (all
//! deleted) and `stats` (counts, at most four times a second).

use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use super::ApiState;
use super::shapes::MessageSummary;
use crate::store::StoreEvent;

/// Deletions past this many are announced as one `prune`, as Mailpit does.
const MAX_DELETE_EVENTS: usize = 200;
/// Shortest gap between two `stats` frames.
const STATS_EVERY: Duration = Duration::from_millis(250);
/// Keep-alive pings, below common proxy idle timeouts.
const PING_EVERY: Duration = Duration::from_secs(30);

/// Upgrades to a WebSocket after checking where the page that asks comes from.
#[utoipa::path(get, path = "/api/events", tag = "events",
    summary = "WebSocket of live changes: {\"Type\": new|update|delete|prune|truncate|stats, \"Data\": …}",
    responses((status = 101, description = "Switching to the WebSocket"),
        (status = 403, description = "Another site's page asked")))]
pub async fn events(
    State(state): State<ApiState>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    if !same_origin(&headers) {
        // A page on another site must not read the mailbox through the
        // visitor's browser (cross-site WebSocket hijacking).
        return (StatusCode::FORBIDDEN, "cross-origin WebSocket refused\n").into_response();
    }
    upgrade.on_upgrade(move |socket| stream(socket, state))
}

/// No Origin (a non-browser client), or an Origin whose host is the Host asked for.
pub(super) fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let (Ok(origin), Some(Ok(host))) = (
        origin.to_str(),
        headers.get(header::HOST).map(|h| h.to_str()),
    ) else {
        return false;
    };
    let origin_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .unwrap_or_default();
    origin_host.eq_ignore_ascii_case(host)
}

async fn stream(mut socket: WebSocket, state: ApiState) {
    let mut events = state.store.subscribe();
    let mut stats_tick = tokio::time::interval(STATS_EVERY);
    let mut ping_tick = tokio::time::interval(PING_EVERY);
    ping_tick.reset();
    // The first stats frame goes out at once, on connect.
    let mut stats_due = true;
    loop {
        let frames = tokio::select! {
            () = state.shutdown.cancelled() => break,
            received = socket.recv() => match received {
                // Client frames are ignored; a close or an error ends the stream.
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => continue,
            },
            event = events.recv() => {
                stats_due = true;
                match event {
                    Ok(event) => frames(&event),
                    // Missed events: tell the page to reload.
                    Err(RecvError::Lagged(_)) => vec![frame("prune", Value::Null)],
                    Err(RecvError::Closed) => break,
                }
            }
            _ = stats_tick.tick(), if stats_due => {
                stats_due = false;
                match stats(&state).await {
                    Some(frame) => vec![frame],
                    None => continue,
                }
            }
            _ = ping_tick.tick() => {
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    break;
                }
                continue;
            }
        };
        for frame in frames {
            if socket.send(Message::Text(frame)).await.is_err() {
                return;
            }
        }
    }
    let _ = socket.send(Message::Close(None)).await;
}

fn frame(kind: &str, data: Value) -> Utf8Bytes {
    json!({ "Type": kind, "Data": data }).to_string().into()
}

/// The frames one store event becomes.
fn frames(event: &StoreEvent) -> Vec<Utf8Bytes> {
    match event {
        StoreEvent::Inserted(meta) => vec![frame(
            "new",
            serde_json::to_value(MessageSummary::from(meta.as_ref())).unwrap_or(Value::Null),
        )],
        StoreEvent::ReadChanged { ids, read } => ids
            .iter()
            .map(|id| frame("update", json!({ "ID": id.as_str(), "Read": read })))
            .collect(),
        StoreEvent::TagsChanged { ids, tags } => ids
            .iter()
            .map(|id| frame("update", json!({ "ID": id.as_str(), "Tags": tags })))
            .collect(),
        StoreEvent::Deleted(ids) if ids.len() > MAX_DELETE_EVENTS => {
            vec![frame("prune", Value::Null)]
        }
        StoreEvent::Deleted(ids) => ids
            .iter()
            .map(|id| frame("delete", json!({ "ID": id.as_str() })))
            .collect(),
        StoreEvent::Cleared => vec![frame("truncate", Value::Null)],
        StoreEvent::Changed => vec![frame("prune", Value::Null)],
        // IMAP's own folders and flags; changes the UI shows come as the events above.
        StoreEvent::MailboxChanged { .. } => Vec::new(),
    }
}

async fn stats(state: &ApiState) -> Option<Utf8Bytes> {
    let totals = state.store.totals().await.ok()?;
    Some(frame(
        "stats",
        json!({
            "Total": totals.messages,
            "Unread": totals.unread,
            "Version": env!("CARGO_PKG_VERSION"),
        }),
    ))
}
