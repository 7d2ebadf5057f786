//! Mailpit features Mailsink does not offer yet, answered as Mailpit answers
//! when they are not configured, so clients get a clear refusal instead of an
//! unknown route. (`sa-check` has no route at all when SpamAssassin is off, in
//! Mailpit too: 404.)

use axum::response::Response;

use super::error::ApiError;

/// `POST /api/v1/message/{ID}/release`
pub async fn release() -> Result<Response, ApiError> {
    Err(ApiError::bad("Error: message relay is not configured"))
}

/// `GET /api/v1/message/{ID}/html-check`
pub async fn html_check() -> Result<Response, ApiError> {
    Err(ApiError::bad("Error: HTML check is not available"))
}

/// `GET /api/v1/message/{ID}/link-check`
pub async fn link_check() -> Result<Response, ApiError> {
    Err(ApiError::bad("Error: link check is not available"))
}

/// `GET` and `PUT /api/v1/chaos`
pub async fn chaos() -> Result<Response, ApiError> {
    Err(ApiError::bad("Chaos is not enabled"))
}
