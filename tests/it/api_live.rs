//! The API beyond reading: the send API, the WebSocket of live changes, link
//! and code extraction, and the features that answer "not configured".

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};

use crate::harness::{TestApp, client_bytes, deliver};

const PNG_1X1: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

async fn send(client: &Client, app: &TestApp, body: Value) -> (StatusCode, Value) {
    let response = client
        .post(format!("http://{}/api/v1/send", app.http))
        .json(&body)
        .send()
        .await
        .expect("send");
    let status = response.status();
    (status, response.json().await.expect("JSON answer"))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_send_api_stores_a_real_mime_message() {
    let app = TestApp::spawn().await;
    let client = Client::new();
    let (status, answer) = send(
        &client,
        &app,
        json!({
            "from": {"email": "app@example.com", "Name": "The App"},
            "To": [{"Email": "user@example.com", "Name": "User"}],
            "Cc": [{"Email": "cc@example.com"}],
            "Bcc": ["hidden@example.com"],
            "ReplyTo": [{"Email": "reply@example.com"}],
            "Subject": "Welcome",
            "Text": "Your code is 481516.",
            "HTML": "<p>Hello <img src=\"cid:logo\"></p>",
            "Headers": {"X-Campaign": "spring"},
            "Tags": ["Onboarding"],
            "Attachments": [
                {"Content": "data:application/pdf;base64,JVBERi0xLjQK", "Filename": "terms.pdf"},
                {"Content": PNG_1X1, "Filename": "logo.png", "ContentID": "logo"}
            ]
        }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let id = answer["ID"].as_str().expect("an ID").to_owned();
    let (meta, body) = app.only_message().await;
    assert_eq!(meta.id.as_str(), id);
    assert_eq!(meta.envelope.mail_from, "app@example.com");
    let rcpts: Vec<_> = meta
        .envelope
        .recipients
        .iter()
        .map(|r| r.address.as_str())
        .collect();
    assert_eq!(
        rcpts,
        ["user@example.com", "cc@example.com", "hidden@example.com"]
    );
    assert_eq!(meta.summary.subject, "Welcome");
    assert_eq!(meta.summary.tags, ["Onboarding"]);
    assert_eq!(meta.summary.bcc[0].address, "hidden@example.com");
    assert_eq!((meta.summary.attachments, meta.summary.inline), (1, 1));
    let text = String::from_utf8_lossy(&body);
    assert!(text.contains("X-Campaign: spring"), "{text}");
    assert!(
        !text.contains("hidden@example.com"),
        "Bcc stays out of the message"
    );
    let raw = app.raw(&meta.id).await;
    assert!(String::from_utf8_lossy(&raw).contains(" with HTTP id "));
    assert_eq!(client_bytes(&raw), body.as_slice());

    for (request, error) in [
        (
            json!({"To": [{"Email": "a@example.com"}]}),
            "From is required",
        ),
        (
            json!({"From": {"Email": "not an address"}, "To": [{"Email": "a@example.com"}]}),
            "invalid From address",
        ),
        (
            json!({"From": {"Email": "a@example.com"}, "To": [{"Email": "b@example.com"}],
                   "Attachments": [{"Content": "***", "Filename": "x.bin"}]}),
            "not base64",
        ),
        (
            json!({"From": {"Email": "a@example.com"}, "To": [{"Email": "b@example.com"}],
                   "Headers": {"Subject": "override"}}),
            "",
        ),
    ] {
        let (status, answer) = send(&client, &app, request.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{request}: {answer}");
        let message = answer["Error"].as_str().expect("an Error field");
        assert!(message.contains(error), "{request}: {message}");
    }
    assert_eq!(app.messages().await.len(), 1, "refused sends store nothing");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_send_api_refuses_oversized_messages() {
    let app = TestApp::spawn_with(&["--max-message-size", "10KB"]).await;
    let (status, answer) = send(
        &Client::new(),
        &app,
        json!({"From": {"Email": "a@example.com"}, "To": [{"Email": "b@example.com"}],
               "Text": "x".repeat(20_000)}),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
    assert!(app.messages().await.is_empty());
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next_frame(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a frame within 10 s")
            .expect("the socket is open")
            .expect("a frame");
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).expect("JSON frame");
        }
    }
}

/// The next frame of `kind`, skipping `stats` frames.
async fn next_of(socket: &mut Socket, kind: &str) -> Value {
    loop {
        let frame = next_frame(socket).await;
        if frame["Type"] == kind {
            return frame["Data"].clone();
        }
        assert_eq!(frame["Type"], "stats", "unexpected frame {frame}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_websocket_reports_new_update_delete_and_truncate() {
    let app = TestApp::spawn().await;
    let url = format!("ws://{}/api/events", app.http);
    let (mut socket, _) = tokio_tungstenite::connect_async(&url)
        .await
        .expect("connect");
    let first = next_frame(&mut socket).await;
    assert_eq!(first["Type"], "stats");
    assert_eq!(first["Data"]["Total"], 0);

    let id = deliver(
        app.smtp,
        "ws@example.com",
        &["r@example.com"],
        "From: ws@example.com\r\nSubject: live\r\n\r\nhi\r\n",
    )
    .await;
    let new = next_of(&mut socket, "new").await;
    assert_eq!(new["ID"], id.as_str());
    assert_eq!(new["Subject"], "live");
    assert_eq!(new["Read"], false);

    let client = Client::new();
    let base = format!("http://{}", app.http);
    client
        .put(format!("{base}/api/v1/messages"))
        .body(format!(r#"{{"IDs":["{id}"],"Read":true}}"#))
        .send()
        .await
        .expect("read");
    assert_eq!(
        next_of(&mut socket, "update").await,
        json!({"ID": id.as_str(), "Read": true})
    );
    client
        .put(format!("{base}/api/v1/tags"))
        .body(format!(r#"{{"IDs":["{id}"],"Tags":["t"]}}"#))
        .send()
        .await
        .expect("tags");
    assert_eq!(
        next_of(&mut socket, "update").await,
        json!({"ID": id.as_str(), "Tags": ["t"]})
    );
    client
        .delete(format!("{base}/api/v1/messages"))
        .body(format!(r#"{{"IDs":["{id}"]}}"#))
        .send()
        .await
        .expect("delete");
    assert_eq!(
        next_of(&mut socket, "delete").await,
        json!({"ID": id.as_str()})
    );
    deliver(
        app.smtp,
        "ws@example.com",
        &["r@example.com"],
        "Subject: again\r\n\r\n.",
    )
    .await;
    next_of(&mut socket, "new").await;
    client
        .delete(format!("{base}/api/v1/messages"))
        .send()
        .await
        .expect("delete all");
    assert_eq!(next_of(&mut socket, "truncate").await, Value::Null);
    let stats = next_of(&mut socket, "stats").await;
    assert_eq!(stats["Total"], 0);
    socket.close(None).await.expect("close");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_websocket_refuses_other_origins() {
    let app = TestApp::spawn().await;
    let url = format!("ws://{}/api/events", app.http);
    let mut request = url.as_str().into_client_request().expect("request");
    request
        .headers_mut()
        .insert("Origin", "http://evil.example".parse().expect("header"));
    match tokio_tungstenite::connect_async(request).await {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 403),
        other => panic!("expected 403, got {other:?}"),
    }
    let mut request = url.as_str().into_client_request().expect("request");
    request.headers_mut().insert(
        "Origin",
        format!("http://{}", app.http).parse().expect("header"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("the same origin is welcome");
    assert_eq!(next_frame(&mut socket).await["Type"], "stats");
    socket.send(Message::text("ignored")).await.expect("send");
}

#[tokio::test(flavor = "multi_thread")]
async fn links_and_codes_are_extracted() {
    let app = TestApp::spawn().await;
    deliver(
        app.smtp,
        "auth@example.com",
        &["u@example.com"],
        "From: auth@example.com\r\nSubject: Verify\r\nContent-Type: text/html\r\n\r\n\
         <p>Your verification code is <b>482913</b>.</p>\
         <a href=\"https://example.com/confirm?token=abc&amp;u=1\">Confirm</a>\r\n",
    )
    .await;
    let client = Client::new();
    let extracted: Value = client
        .get(format!("http://{}/api/v1/message/latest/extract", app.http))
        .send()
        .await
        .expect("extract")
        .json()
        .await
        .expect("JSON");
    assert_eq!(extracted["Codes"], json!(["482913"]));
    assert_eq!(
        extracted["Links"],
        json!(["https://example.com/confirm?token=abc&u=1"])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unconfigured_features_answer_like_mailpit() {
    let app = TestApp::spawn().await;
    let id = deliver(
        app.smtp,
        "a@example.com",
        &["b@example.com"],
        "Subject: x\r\n\r\n.",
    )
    .await;
    let client = Client::new();
    let base = format!("http://{}", app.http);
    for (request, status, text) in [
        (
            client
                .post(format!("{base}/api/v1/message/{id}/release"))
                .body(r#"{"To":["a@b.c"]}"#),
            400,
            "not configured",
        ),
        (
            client.get(format!("{base}/api/v1/message/{id}/html-check")),
            400,
            "not available",
        ),
        (
            client.get(format!("{base}/api/v1/message/{id}/link-check")),
            400,
            "not available",
        ),
        (
            client.get(format!("{base}/api/v1/message/{id}/sa-check")),
            404,
            "",
        ),
        (
            client.get(format!("{base}/api/v1/chaos")),
            400,
            "Chaos is not enabled",
        ),
        (
            client.put(format!("{base}/api/v1/chaos")).body("{}"),
            400,
            "Chaos is not enabled",
        ),
    ] {
        let response = request.send().await.expect("request");
        assert_eq!(response.status().as_u16(), status);
        assert!(response.text().await.expect("body").contains(text));
    }
}
