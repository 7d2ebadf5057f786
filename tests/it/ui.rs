//! The web UI over HTTP: what the pages say, their security headers, keyset
//! paging, and every bad form (unknown IDs, bad page cursors, bad and
//! over-long searches) answered with a page that names the problem.

use reqwest::header::{self, HeaderMap};
use reqwest::redirect::Policy;
use reqwest::{Client, StatusCode};

use crate::harness::TestApp;
use crate::ui_mail::{HOSTILE_FILE, HOSTILE_SUBJECT, send_hostile, send_plain, send_rich};

struct Ui {
    app: TestApp,
    client: Client,
}

impl Ui {
    async fn spawn() -> Self {
        Self {
            app: TestApp::spawn().await,
            client: Client::builder()
                .redirect(Policy::none())
                .build()
                .expect("a client"),
        }
    }

    async fn get(&self, path: &str) -> (StatusCode, HeaderMap, String) {
        let response = self
            .client
            .get(format!("http://{}{path}", self.app.http))
            .header(header::ACCEPT, "text/html")
            .send()
            .await
            .expect("HTTP request");
        let status = response.status();
        let headers = response.headers().clone();
        (status, headers, response.text().await.expect("body"))
    }

    /// A page that must answer 200.
    async fn page(&self, path: &str) -> String {
        let (status, headers, body) = self.get(path).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        assert_ui_headers(&headers);
        body
    }
}

fn assert_ui_headers(headers: &HeaderMap) {
    let csp = headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .expect("ASCII");
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "frame-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ] {
        assert!(csp.contains(directive), "{directive} in {csp}");
    }
    assert!(!csp.contains("unsafe"), "{csp}");
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(headers[header::REFERRER_POLICY], "no-referrer");
    assert_eq!(
        headers[header::CONTENT_TYPE],
        "text/html; charset=utf-8",
        "{headers:?}"
    );
}

/// The IDs of the rows of an inbox page, in order.
fn row_ids(page: &str) -> Vec<String> {
    page.split("<li class=\"msg")
        .skip(1)
        .filter_map(|row| {
            let start = row.find("data-id=\"")? + 9;
            Some(row[start..start + 22].to_owned())
        })
        .collect()
}

/// The href of the link with `rel`.
fn link(page: &str, rel: &str) -> Option<String> {
    let at = page.find(&format!("<a rel=\"{rel}\" href=\""))? + rel.len() + 16;
    let end = page[at..].find('"')?;
    Some(page[at..at + end].replace("&#38;", "&"))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_empty_inbox_tells_where_smtp_listens() {
    let ui = Ui::spawn().await;
    let page = ui.page("/").await;
    assert!(page.contains("No mail yet"), "{page}");
    assert!(
        page.contains(&format!(
            "host <code id=\"smtp-host\">127.0.0.1</code>, port <code id=\"smtp-port\">{}</code>",
            ui.app.smtp.port()
        )),
        "{page}"
    );
    assert!(page.contains("<title>Inbox · Mailsink</title>"), "{page}");
    assert!(row_ids(&page).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_inbox_lists_mail_newest_first_with_its_details() {
    let ui = Ui::spawn().await;
    let rich = send_rich(ui.app.smtp, "Your order").await;
    let plain = send_plain(ui.app.smtp, "Standup notes").await;
    let page = ui.page("/").await;
    assert_eq!(row_ids(&page), [plain.to_string(), rich.to_string()]);
    assert!(
        page.contains("<title>(2) Inbox · Mailsink</title>"),
        "{page}"
    );
    assert!(page.contains("2 messages, 2 unread"), "{page}");
    let rich_row = page
        .split("<li class=\"msg")
        .find(|row| row.contains(rich.as_str()))
        .expect("the rich row");
    assert!(rich_row.starts_with(" unread\""), "{rich_row}");
    for expected in [
        "title=\"shop@example.com\"",
        ">Shop</span>",
        "To: bob@example.com",
        "<span class=\"subject\">Your order</span>",
        "Hello Bob Your code is 482913.",
        "title=\"1 attachment\"",
        &format!("href=\"/view/{rich}\""),
        "<time datetime=\"",
    ] {
        assert!(rich_row.contains(expected), "{expected} in {rich_row}");
    }
    assert!(!page.contains("No mail yet\n") || page.contains("id=\"empty\" hidden"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_message_page_shows_every_part_and_marks_read() {
    let ui = Ui::spawn().await;
    let id = send_rich(ui.app.smtp, "Your order").await;
    let peeked = ui.page(&format!("/view/{id}?peek=1")).await;
    assert!(peeked.contains("<h1 class=\"subject\">Your order</h1>"));
    assert!(
        !ui.app
            .store
            .get(&id)
            .await
            .expect("get")
            .expect("stored")
            .read
    );
    let page = ui.page(&format!("/view/{id}")).await;
    assert!(
        ui.app
            .store
            .get(&id)
            .await
            .expect("get")
            .expect("stored")
            .read
    );
    for expected in [
        // The preview, sandboxed without scripts, from the HTML route.
        &format!(
            "<iframe id=\"preview\" title=\"The message's HTML\" src=\"/view/{id}.html?embed=1&amp;peek=1\" sandbox=\"allow-popups allow-popups-to-escape-sandbox\""
        ),
        "<pre class=\"text\">Your code is 482913.",
        "<th scope=\"row\">X-Mailer</th><td>ui-test</td>",
        &format!("href=\"/api/v1/message/{id}/raw?dl=1\" download=\"{id}.eml\""),
        "Content-Type: multipart/mixed; boundary=outer",
        "download=\"terms.pdf\">terms.pdf</a> <span class=\"muted\">application/pdf, 9 B</span>",
        "alt=\"logo.png\" class=\"inline-image\"",
        "<dt>MAIL FROM</dt><dd>shop@example.com</dd>",
        "<dt>RCPT TO</dt><dd>bob@example.com</dd>",
        "<dt>HELO</dt><dd>deliver.test</dd>",
        "<dt>Client</dt><dd>127.0.0.1:",
        "<dt>TLS</dt><dd>no</dd>",
        "<dt>Auth user</dt><dd>none</dd>",
        "<code class=\"code\">482913</code>",
        "href=\"https://shop.example.com/confirm?t=abc\"",
    ] {
        assert!(page.contains(expected), "{expected} in {page}");
    }
    assert!(!page.contains("sandbox=\"allow-scripts"), "{page}");
    // The framed HTML keeps its own strict policy, and cid: points at the part.
    let (status, headers, html) = ui.get(&format!("/view/{id}.html?embed=1&peek=1")).await;
    assert_eq!(status, StatusCode::OK);
    let csp = headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .expect("ASCII");
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    assert!(!csp.contains("script-src"), "{csp}");
    assert!(html.contains(&format!("src=\"/api/v1/message/{id}/part/")));
}

#[tokio::test(flavor = "multi_thread")]
async fn markup_in_subjects_names_and_files_shows_as_text() {
    let ui = Ui::spawn().await;
    let id = send_hostile(ui.app.smtp).await;
    let inbox = ui.page("/").await;
    let message = ui.page(&format!("/view/{id}")).await;
    for page in [&inbox, &message] {
        assert!(!page.contains("<script>window"), "{page}");
        assert!(!page.contains("<img src=x"), "{page}");
        assert!(!page.contains("<b>Mallory"), "{page}");
        assert!(
            page.contains("&#60;script&#62;window.xss=1&#60;/script&#62;"),
            "{page}"
        );
    }
    assert!(message.contains("&#60;img src=x onerror=window.xss=3&#62;.html</a>"));
    assert!(!message.contains(HOSTILE_FILE));
    assert!(!message.contains(HOSTILE_SUBJECT));
    // The page holds no script of its own but the module it links.
    assert_eq!(message.matches("<script").count(), 1, "{message}");
    // Attachments opened on their own run sandboxed, without script.
    let parts: Vec<&str> = message
        .split(&format!("href=\"/api/v1/message/{id}/part/"))
        .skip(1)
        .map(|rest| &rest[..rest.find('"').expect("a closing quote")])
        .collect();
    assert!(parts.len() >= 2, "{message}");
    for part in parts {
        let (status, headers, _) = ui.get(&format!("/api/v1/message/{id}/part/{part}")).await;
        assert_eq!(status, StatusCode::OK);
        let csp = headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .expect("ASCII");
        assert!(csp.starts_with("sandbox;"), "part {part}: {csp}");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn keyset_pages_walk_every_message_both_ways() {
    let ui = Ui::spawn().await;
    let mut sent = Vec::new();
    for n in 0..120 {
        let subject = if n % 3 == 0 { "fizz" } else { "plain" };
        sent.push(
            send_plain(ui.app.smtp, &format!("{subject} {n}"))
                .await
                .to_string(),
        );
    }
    sent.reverse();
    let first = ui.page("/").await;
    assert_eq!(row_ids(&first), sent[..50]);
    assert_eq!(link(&first, "prev"), None);
    let older = link(&first, "next").expect("an older page");
    assert_eq!(older, format!("/?before={}", sent[49]));
    let second = ui.page(&older).await;
    assert_eq!(row_ids(&second), sent[50..100]);
    let third = ui.page(&link(&second, "next").expect("older")).await;
    assert_eq!(row_ids(&third), sent[100..]);
    assert_eq!(link(&third, "next"), None);
    let back = ui.page(&link(&third, "prev").expect("newer")).await;
    assert_eq!(row_ids(&back), sent[50..100]);
    let top = ui.page(&link(&back, "prev").expect("newer")).await;
    assert_eq!(row_ids(&top), sent[..50]);
    assert_eq!(link(&top, "prev"), None);

    // A search pages the same way through its matches: 40 fizz messages.
    let fizz: Vec<String> = sent
        .iter()
        .enumerate()
        .filter(|(i, _)| (119 - i) % 3 == 0)
        .map(|(_, id)| id.clone())
        .collect();
    let found = ui.page("/search?q=subject%3Afizz").await;
    assert!(found.contains("40 messages match"), "{found}");
    assert!(found.contains("value=\"subject:fizz\""), "{found}");
    let ids = row_ids(&found);
    assert_eq!(ids, fizz);
    assert_eq!(link(&found, "next"), None);
    let small = ui.page("/search?q=fizz%201").await;
    assert!(small.contains("match"), "{small}");

    // A page that started at a deleted message starts again from the newest.
    let gone = sent[60].parse().expect("an ID");
    ui.app
        .store
        .delete(mailsink::store::Target::Ids(vec![gone]))
        .await
        .expect("delete");
    let (status, headers, _) = ui.get(&format!("/?before={}", sent[60])).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_forms_get_pages_naming_the_problem() {
    let ui = Ui::spawn().await;
    let id = send_plain(ui.app.smtp, "hello").await;

    // Unknown IDs: the UI's 404 page; other /view/ forms stay with the API.
    let (status, headers, body) = ui.get("/view/AAAAAAAAAAAAAAAAAAAAAA").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_ui_headers(&headers);
    assert!(body.contains("<h1>Not found</h1>"), "{body}");
    let (status, _, body) = ui.get("/view/AAAAAAAAAAAAAAAAAAAAAA.html").await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::NOT_FOUND, "Message not found\n")
    );
    let (status, _, body) = ui.get(&format!("/view/{id}.txt")).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "Hi.\r\n\r\n"));
    let (status, headers, _) = ui.get("/view/latest").await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(headers[header::LOCATION], format!("/view/{id}").as_str());
    let (status, _, body) = ui.get("/view/not-an-id").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, headers, body) = ui.get("/no/such/page").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_ui_headers(&headers);
    assert!(body.contains("Not found"));

    // Bad page cursors.
    for (path, says) in [
        ("/?before=12", "&#34;12&#34; is not a message ID"),
        ("/?after=..%2F..%2Fetc", "is not a message ID"),
        (
            "/?before=AAAAAAAAAAAAAAAAAAAAAA&after=AAAAAAAAAAAAAAAAAAAAAA",
            "either before or after",
        ),
        ("/search?q=x&before=-1", "is not a message ID"),
    ] {
        let (status, headers, body) = ui.get(path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert_ui_headers(&headers);
        assert!(body.contains(says), "{path}: {says} in {body}");
    }

    // Bad and over-long searches: the page says why and keeps the search box.
    let long = "a".repeat(1001);
    for (path, says) in [
        (
            "/search?q=%28unclosed".to_owned(),
            "Cannot search: unbalanced parentheses.",
        ),
        ("/search?q=is%3Asometimes".to_owned(), "unknown is: value"),
        (
            format!("/search?q={long}"),
            "The search is too long: at most 1000 characters.",
        ),
    ] {
        let (status, headers, body) = ui.get(&path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert_ui_headers(&headers);
        assert!(body.contains(says), "{says} in {body}");
        assert!(body.contains("role=\"alert\""), "{body}");
        assert!(row_ids(&body).is_empty());
    }
    let (status, headers, _) = ui.get("/search?q=++").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/");
    let (status, _, body) = ui.get("/?q=%ZZ&before=%").await;
    assert!(status == StatusCode::BAD_REQUEST, "{status}: {body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn assets_are_embedded_versioned_and_cached() {
    let ui = Ui::spawn().await;
    let page = ui.page("/").await;
    for name in ["mailsink.css", "mailsink.js", "favicon.svg"] {
        let at = page
            .find(&format!("/static/{name}?v="))
            .unwrap_or_else(|| panic!("{name} linked from {page}"));
        let url = &page[at..at + page[at..].find('"').expect("closing quote")];
        let (status, headers, body) = ui.get(url).await;
        assert_eq!(status, StatusCode::OK, "{url}");
        assert!(!body.is_empty());
        assert_eq!(
            headers[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        let etag = headers[header::ETAG].clone();
        let again = ui
            .client
            .get(format!("http://{}{url}", ui.app.http))
            .header(header::IF_NONE_MATCH, etag)
            .send()
            .await
            .expect("revalidate");
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        // An old version's URL may not be kept.
        let (_, headers, _) = ui.get(&format!("/static/{name}?v=0")).await;
        assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
    }
    let (_, headers, _) = ui.get("/static/mailsink.js").await;
    assert_eq!(
        headers[header::CONTENT_TYPE],
        "text/javascript; charset=utf-8"
    );
    let (status, _, _) = ui.get("/static/../Cargo.toml").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = ui.get("/static/nothing.js").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
