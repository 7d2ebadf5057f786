//! The UI's stylesheet, script and icon, embedded in the binary. Pages link
//! them with a content hash in the query (`/static/mailsink.js?v=…`), so a
//! browser may keep them for a year and still never runs a stale script after
//! an upgrade; the ETag answers revalidations with 304.

use std::sync::LazyLock;

use axum::extract::{Path, RawQuery};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// One embedded file.
pub struct Asset {
    pub name: &'static str,
    content_type: &'static str,
    body: &'static str,
    /// Hex FNV-1a of the body: the version in URLs and the ETag.
    hash: String,
}

impl Asset {
    fn new(name: &'static str, content_type: &'static str, body: &'static str) -> Self {
        let hash = body.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
        Self {
            name,
            content_type,
            body,
            hash: format!("{hash:016x}"),
        }
    }

    /// The URL pages link, versioned by content.
    pub fn url(&self) -> String {
        format!("/static/{}?v={}", self.name, &self.hash[..12])
    }
}

static ASSETS: LazyLock<[Asset; 3]> = LazyLock::new(|| {
    [
        Asset::new(
            "mailsink.css",
            "text/css; charset=utf-8",
            include_str!("../../../static/mailsink.css"),
        ),
        Asset::new(
            "mailsink.js",
            "text/javascript; charset=utf-8",
            include_str!("../../../static/mailsink.js"),
        ),
        Asset::new(
            "favicon.svg",
            "image/svg+xml",
            include_str!("../../../static/favicon.svg"),
        ),
    ]
});

/// The stylesheet.
pub fn css() -> &'static Asset {
    &ASSETS[0]
}

/// The script (an ES module).
pub fn js() -> &'static Asset {
    &ASSETS[1]
}

/// The icon.
pub fn icon() -> &'static Asset {
    &ASSETS[2]
}

/// `GET /static/{name}`
pub async fn serve(
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.name == name) else {
        return super::page::not_found();
    };
    let etag = format!("\"{}\"", asset.hash);
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    // Only the current version may be kept without asking again.
    let current = query.is_some_and(|q| q == format!("v={}", &asset.hash[..12]));
    let cache = if current {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut response = (
        [
            (header::CONTENT_TYPE, asset.content_type),
            (header::CACHE_CONTROL, cache),
        ],
        asset.body,
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

/// `GET /favicon.ico`: browsers ask for it whatever the page links.
pub async fn favicon() -> Response {
    (
        [
            (header::CONTENT_TYPE, icon().content_type),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        icon().body,
    )
        .into_response()
}
