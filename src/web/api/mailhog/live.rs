//! MailHog's live streams of new messages: `GET /api/v1/events` (Server-Sent
//! Events, each message as pretty-printed JSON) and `GET /api/v2/websocket`
//! (one JSON text frame per message). Both check `Origin` like Mailpit's
//! WebSocket, so another site's page cannot read the mailbox.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{Message as Frame, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream, StreamExt};
use tokio::sync::broadcast::error::RecvError;

use super::super::ApiState;
use super::super::events::same_origin;
use super::shape::Message;
use crate::store::StoreEvent;

/// MailHog sends a keep-alive once a minute.
const KEEP_ALIVE: Duration = Duration::from_secs(60);

fn refused() -> Response {
    (StatusCode::FORBIDDEN, "cross-origin stream refused\n").into_response()
}

/// The new messages as they are committed, as JSON; ends at shutdown. The
/// stream keeps its place when a caller stops polling it midway, so it can
/// sit in a `select!`.
fn new_messages(state: ApiState) -> impl Stream<Item = Message> {
    let events = state.store.subscribe();
    stream::unfold((state, events), |(state, mut events)| async move {
        loop {
            let event = tokio::select! {
                () = state.shutdown.cancelled() => return None,
                event = events.recv() => event,
            };
            match event {
                Ok(StoreEvent::Inserted(meta)) => {
                    // Deleted again before it could be read: nothing to send.
                    if let Ok(Some(raw)) = state.store.raw(&meta.id).await {
                        let message = Message::new(&meta, &raw, &state.hostname);
                        return Some((message, (state, events)));
                    }
                }
                // MailHog only announces new messages; missed ones stay missed.
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return None,
            }
        }
    })
}

/// `GET /api/v1/events`
pub async fn events(State(state): State<ApiState>, headers: HeaderMap) -> Response {
    if !same_origin(&headers) {
        return refused();
    }
    let stream = new_messages(state).map(|message| {
        let json = serde_json::to_string_pretty(&message).unwrap_or_default();
        // Each line becomes a `data:` line of one event, as MailHog writes them.
        Ok::<_, Infallible>(Event::default().data(json))
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE).text("keepalive"))
        .into_response()
}

/// `GET /api/v2/websocket`
pub async fn websocket(
    State(state): State<ApiState>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    if !same_origin(&headers) {
        return refused();
    }
    upgrade.on_upgrade(move |socket| stream(socket, state))
}

async fn stream(mut socket: WebSocket, state: ApiState) {
    let messages = new_messages(state);
    let mut messages = std::pin::pin!(messages);
    loop {
        let message = tokio::select! {
            received = socket.recv() => match received {
                Some(Ok(Frame::Close(_)) | Err(_)) | None => break,
                Some(Ok(_)) => continue,
            },
            message = messages.next() => match message {
                Some(message) => message,
                None => break,
            },
        };
        let json = serde_json::to_string(&message).unwrap_or_default();
        if socket.send(Frame::Text(json.into())).await.is_err() {
            return;
        }
    }
    let _ = socket.send(Frame::Close(None)).await;
}
