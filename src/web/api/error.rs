//! API errors as Mailpit answers them: plain text with a status code.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::store;

/// An API request that could not be served.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request was wrong; the text names the problem.
    #[error("{0}")]
    BadRequest(String),
    /// No such route or message ID form.
    #[error("404 page not found")]
    NotFound,
    /// A well-formed ID with no message behind it.
    #[error("Message not found")]
    NoMessage,
    /// The store failed.
    #[error("{0}")]
    Store(#[from] store::Error),
}

impl ApiError {
    pub fn bad(text: impl Into<String>) -> Self {
        Self::BadRequest(text.into())
    }

    fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::NotFound | Self::NoMessage => StatusCode::NOT_FOUND,
            Self::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<store::SearchError> for ApiError {
    fn from(e: store::SearchError) -> Self {
        Self::BadRequest(format!("Error: {e}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Store(error) = &self {
            tracing::error!(%error, "API request failed in the store");
        }
        (
            self.status(),
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("{self}\n"),
        )
            .into_response()
    }
}

/// Mailpit's answer to a successful change: `200 text/plain "ok"`.
pub fn ok() -> Response {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "ok").into_response()
}
