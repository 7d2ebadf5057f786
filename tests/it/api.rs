//! The REST API over HTTP: Mailpit's shapes, status codes and quirks, our
//! additions, and every bad form answered with the right status.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Api, deliver};

const PNG_1X1: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

impl Api {
    /// Sends a mail with a text body, an inline PNG and a PDF attachment.
    async fn send_rich(&self, subject: &str) -> String {
        let message = format!(
            "From: Shop <shop@example.com>\r\nTo: Bob <bob@example.com>\r\nSubject: {subject}\r\n\
             Message-ID: <{subject}@example.com>\r\nMIME-Version: 1.0\r\n\
             List-Unsubscribe: <https://example.com/unsub>\r\n\
             Content-Type: multipart/mixed; boundary=outer\r\n\r\n\
             --outer\r\nContent-Type: multipart/related; boundary=rel\r\n\r\n\
             --rel\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
             <p>Hi <img src=\"cid:logo@x\"> <a href=\"https://example.com/c?a=1&amp;b=2\">go</a></p>\r\n\
             --rel\r\nContent-Type: image/png\r\nContent-ID: <logo@x>\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{PNG_1X1}\r\n--rel--\r\n\
             --outer\r\nContent-Type: application/pdf; name=\"doc.pdf\"\r\n\
             Content-Disposition: attachment; filename=\"doc.pdf\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--outer--\r\n"
        );
        deliver(
            self.app.smtp,
            "shop@example.com",
            &["bob@example.com"],
            &message,
        )
        .await
        .to_string()
    }

    async fn send_plain(&self, to: &str, subject: &str) -> String {
        let message =
            format!("From: a@example.com\r\nTo: {to}\r\nSubject: {subject}\r\n\r\nhello\r\n");
        deliver(self.app.smtp, "a@example.com", &[to], &message)
            .await
            .to_string()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn list_and_search_have_mailpit_shapes_and_paging() {
    let api = Api::spawn().await;
    for n in 0..3 {
        api.send_plain("list@example.com", &format!("n{n}")).await;
    }
    let list = api.json("/api/v1/messages?limit=2").await;
    assert_eq!(list["total"], 3);
    assert_eq!(list["unread"], 3);
    assert_eq!(list["count"], 2);
    assert_eq!(list["messages_count"], 3);
    assert_eq!(list["start"], 0);
    assert_eq!(list["tags"], json!([]));
    let first = &list["messages"][0];
    assert_eq!(first["Subject"], "n2", "newest first");
    for field in [
        "ID",
        "MessageID",
        "Read",
        "From",
        "To",
        "Cc",
        "Bcc",
        "ReplyTo",
        "Subject",
        "Created",
        "Username",
        "Tags",
        "Size",
        "Attachments",
        "Snippet",
    ] {
        assert!(first.get(field).is_some(), "MessageSummary has {field}");
    }
    assert_eq!(
        first["From"],
        json!({"Name": "", "Address": "a@example.com"})
    );
    assert_eq!(first["Cc"], json!([]));
    let page2 = api.json("/api/v1/messages?start=2&limit=2").await;
    assert_eq!(page2["count"], 1);
    assert_eq!(page2["start"], 2);
    assert_eq!(
        api.json("/api/v1/messages?limit=0").await["count"],
        3,
        "0 = all"
    );
    assert_eq!(
        api.json("/api/v1/messages?limit=-5&start=x").await["count"],
        3
    );
    let search = api.json("/api/v1/search?query=subject:n1").await;
    assert_eq!(search["messages_count"], 1);
    assert_eq!(search["total"], 3, "mailbox-wide counts stay");
    assert_eq!(search["messages"][0]["Subject"], "n1");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_searches_are_400_naming_the_problem() {
    let api = Api::spawn().await;
    for (path, text) in [
        ("/api/v1/search", "Error: no search query"),
        ("/api/v1/search?query=%20%20", "Error: no search query"),
        ("/api/v1/search?query=(a", "Error: unbalanced parentheses"),
        ("/api/v1/search?query=is:maybe", "Error: unknown is: value"),
        ("/api/v1/search?query=larger:big", "Error: invalid size"),
        (
            "/api/v1/search?query=a&tz=Mars/Base",
            "Error: unknown time zone",
        ),
        ("/api/v1/messages?before=someday", "Error: invalid date"),
    ] {
        let (status, body) = api.call(Method::GET, path, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert!(body.starts_with(text), "{path}: {body}");
    }
    let (status, _) = api.call(Method::DELETE, "/api/v1/search", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_message_opens_marks_read_and_peeks() {
    let api = Api::spawn().await;
    let id = api.send_rich("rich").await;
    let peeked = api.json(&format!("/api/v1/message/{id}?peek=1")).await;
    assert_eq!(peeked["ID"], id.as_str());
    assert_eq!(
        api.json("/api/v1/messages").await["unread"],
        1,
        "peek leaves it unread"
    );
    let message = api.json(&format!("/api/v1/message/{id}")).await;
    assert_eq!(
        api.json("/api/v1/messages").await["unread"],
        0,
        "opening marks read"
    );
    assert_eq!(message["MessageID"], "rich@example.com");
    assert_eq!(message["Subject"], "rich");
    assert_eq!(message["ReturnPath"], "shop@example.com");
    assert!(
        message["HTML"]
            .as_str()
            .is_some_and(|h| h.contains("cid:logo@x"))
    );
    assert!(message.get("Read").is_none() && message.get("Created").is_none());
    assert_eq!(
        message["ListUnsubscribe"]["Links"],
        json!(["https://example.com/unsub"])
    );
    let attachments = message["Attachments"].as_array().expect("array");
    assert_eq!(attachments.len(), 1);
    assert_eq!(attachments[0]["FileName"], "doc.pdf");
    assert_eq!(attachments[0]["ContentType"], "application/pdf");
    assert_eq!(attachments[0]["Size"], 9);
    let inline = message["Inline"].as_array().expect("array");
    assert_eq!(inline[0]["ContentID"], "logo@x");
    // The list counts what the message view lists.
    assert_eq!(
        api.json("/api/v1/messages").await["messages"][0]["Attachments"],
        1
    );

    // latest, and latest with a search.
    api.send_plain("other@example.com", "later").await;
    assert_eq!(api.json("/api/v1/message/latest").await["Subject"], "later");
    assert_eq!(
        api.json("/api/v1/message/latest?query=subject:rich").await["ID"],
        id.as_str()
    );
    for (path, status, text) in [
        (
            "/api/v1/message/latest?query=subject:none",
            404,
            "Message not found",
        ),
        (
            "/api/v1/message/AAAAAAAAAAAAAAAAAAAAAA",
            404,
            "Message not found",
        ),
        ("/api/v1/message/not-an-id", 404, "Message not found"),
        ("/api/v1/nothing", 404, "404 page not found"),
    ] {
        let (got, body) = api.call(Method::GET, path, None).await;
        assert_eq!(got.as_u16(), status, "{path}");
        assert!(body.contains(text), "{path}: {body}");
    }
    let (status, _) = api
        .call(Method::POST, &format!("/api/v1/message/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test(flavor = "multi_thread")]
async fn headers_raw_parts_and_thumbnails() {
    let api = Api::spawn().await;
    let id = api.send_rich("parts").await;
    let headers = api.json(&format!("/api/v1/message/{id}/headers")).await;
    assert_eq!(
        headers["Message-Id"],
        json!(["<parts@example.com>"]),
        "Go canonical keys"
    );
    assert_eq!(headers["Mime-Version"], json!(["1.0"]));
    assert!(
        headers["Received"][0]
            .as_str()
            .is_some_and(|r| r.starts_with("from deliver.test"))
    );

    let response = api
        .client
        .get(api.url(&format!("/api/v1/message/{id}/raw?dl=1")))
        .send()
        .await
        .expect("raw");
    assert_eq!(
        response.headers()["content-disposition"],
        format!("attachment; filename=\"{id}.eml\"").as_str()
    );
    let raw = response.bytes().await.expect("bytes");
    assert_eq!(raw, api.app.raw(&id.parse().expect("id")).await);

    let pdf = api
        .client
        .get(api.url(&format!("/api/v1/message/{id}/part/2")))
        .send()
        .await
        .expect("part");
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    assert_eq!(
        pdf.headers()["content-disposition"],
        "inline; filename=\"doc.pdf\""
    );
    assert_eq!(pdf.bytes().await.expect("bytes").as_ref(), b"%PDF-1.4\n");

    let thumb = api
        .client
        .get(api.url(&format!("/api/v1/message/{id}/part/1.2/thumb")))
        .send()
        .await
        .expect("thumb");
    assert_eq!(thumb.headers()["content-type"], "image/jpeg");
    let jpeg = image::load_from_memory(&thumb.bytes().await.expect("bytes")).expect("a JPEG");
    assert_eq!((jpeg.width(), jpeg.height()), (180, 120));

    let (status, _) = api
        .call(Method::GET, &format!("/api/v1/message/{id}/part/9"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = api
        .call(
            Method::GET,
            &format!("/api/v1/message/{id}/part/9/thumb"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread")]
async fn html_and_text_views() {
    let api = Api::spawn().await;
    let id = api.send_rich("view").await;
    // Clients build `//view/…` URLs; the path is cleaned before routing.
    let response = api
        .client
        .get(api.url(&format!("//view/{id}.html?embed=1")))
        .send()
        .await
        .expect("view");
    assert_eq!(response.status(), StatusCode::OK);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("script-src"),
        "{csp}"
    );
    let html = response.text().await.expect("html");
    assert!(
        html.contains(&format!("src=\"/api/v1/message/{id}/part/1.2\"")),
        "{html}"
    );
    assert!(html.contains("target=\"_blank\""), "{html}");
    let (status, text) = api
        .call(Method::GET, &format!("/view/{id}.txt"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(text.contains("Hi"), "{text}");
    let plain = api.send_plain("v@example.com", "plain").await;
    let (status, body) = api
        .call(Method::GET, &format!("/view/{plain}.html"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("does not contain a HTML part"));
    let redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .get(api.url("/view/latest"))
        .send()
        .await
        .expect("latest");
    assert_eq!(redirect.status(), StatusCode::FOUND);
    assert_eq!(
        redirect.headers()["location"],
        format!("/view/{plain}").as_str()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn read_state_by_ids_search_and_all() {
    let api = Api::spawn().await;
    let a = api.send_plain("a@example.com", "alpha").await;
    api.send_plain("b@example.com", "beta").await;
    let unread = async || api.json("/api/v1/messages").await["unread"].clone();
    let (status, body) = api
        .call(
            Method::PUT,
            "/api/v1/messages",
            Some(&format!(r#"{{"iDs":["{a}"],"READ":true}}"#)),
        )
        .await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "ok"));
    assert_eq!(unread().await, 1, "field names match in any case");
    api.call(
        Method::PUT,
        "/api/v1/messages",
        Some(r#"{"Search":"subject:beta","Read":true}"#),
    )
    .await;
    assert_eq!(unread().await, 0);
    api.call(Method::PUT, "/api/v1/messages", Some("{}")).await;
    assert_eq!(unread().await, 2, "{{}} marks everything unread");
    for body in [
        format!(r#"{{"IDs":["{a}"],"Search":"x"}}"#),
        r#"{"IDs":["../etc"]}"#.to_owned(),
        "{not json".to_owned(),
        r#"{"Read":"yes"}"#.to_owned(),
        r#"{"Search":"(","Read":true}"#.to_owned(),
    ] {
        let (status, text) = api.call(Method::PUT, "/api/v1/messages", Some(&body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {text}");
    }
    assert_eq!(unread().await, 2, "nothing was half-applied");
    let big = format!(r#"{{"IDs":["{}"]}}"#, "x".repeat(6 << 20));
    let (status, _) = api.call(Method::PUT, "/api/v1/messages", Some(&big)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test(flavor = "multi_thread")]
async fn deletes_by_ids_search_and_all() {
    let api = Api::spawn().await;
    let a = api.send_plain("a@example.com", "alpha").await;
    api.send_plain("b@example.com", "beta").await;
    api.send_plain("c@example.com", "gamma").await;
    let total = async || api.json("/api/v1/messages").await["total"].clone();
    let (status, body) = api
        .call(
            Method::DELETE,
            "/api/v1/messages",
            Some(&format!(r#"{{"IDs":["{a}"]}}"#)),
        )
        .await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, ""),
        "an empty 200"
    );
    assert_eq!(total().await, 2);
    let (status, body) = api
        .call(Method::DELETE, "/api/v1/search?query=subject:beta", None)
        .await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "ok"));
    assert_eq!(total().await, 1);
    // Mailpit's quirk: a body that is not JSON deletes everything.
    let (status, _) = api
        .call(Method::DELETE, "/api/v1/messages", Some("ids=1,2"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(total().await, 0);
    api.send_plain("d@example.com", "delta").await;
    api.call(Method::DELETE, "/api/v1/messages", None).await;
    assert_eq!(total().await, 0, "no body deletes everything");
    assert_eq!(
        api.json("/api/v1/info").await["RuntimeStats"]["MessagesDeleted"],
        4
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn tags_are_listed_set_renamed_and_deleted() {
    let api = Api::spawn().await;
    let a = api.send_plain("a+Orders@example.com", "alpha").await;
    let b = api.send_plain("b@example.com", "beta").await;
    assert_eq!(api.json("/api/v1/tags").await, json!(["Orders"]));
    let (status, body) = api
        .call(
            Method::PUT,
            "/api/v1/tags",
            Some(&format!(r#"{{"IDs":["{a}","{b}"],"Tags":["Work","Q4"]}}"#)),
        )
        .await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "ok"));
    assert_eq!(api.json("/api/v1/tags").await, json!(["Q4", "Work"]));
    assert_eq!(
        api.json(&format!("/api/v1/message/{b}?peek=1")).await["Tags"],
        json!(["Q4", "Work"])
    );
    api.call(
        Method::PUT,
        "/api/v1/tags/Work",
        Some(r#"{"Name":"Office"}"#),
    )
    .await;
    api.call(Method::DELETE, "/api/v1/tags/Q4", None).await;
    assert_eq!(api.json("/api/v1/tags").await, json!(["Office"]));
    assert_eq!(
        api.json("/api/v1/search?query=tag:office").await["messages_count"],
        2
    );
    for (method, path, body) in [
        (Method::PUT, "/api/v1/tags", r#"{"IDs":[],"Tags":["x"]}"#),
        (
            Method::PUT,
            "/api/v1/tags",
            r#"{"IDs":["bad"],"Tags":["x"]}"#,
        ),
        (
            Method::PUT,
            "/api/v1/tags",
            &format!(r#"{{"IDs":["{a}"],"Tags":["<>"]}}"#),
        ),
        (Method::PUT, "/api/v1/tags/Office", r#"{"Name":""}"#),
    ] {
        let (status, text) = api.call(method, path, Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {body}: {text}");
    }
    assert_eq!(api.json("/api/v1/tags").await, json!(["Office"]));
}

#[tokio::test(flavor = "multi_thread")]
async fn info_and_webui() {
    let api = Api::spawn().await;
    api.send_plain("a+Orders@example.com", "alpha").await;
    let info = api.json("/api/v1/info").await;
    assert_eq!(info["Version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(info["Messages"], 1);
    assert_eq!(info["Unread"], 1);
    assert_eq!(info["Tags"], json!({"Orders": 1}));
    assert_eq!(info["RuntimeStats"]["SMTPAccepted"], 1);
    assert!(info["DatabaseSize"].as_u64().is_some_and(|s| s > 0));
    let webui = api.json("/api/v1/webui").await;
    assert_eq!(webui["MessageRelay"]["Enabled"], false);
    assert_eq!(webui["ChaosEnabled"], false);
}

#[tokio::test(flavor = "multi_thread")]
async fn wait_is_released_by_an_smtp_send() {
    let api = Api::spawn().await;
    let waiting = {
        let client = api.client.clone();
        let url = api.url("/api/v1/wait?query=to:late@example.com&count=2&timeout=20");
        tokio::spawn(async move { client.get(url).send().await.expect("wait") })
    };
    // One matching message is not enough; the second releases the wait.
    api.send_plain("late@example.com", "first").await;
    api.send_plain("other@example.com", "noise").await;
    assert!(!waiting.is_finished());
    api.send_plain("late@example.com", "second").await;
    let response = tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .expect("released")
        .expect("task");
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["messages_count"], 2);
    assert_eq!(body["messages"][0]["Subject"], "second");

    let (status, body) = api
        .call(
            Method::GET,
            "/api/v1/wait?query=subject:never&timeout=1",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::REQUEST_TIMEOUT);
    assert_eq!(
        serde_json::from_str::<Value>(&body).expect("json")["messages_count"],
        0
    );
    for path in [
        "/api/v1/wait?count=x",
        "/api/v1/wait?timeout=-1",
        "/api/v1/wait?timeout=99999",
        "/api/v1/wait?query=(",
    ] {
        let (status, _) = api.call(Method::GET, path, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_openapi_document_describes_every_route() {
    let api = Api::spawn().await;
    let doc = api.json("/api/v1/swagger.json").await;
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    for (path, methods) in [
        ("/api/v1/messages", &["get", "put", "delete"][..]),
        ("/api/v1/search", &["get", "delete"]),
        ("/api/v1/wait", &["get"]),
        ("/api/v1/message/{id}", &["get"]),
        ("/api/v1/message/{id}/headers", &["get"]),
        ("/api/v1/message/{id}/raw", &["get"]),
        ("/api/v1/message/{id}/part/{part}", &["get"]),
        ("/api/v1/message/{id}/part/{part}/thumb", &["get"]),
        ("/api/v1/message/{id}/extract", &["get"]),
        ("/api/v1/tags", &["get", "put"]),
        ("/api/v1/tags/{tag}", &["put", "delete"]),
        ("/api/v1/info", &["get"]),
        ("/api/v1/webui", &["get"]),
        ("/api/v1/send", &["post"]),
        ("/api/events", &["get"]),
        ("/view/{file}", &["get"]),
    ] {
        for method in methods {
            assert!(
                doc["paths"][path][method].is_object(),
                "{method} {path} is documented"
            );
        }
    }
    let schemas = &doc["components"]["schemas"];
    assert!(schemas["MessagesSummary"]["properties"]["messages_count"].is_object());
    assert!(schemas["MessageSummary"]["properties"]["MessageID"].is_object());
    assert!(schemas["SendRequest"]["properties"]["ReplyTo"].is_object());
    assert!(schemas["ReadRequest"]["properties"]["IDs"].is_object());
}

#[tokio::test(flavor = "multi_thread")]
async fn every_message_route_refuses_unknown_ids_and_wrong_methods() {
    let api = Api::spawn().await;
    let unknown = "AAAAAAAAAAAAAAAAAAAAAA";
    for path in [
        format!("/api/v1/message/{unknown}"),
        format!("/api/v1/message/{unknown}/headers"),
        format!("/api/v1/message/{unknown}/raw"),
        format!("/api/v1/message/{unknown}/part/1"),
        format!("/api/v1/message/{unknown}/part/1/thumb"),
        format!("/api/v1/message/{unknown}/extract"),
        format!("/view/{unknown}.html"),
        format!("/view/{unknown}.txt"),
        "/api/v1/message/latest".to_owned(),
        "/view/latest".to_owned(),
    ] {
        let (status, body) = api.call(Method::GET, &path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(body.contains("not found"), "{path}: {body}");
    }
    for (method, path) in [
        (Method::POST, "/api/v1/messages"),
        (Method::PATCH, "/api/v1/search"),
        (Method::DELETE, "/api/v1/info"),
        (Method::POST, "/api/v1/tags"),
        (Method::GET, "/api/v1/send"),
        (Method::PUT, "/api/v1/wait"),
        (Method::DELETE, "/api/v1/message/latest/raw"),
    ] {
        let (status, _) = api.call(method.clone(), path, None).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
    }
}
