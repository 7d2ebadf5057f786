//! The message list: listing, searching, marking read and deleting, by IDs,
//! by search or all at once.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};

use super::ApiState;
use super::error::{ApiError, ok};
use super::json;
use super::params::Params;
use super::shapes::MessagesSummary;
use crate::store::{Filter, MessageId, Target};

/// A page of messages, newest first, with the mailbox counts.
pub async fn summary(state: &ApiState, filter: Filter) -> Result<MessagesSummary, ApiError> {
    let start = filter.offset;
    let page = state.store.page(filter).await?;
    // Cheap: the counts are kept by triggers.
    let totals = state.store.totals().await?;
    let tags = state.store.tag_names().await?;
    Ok(MessagesSummary::new(&page, totals, start, tags))
}

/// `GET /api/v1/messages`
#[utoipa::path(get, path = "/api/v1/messages", tag = "messages",
    summary = "List messages, newest first",
    params(
        ("start" = Option<u64>, Query, description = "Matches to skip (default 0)"),
        ("limit" = Option<u64>, Query, description = "Most messages to return (default 50; 0 for all)"),
        ("before" = Option<String>, Query, description = "Only messages received before this date"),
    ),
    responses((status = 200, body = MessagesSummary), (status = 400, description = "A bad parameter")))]
pub async fn list_messages(
    State(state): State<ApiState>,
    Query(params): Query<Params>,
) -> Result<Json<MessagesSummary>, ApiError> {
    let filter = Filter {
        query: None,
        before: params.before()?,
        offset: params.start(),
        limit: params.limit(),
    };
    Ok(Json(summary(&state, filter).await?))
}

/// `GET /api/v1/search`
#[utoipa::path(get, path = "/api/v1/search", tag = "messages",
    summary = "Search messages",
    description = "Mailpit's search syntax (to:, from:, cc:, bcc:, reply-to:, addressed:, subject:, \
        message-id:, tag:, is:read|unread|tagged, has:attachment|inline, larger:, smaller:, before:, \
        after:, quoted phrases, - or ! to negate) plus OR, parentheses, header:Name:value, body: and \
        envelope-from: and envelope-to:. messages_count counts the matches.",
    params(
        ("query" = String, Query, description = "The search"),
        ("start" = Option<u64>, Query, description = "Matches to skip (default 0)"),
        ("limit" = Option<u64>, Query, description = "Most messages to return (default 50; 0 for all)"),
        ("tz" = Option<String>, Query, description = "Time zone for dates without one, e.g. Pacific/Auckland"),
    ),
    responses((status = 200, body = MessagesSummary), (status = 400, description = "No or a malformed query")))]
pub async fn search_messages(
    State(state): State<ApiState>,
    Query(params): Query<Params>,
) -> Result<Json<MessagesSummary>, ApiError> {
    let filter = Filter {
        query: Some(params.required_search()?),
        before: params.before()?,
        offset: params.start(),
        limit: params.limit(),
    };
    Ok(Json(summary(&state, filter).await?))
}

/// `DELETE /api/v1/search`
#[utoipa::path(delete, path = "/api/v1/search", tag = "messages",
    summary = "Delete the messages matching a search",
    params(("query" = String, Query, description = "The search"), ("tz" = Option<String>, Query)),
    responses((status = 200, description = "ok"), (status = 400, description = "No or a malformed query")))]
pub async fn delete_search(
    State(state): State<ApiState>,
    Query(params): Query<Params>,
) -> Result<Response, ApiError> {
    let query = params.required_search()?;
    state.store.delete(Target::Matching(query)).await?;
    Ok(ok())
}

/// Field names match in any case.
#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub struct ReadRequest {
    #[schema(rename = "IDs")]
    ids: Option<Vec<String>>,
    #[schema(rename = "Read")]
    read: Option<bool>,
    #[schema(rename = "Search")]
    search: Option<String>,
}

/// `PUT /api/v1/messages`: `{"IDs": […], "Read": bool}` or `{"Search": "…", "Read": bool}`;
/// neither applies to every message.
#[utoipa::path(put, path = "/api/v1/messages", tag = "messages",
    summary = "Mark messages read or unread: by IDs, by Search, or all when neither is given",
    params(("tz" = Option<String>, Query, description = "Time zone for dates in Search")),
    request_body = ReadRequest,
    responses((status = 200, description = "ok"), (status = 400, description = "A bad request")))]
pub async fn set_read(
    State(state): State<ApiState>,
    Query(params): Query<Params>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: ReadRequest = json::decode(&body)?.unwrap_or_default();
    let ids = request.ids.filter(|ids| !ids.is_empty());
    let search = request.search.filter(|s| !s.trim().is_empty());
    let target = match (ids, search) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad(
                "Error: IDs and Search cannot be used together",
            ));
        }
        (Some(ids), None) => Target::Ids(parse_ids(&ids)?),
        (None, Some(search)) => {
            Target::Matching(crate::store::search::parse(&search, params.tz()?)?)
        }
        (None, None) => Target::All,
    };
    state
        .store
        .set_read(target, request.read.unwrap_or(false))
        .await?;
    Ok(ok())
}

/// Field names match in any case.
#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub struct DeleteRequest {
    #[schema(rename = "IDs")]
    ids: Option<Vec<String>>,
}

/// `DELETE /api/v1/messages`: the listed IDs; with no body, `{}`, no IDs or a
/// body that is not JSON, every message (Mailpit's clients rely on that). The
/// answer is an empty 200, which MailHog's clients also accept.
#[utoipa::path(delete, path = "/api/v1/messages", tag = "messages",
    summary = "Delete messages by IDs; with no body (or no IDs) delete every message",
    request_body(content = Option<DeleteRequest>),
    responses((status = 200, description = "Deleted (an empty body)"), (status = 400, description = "A malformed ID")))]
pub async fn delete_messages(
    State(state): State<ApiState>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let ids = json::decode::<DeleteRequest>(&body)
        .ok()
        .flatten()
        .and_then(|request| request.ids)
        .filter(|ids| !ids.is_empty());
    let target = match ids {
        Some(ids) => Target::Ids(parse_ids(&ids)?),
        None => Target::All,
    };
    state.store.delete(target).await?;
    Ok(().into_response())
}

/// Message IDs from a request; a malformed one is a 400 naming it.
pub fn parse_ids(ids: &[String]) -> Result<Vec<MessageId>, ApiError> {
    ids.iter()
        .map(|id| {
            id.parse()
                .map_err(|_| ApiError::bad(format!("Error: invalid message ID {id:?}")))
        })
        .collect()
}
