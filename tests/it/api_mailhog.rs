//! MailHog's API over HTTP: the message JSON as MailHog shapes it, paging,
//! search kinds, the v1 routes by ID, downloads, the live streams, Jim
//! switched off, and every bad form.

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::harness::{Api, deliver};

const HOST: &str = "mailsink.test";

/// The message the client sends; `deliver` ends DATA with one more CRLF.
const MULTIPART: &str = "From: Alice <alice@example.com>\r\nTo: bob@example.com\r\n\
     Subject: =?UTF-8?Q?Caf=C3=A9_menu?=\r\nMIME-Version: 1.0\r\n\
     X-Folded: one\r\n\ttwo\r\n\
     Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\npreamble\r\n\
     --b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
     Hello=20world\r\n\
     --b1\r\nContent-Type: application/pdf; name=\"a.pdf\"\r\n\
     Content-Disposition: attachment; filename=\"a.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n\
     JVBERi0xLjQK\r\n--b1--\r\n";

impl Api {
    async fn send(&self, from: &str, to: &str, subject: &str) -> String {
        let message =
            format!("From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\n\r\nbody of {subject}\r\n");
        deliver(self.app.smtp, from, &[to], &message)
            .await
            .to_string()
    }
}

fn subjects(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| {
            m["Content"]["Headers"]["Subject"][0]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn messages_have_mailhogs_shape() {
    let api = Api::spawn().await;
    let id = deliver(
        api.app.smtp,
        "alice@example.com",
        &["bob@example.com", "hidden@example.com"],
        MULTIPART,
    )
    .await;

    let (status, content_type, body) = api.request(Method::GET, "/api/v2/messages", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "text/json", "MailHog's own content type");
    let page: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(
        (
            page["total"].as_u64(),
            page["count"].as_u64(),
            page["start"].as_u64()
        ),
        (Some(1), Some(1), Some(0))
    );
    let m = &page["items"][0];
    assert_eq!(m["ID"], format!("{id}@{HOST}"));
    assert_eq!(
        m["From"],
        serde_json::json!({"Relays": null, "Mailbox": "alice", "Domain": "example.com", "Params": ""})
    );
    assert_eq!(
        m["To"][1]["Mailbox"], "hidden",
        "envelope recipients, Bcc included"
    );
    let headers = &m["Content"]["Headers"];
    assert_eq!(
        headers["Subject"][0], "=?UTF-8?Q?Caf=C3=A9_menu?=",
        "values stay encoded"
    );
    assert_eq!(
        headers["X-Folded"][0], "one\ttwo",
        "continuations appended as they are"
    );
    assert_eq!(
        headers["Message-ID"][0],
        format!("{id}@{HOST}"),
        "added when missing"
    );
    assert!(
        headers["Return-Path"][0]
            .as_str()
            .is_some_and(|v| v == "<alice@example.com>")
    );
    assert!(
        headers["Received"][0]
            .as_str()
            .is_some_and(|v| v.contains(&format!("id {id};")))
    );
    assert!(
        m["Content"]["Body"]
            .as_str()
            .expect("body")
            .contains("JVBERi0xLjQK"),
        "body still encoded"
    );
    assert_eq!(
        m["Content"]["Size"].as_u64(),
        Some(MULTIPART.len() as u64 + 2)
    );
    assert!(m["Content"]["MIME"].is_null());
    let parts = m["MIME"]["Parts"].as_array().expect("parts");
    let bodies: Vec<&str> = parts
        .iter()
        .map(|p| p["Body"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        bodies,
        ["preamble", "Hello=20world", "JVBERi0xLjQK", "--"],
        "split as MailHog splits"
    );
    assert_eq!(
        parts[2]["Headers"]["Content-Transfer-Encoding"][0],
        "base64"
    );
    assert_eq!(
        m["Raw"]["Data"],
        format!("{MULTIPART}\r\n"),
        "exactly what the client sent, without the trace"
    );
    assert_eq!(m["Raw"]["From"], "alice@example.com");
    assert_eq!(
        m["Raw"]["To"],
        serde_json::json!(["bob@example.com", "hidden@example.com"])
    );
    assert_eq!(m["Raw"]["Helo"], "deliver.test");
    let created = m["Created"].as_str().expect("Created");
    assert!(
        chrono::DateTime::parse_from_rfc3339(created).is_ok(),
        "RFC 3339: {created}"
    );

    // The v1 route by ID, with and without the host part, and a plain message.
    let one = api.json(&format!("/api/v1/messages/{id}@{HOST}")).await;
    assert_eq!(&one, m);
    assert_eq!(api.json(&format!("/api/v1/messages/{id}")).await, one);
    let plain = api.send("c@example.com", "d@example.com", "plain").await;
    let plain = api.json(&format!("/api/v1/messages/{plain}")).await;
    assert!(plain["MIME"].is_null(), "not multipart: {plain}");
    assert_eq!(plain["Content"]["Body"], "body of plain\r\n\r\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn paging_and_search_kinds() {
    let api = Api::spawn().await;
    api.send("ann@shop.example", "zoe@example.com", "first")
        .await;
    api.send("bob@news.example", "yan@example.com", "second")
        .await;
    api.send("cat@shop.example", "xia@example.com", "third")
        .await;

    assert_eq!(
        subjects(&api.json("/api/v2/messages").await),
        ["third", "second", "first"]
    );
    let page = api.json("/api/v2/messages?start=1&limit=1").await;
    assert_eq!(subjects(&page), ["second"]);
    assert_eq!(
        (
            page["total"].as_u64(),
            page["count"].as_u64(),
            page["start"].as_u64()
        ),
        (Some(3), Some(1), Some(1))
    );
    // Unreadable, zero, negative and huge values fall back as in MailHog.
    for query in [
        "limit=x&start=y",
        "limit=0",
        "limit=-5&start=-2",
        "limit=100000",
    ] {
        let page = api.json(&format!("/api/v2/messages?{query}")).await;
        assert_eq!(page["count"].as_u64(), Some(3), "{query}");
        assert_eq!(page["start"].as_u64(), Some(0), "{query}");
    }
    assert_eq!(
        api.json("/api/v2/messages?start=7").await["count"].as_u64(),
        Some(0)
    );

    let search = |kind: &str, query: &str| format!("/api/v2/search?kind={kind}&query={query}");
    let (status, content_type, _) = api
        .request(Method::GET, &search("from", "shop.example"), None)
        .await;
    assert_eq!(
        (status, content_type.as_str()),
        (StatusCode::OK, "application/json")
    );
    let found = api.json(&search("from", "shop.example")).await;
    assert_eq!(subjects(&found), ["third", "first"]);
    assert_eq!(found["total"].as_u64(), Some(2));
    assert_eq!(subjects(&api.json(&search("to", "yan@")).await), ["second"]);
    assert_eq!(
        subjects(&api.json(&search("containing", "body%20of%20third")).await),
        ["third"]
    );
    assert_eq!(
        subjects(
            &api.json(&format!("{}&limit=1&start=1", search("from", "shop")))
                .await
        ),
        ["first"]
    );
    assert!(subjects(&api.json(&search("to", "nobody")).await).is_empty());

    for bad in [
        "/api/v2/search?query=x",
        "/api/v2/search?kind=subject&query=x",
        "/api/v2/search?kind=from",
        "/api/v2/search?kind=from&query=%20",
    ] {
        let (status, _, body) = api.request(Method::GET, bad, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(body.starts_with("Error: "), "{bad}: {body}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn downloads_deletes_and_switched_off_features() {
    let api = Api::spawn().await;
    let id = deliver(
        api.app.smtp,
        "alice@example.com",
        &["bob@example.com"],
        MULTIPART,
    )
    .await;

    let response = api
        .client
        .get(api.url(&format!("/api/v1/messages/{id}@{HOST}/download")))
        .send()
        .await
        .expect("download");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "message/rfc822");
    assert_eq!(
        response.headers()["content-disposition"],
        format!("attachment; filename=\"{id}@{HOST}.eml\"")
    );
    let bytes = response.bytes().await.expect("bytes");
    assert_eq!(
        bytes.as_ref(),
        api.app.raw(&id).await.as_slice(),
        "the stored bytes"
    );

    let part = |index: &str| format!("/api/v1/messages/{id}/mime/part/{index}/download");
    let response = api
        .client
        .get(api.url(&part("2")))
        .send()
        .await
        .expect("part");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "application/pdf; name=\"a.pdf\""
    );
    assert_eq!(
        response.headers()["content-disposition"],
        "attachment; filename=\"a.pdf\""
    );
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert_eq!(
        response.headers()["content-security-policy"],
        "sandbox; default-src 'none'"
    );
    assert_eq!(
        response.bytes().await.expect("bytes").as_ref(),
        b"%PDF-1.4\n",
        "base64 decoded"
    );
    let response = api
        .client
        .get(api.url(&part("1")))
        .send()
        .await
        .expect("part");
    assert_eq!(
        response.headers()["content-disposition"],
        format!("attachment; filename=\"{id}-part-1\""),
        "always an attachment"
    );
    assert_eq!(
        response.text().await.expect("text"),
        "Hello=20world",
        "other encodings as they are"
    );
    assert_eq!(
        api.request(Method::GET, &part("9"), None).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api.request(Method::GET, &part("x"), None).await.0,
        StatusCode::BAD_REQUEST
    );

    for path in [
        "/api/v1/messages/nosuchmessageid0000000",
        "/api/v1/messages/bad",
        "/api/v1/messages/bad/download",
    ] {
        assert_eq!(
            api.request(Method::GET, path, None).await.0,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let (status, _, body) = api
        .request(
            Method::POST,
            &format!("/api/v1/messages/{id}/release"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let (status, _, body) = api
        .request(
            Method::DELETE,
            &format!("/api/v1/messages/{id}@{HOST}"),
            None,
        )
        .await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, ""),
        "an empty 200"
    );
    assert!(api.app.messages().await.is_empty());
    assert_eq!(
        api.request(Method::DELETE, &format!("/api/v1/messages/{id}"), None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api.request(Method::GET, &format!("/api/v1/messages/{id}"), None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );

    for method in [Method::GET, Method::PUT, Method::DELETE] {
        assert_eq!(
            api.call(method.clone(), "/api/v2/jim", None).await.0,
            StatusCode::NOT_FOUND,
            "{method} jim: off"
        );
    }
    let (status, _, body) = api.request(Method::POST, "/api/v2/jim", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("not available"), "{body}");
    assert_eq!(
        api.json("/api/v2/outgoing-smtp").await,
        serde_json::json!({})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn live_streams_carry_new_messages() {
    let api = Api::spawn().await;

    let response = api
        .client
        .get(api.url("/api/v1/events"))
        .send()
        .await
        .expect("SSE");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut sse = response;
    let url = format!("ws://{}/api/v2/websocket", api.app.http);
    let (mut socket, _) = tokio_tungstenite::connect_async(&url)
        .await
        .expect("WebSocket");

    let id = api
        .send("live@example.com", "to@example.com", "live one")
        .await;

    let frame = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match socket.next().await {
                Some(Ok(Frame::Text(text))) => return text.to_string(),
                Some(Ok(_)) => continue,
                other => panic!("WebSocket ended: {other:?}"),
            }
        }
    })
    .await
    .expect("a WebSocket frame");
    let message: Value = serde_json::from_str(&frame).expect("JSON frame");
    assert_eq!(message["ID"], format!("{id}@{HOST}"));
    assert_eq!(message["Content"]["Headers"]["Subject"][0], "live one");

    let event = tokio::time::timeout(Duration::from_secs(10), async {
        let mut text = String::new();
        while !text.contains("\n\n") || !text.contains("data:") {
            let chunk = sse.chunk().await.expect("SSE chunk").expect("SSE open");
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
        text
    })
    .await
    .expect("an SSE event");
    let json: String = event
        .lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .map(|line| line.strip_prefix(' ').unwrap_or(line))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        event.lines().filter(|l| l.starts_with("data:")).count() > 10,
        "pretty-printed, a line each: {event}"
    );
    let message: Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
    assert_eq!(message["Raw"]["From"], "live@example.com");

    // Another site's page may not listen in.
    let response = api
        .client
        .get(api.url("/api/v1/events"))
        .header("origin", "http://evil.example")
        .send()
        .await
        .expect("SSE");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let mut request = url.into_client_request().expect("request");
    request
        .headers_mut()
        .insert("origin", "http://evil.example".parse().expect("header"));
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), StatusCode::FORBIDDEN.as_u16());
        }
        other => panic!("cross-origin WebSocket accepted: {other:?}"),
    }
}
