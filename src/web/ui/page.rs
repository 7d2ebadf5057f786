//! What every UI page shares: the layout's data ([`Chrome`]), the security
//! headers of an HTML answer, and the error page.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::assets;
use crate::store::Totals;

/// The UI's own pages run only their own script and styles, talk only to
/// their own origin, frame only their own previews and are framed by nobody.
/// A message's HTML never appears in these pages (it is framed from
/// `/view/{ID}.html`), so nothing it carries can run here.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-src 'self'; \
     form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// What the layout shows around every page.
pub struct Chrome {
    /// What the page is, for its title ("Inbox", a subject).
    pub title: String,
    /// The search in the search box.
    pub query: String,
    pub totals: Totals,
    pub css: String,
    pub js: String,
    pub icon: String,
}

impl Chrome {
    pub fn new(title: impl Into<String>, query: impl Into<String>, totals: Totals) -> Self {
        Self {
            title: title.into(),
            query: query.into(),
            totals,
            css: assets::css().url(),
            js: assets::js().url(),
            icon: assets::icon().url(),
        }
    }

    /// The document title: the unread count first, as mail clients show it.
    pub fn document_title(&self) -> String {
        match self.totals.unread {
            0 => format!("{} · Mailsink", self.title),
            n => format!("({n}) {} · Mailsink", self.title),
        }
    }
}

/// An HTML page with the UI's security headers.
pub fn html(status: StatusCode, body: String) -> Response {
    let mut response = (status, Html(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Renders `template` as an HTML page.
pub fn render(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(body) => html(status, body),
        Err(error) => {
            tracing::error!(%error, "cannot render a UI page");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be rendered\n",
            )
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: Chrome,
    heading: String,
    detail: String,
}

/// An error page: what went wrong, in words, and a way back to the inbox.
pub fn error(status: StatusCode, heading: &str, detail: impl Into<String>) -> Response {
    let page = ErrorPage {
        chrome: Chrome::new(heading, "", Totals::default()),
        heading: heading.to_owned(),
        detail: detail.into(),
    };
    render(status, &page)
}

/// The page for a message or file that does not exist.
pub fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "Not found",
        "There is no such message or page here. It may have been deleted.",
    )
}

/// The page for a store that failed.
pub fn unavailable(error: &crate::store::Error) -> Response {
    tracing::error!(%error, "UI request failed in the store");
    self::error(
        StatusCode::SERVICE_UNAVAILABLE,
        "Mailsink cannot read its database",
        error.to_string(),
    )
}
