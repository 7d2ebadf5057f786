//! Tags: listing, setting on messages, renaming and deleting everywhere.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;

use super::ApiState;
use super::error::{ApiError, ok};
use super::json;
use super::messages::parse_ids;
use crate::message::tags;

/// `GET /api/v1/tags`: every tag in use, by name.
#[utoipa::path(get, path = "/api/v1/tags", tag = "tags", summary = "Every tag in use",
    responses((status = 200, body = Vec<String>)))]
pub async fn list_tags(State(state): State<ApiState>) -> Result<Json<Vec<String>>, ApiError> {
    Ok(Json(state.store.tag_names().await?))
}

/// Field names match in any case.
#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub struct SetTags {
    #[schema(rename = "IDs")]
    ids: Option<Vec<String>>,
    #[schema(rename = "Tags")]
    tags: Option<Vec<String>>,
}

/// `PUT /api/v1/tags`: `{"IDs": […], "Tags": […]}` replaces each message's tags.
#[utoipa::path(put, path = "/api/v1/tags", tag = "tags", summary = "Replace the tags of messages",
    request_body = SetTags,
    responses((status = 200, description = "ok"), (status = 400, description = "Bad IDs or tag names")))]
pub async fn set_tags(State(state): State<ApiState>, body: Bytes) -> Result<Response, ApiError> {
    let request: SetTags = json::decode(&body)?
        .ok_or_else(|| ApiError::bad("Error: a body with IDs and Tags is required"))?;
    let ids = parse_ids(&request.ids.unwrap_or_default())?;
    if ids.is_empty() {
        return Err(ApiError::bad("Error: no IDs given"));
    }
    let mut names: Vec<String> = Vec::new();
    for tag in request.tags.unwrap_or_default() {
        let name = valid_tag(&tag)?;
        if !names.iter().any(|n| n.eq_ignore_ascii_case(&name)) {
            names.push(name);
        }
    }
    state.store.set_tags(ids, names).await?;
    Ok(ok())
}

/// Field names match in any case.
#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub struct Rename {
    #[schema(rename = "Name")]
    name: Option<String>,
}

/// `PUT /api/v1/tags/{Tag}`: `{"Name": "new name"}`.
#[utoipa::path(put, path = "/api/v1/tags/{tag}", tag = "tags", summary = "Rename a tag everywhere",
    params(("tag" = String, Path)), request_body = Rename,
    responses((status = 200, description = "ok"), (status = 400, description = "A bad name")))]
pub async fn rename_tag(
    State(state): State<ApiState>,
    Path(tag): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: Rename = json::decode(&body)?.unwrap_or_default();
    let name = valid_tag(request.name.as_deref().unwrap_or_default())?;
    state.store.rename_tag(tag, name).await?;
    Ok(ok())
}

/// `DELETE /api/v1/tags/{Tag}`: removes the tag, keeps the messages.
#[utoipa::path(delete, path = "/api/v1/tags/{tag}", tag = "tags",
    summary = "Remove a tag from every message", params(("tag" = String, Path)),
    responses((status = 200, description = "ok")))]
pub async fn delete_tag(
    State(state): State<ApiState>,
    Path(tag): Path<String>,
) -> Result<Response, ApiError> {
    state.store.delete_tag(tag).await?;
    Ok(ok())
}

fn valid_tag(name: &str) -> Result<String, ApiError> {
    tags::clean(name).ok_or_else(|| {
        ApiError::bad(format!(
            "Error: invalid tag name {name:?} (letters, digits, spaces, - _ . @; at most 100)"
        ))
    })
}
