//! The inbox (`/`) and search (`/search?q=…`): one page of messages, newest
//! first, with keyset links to the newer and older pages. The page is
//! complete without the script; the script makes it live.

use std::net::SocketAddr;

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::format::{Row, query_value};
use super::page::{self, Chrome};
use crate::store::{Cursor, Filter, MessageId, Totals, search};
use crate::web::AppState;

/// Messages on a page.
pub const PAGE_SIZE: u64 = 50;
/// Longest search accepted, in characters.
pub const MAX_QUERY: usize = 1000;

/// The query string of the inbox and search pages.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Params {
    /// The search.
    q: Option<String>,
    /// The page older than this message.
    before: Option<String>,
    /// The page newer than this message.
    after: Option<String>,
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct Inbox {
    chrome: Chrome,
    rows: Vec<Row>,
    /// What the list shows, in words.
    status: String,
    /// Why the search could not run.
    error: Option<String>,
    newer_url: Option<String>,
    older_url: Option<String>,
    /// On the newest page new mail is added live.
    live: bool,
    smtp_addr: Option<SocketAddr>,
}

impl Inbox {
    fn smtp_host(&self) -> String {
        match self.smtp_addr {
            Some(addr) if addr.ip().is_unspecified() => "this machine's address".to_owned(),
            Some(addr) => addr.ip().to_string(),
            None => String::new(),
        }
    }
}

/// `GET /`
pub async fn inbox(
    State(state): State<AppState>,
    params: Result<Query<Params>, QueryRejection>,
) -> Response {
    list(state, params).await
}

/// `GET /search?q=…`: without a search, the inbox.
pub async fn search(
    State(state): State<AppState>,
    params: Result<Query<Params>, QueryRejection>,
) -> Response {
    if let Ok(Query(p)) = &params
        && p.q.as_deref().is_none_or(|q| q.trim().is_empty())
    {
        return redirect("/");
    }
    list(state, params).await
}

fn redirect(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_owned())]).into_response()
}

async fn list(state: AppState, params: Result<Query<Params>, QueryRejection>) -> Response {
    let Ok(Query(params)) = params else {
        return page::error(
            StatusCode::BAD_REQUEST,
            "Bad request",
            "The address has a malformed query string.",
        );
    };
    let text = params.q.as_deref().unwrap_or_default().trim().to_owned();
    let base = if text.is_empty() {
        "/?".to_owned()
    } else {
        format!("/search?q={}&", query_value(&text))
    };
    let cursor = match cursor(&params) {
        Ok(cursor) => cursor,
        Err(detail) => return page::error(StatusCode::BAD_REQUEST, "Bad page", detail),
    };
    let totals = match state.store.totals().await {
        Ok(totals) => totals,
        Err(error) => return page::unavailable(&error),
    };
    let title = if text.is_empty() { "Inbox" } else { "Search" };
    let mut inbox = Inbox {
        chrome: Chrome::new(title, text.clone(), totals),
        rows: Vec::new(),
        status: String::new(),
        error: None,
        newer_url: None,
        older_url: None,
        live: cursor.is_none(),
        smtp_addr: state.smtp_addr,
    };
    let query = if text.is_empty() {
        None
    } else if text.chars().count() > MAX_QUERY {
        return searched_wrong(
            inbox,
            format!("The search is too long: at most {MAX_QUERY} characters."),
        );
    } else {
        match search::parse(&text, chrono_tz::Tz::UTC) {
            Ok(query) => Some(query),
            Err(error) => return searched_wrong(inbox, format!("Cannot search: {error}.")),
        }
    };
    let searching = query.is_some();
    let filter = Filter {
        query,
        limit: Some(PAGE_SIZE),
        ..Filter::default()
    };
    let window = match state.store.window(filter, cursor).await {
        Ok(Some(window)) => window,
        // The message the page started at is gone: start from the newest.
        Ok(None) => return redirect(base.trim_end_matches(['?', '&'])),
        Err(error) => return page::unavailable(&error),
    };
    let messages = &window.page.messages;
    if let (Some(first), true) = (messages.first(), window.has_newer) {
        inbox.newer_url = Some(format!("{base}after={}", first.id));
    }
    if let (Some(last), true) = (messages.last(), window.has_older) {
        inbox.older_url = Some(format!("{base}before={}", last.id));
    }
    inbox.status = status(&window.page, searching, totals);
    inbox.rows = messages.iter().map(Row::new).collect();
    page::render(StatusCode::OK, &inbox)
}

fn searched_wrong(mut inbox: Inbox, error: String) -> Response {
    inbox.status = "No search was run.".to_owned();
    inbox.error = Some(error);
    inbox.live = false;
    page::render(StatusCode::BAD_REQUEST, &inbox)
}

fn cursor(params: &Params) -> Result<Option<Cursor>, String> {
    let id = |text: &str| {
        text.trim()
            .parse::<MessageId>()
            .map_err(|_| format!("{text:?} is not a message ID, so there is no page next to it."))
    };
    match (params.before.as_deref(), params.after.as_deref()) {
        (Some(_), Some(_)) => Err("A page is either before or after a message, not both.".into()),
        (Some(before), None) => Ok(Some(Cursor::Older(id(before)?))),
        (None, Some(after)) => Ok(Some(Cursor::Newer(id(after)?))),
        (None, None) => Ok(None),
    }
}

fn status(page: &crate::store::Page, searching: bool, totals: Totals) -> String {
    let plural = |n: u64| if n == 1 { "" } else { "s" };
    if searching {
        let n = page.matched;
        format!(
            "{} message{} match{}",
            group(n),
            plural(n),
            if n == 1 { "es" } else { "" }
        )
    } else {
        let n = totals.messages;
        format!(
            "{} message{}, {} unread",
            group(n),
            plural(n),
            group(totals.unread)
        )
    }
}

/// 100000 as "100,000".
fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_digits() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(1000), "1,000");
        assert_eq!(group(100_000), "100,000");
        assert_eq!(group(1_234_567), "1,234,567");
    }
}
