//! `GET /api/v1/info` and `GET /api/v1/webui`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use super::ApiState;
use super::error::ApiError;
use crate::stats::resident_memory;

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct AppInformation {
    version: &'static str,
    /// Mailsink never calls home to look for releases.
    latest_version: &'static str,
    database: String,
    database_size: u64,
    messages: u64,
    unread: u64,
    tags: BTreeMap<String, u64>,
    runtime_stats: RuntimeStats,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
struct RuntimeStats {
    uptime: u64,
    memory: u64,
    messages_deleted: u64,
    #[serde(rename = "SMTPAccepted")]
    smtp_accepted: u64,
    #[serde(rename = "SMTPAcceptedSize")]
    smtp_accepted_size: u64,
    #[serde(rename = "SMTPRejected")]
    smtp_rejected: u64,
    #[serde(rename = "SMTPIgnored")]
    smtp_ignored: u64,
}

/// `GET /api/v1/info`
#[utoipa::path(get, path = "/api/v1/info", tag = "application", summary = "Counts and runtime statistics",
    responses((status = 200, body = AppInformation)))]
pub async fn info(State(state): State<ApiState>) -> Result<Json<AppInformation>, ApiError> {
    let totals = state.store.totals().await?;
    let stats = state.stats.snapshot();
    Ok(Json(AppInformation {
        version: env!("CARGO_PKG_VERSION"),
        latest_version: "disabled",
        database: state.store.path().display().to_string(),
        database_size: state.store.database_size().await?,
        messages: totals.messages,
        unread: totals.unread,
        tags: state.store.tags().await?.into_iter().collect(),
        runtime_stats: RuntimeStats {
            uptime: stats.uptime_secs,
            memory: resident_memory(),
            messages_deleted: state.store.deleted(),
            smtp_accepted: stats.smtp_accepted,
            smtp_accepted_size: stats.smtp_accepted_bytes,
            smtp_rejected: stats.smtp_rejected,
            smtp_ignored: 0,
        },
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct WebUiConfiguration {
    label: &'static str,
    message_relay: MessageRelay,
    spam_assassin: bool,
    chaos_enabled: bool,
    duplicates_ignored: bool,
    hide_delete_all_button: bool,
}

/// Relaying is not configured (it has no way to be yet): Mailpit's shape for that.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
struct MessageRelay {
    enabled: bool,
    #[serde(rename = "SMTPServer")]
    smtp_server: &'static str,
    return_path: &'static str,
    allowed_recipients: &'static str,
    blocked_recipients: &'static str,
    override_from: &'static str,
    #[serde(rename = "PreserveMessageIDs")]
    preserve_message_ids: bool,
    recipient_allowlist: &'static str,
}

/// `GET /api/v1/webui`
#[utoipa::path(get, path = "/api/v1/webui", tag = "application", summary = "Web UI configuration",
    responses((status = 200, body = WebUiConfiguration)))]
pub async fn webui() -> Json<WebUiConfiguration> {
    Json(WebUiConfiguration {
        label: "",
        message_relay: MessageRelay::default(),
        spam_assassin: false,
        chaos_enabled: false,
        duplicates_ignored: false,
        hide_delete_all_button: false,
    })
}
