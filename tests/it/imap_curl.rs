//! curl as the IMAP client through `imap://` URLs: LIST, a message by UID
//! and by index (byte for byte), SEARCH and FETCH as custom commands, APPEND
//! by upload, SASL logins, STARTTLS (`--ssl-reqd`) and IMAPS (`imaps://`).

use std::process::Output;

use crate::clients::{assert_same_bytes, assert_success, transcript};
use crate::harness::{TestApp, run_async};
use crate::imap_clients::send_mail;
use crate::pop3_clients::strings;

async fn curl(args: &[&str]) -> Output {
    let mut all = strings(&["--silent", "--show-error", "--max-time", "30"]);
    all.extend(strings(args));
    run_async("curl", all, None).await
}

fn curl_ok(output: &Output, what: &str) -> Vec<u8> {
    assert_success(output, what);
    output.stdout.clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn curl_lists_fetches_searches_and_appends() {
    let app = TestApp::spawn().await;
    let first = send_mail(&app, &["nina@example.com"], "curl-one").await;
    let second = send_mail(&app, &["nina@example.com"], "curl-two").await;
    send_mail(&app, &["other@example.com"], "curl-other").await;
    let base = format!("imap://127.0.0.1:{}", app.imap.port());
    let nina = "nina@example.com:x";

    let list = curl(&[&format!("{base}/"), "-u", nina]).await;
    assert_eq!(
        String::from_utf8_lossy(&curl_ok(&list, "curl LIST")),
        "* LIST (\\HasNoChildren) \"/\" INBOX\r\n\
         * LIST (\\HasNoChildren \\Drafts) \"/\" Drafts\r\n\
         * LIST (\\HasNoChildren \\Junk) \"/\" Junk\r\n\
         * LIST (\\HasNoChildren \\Sent) \"/\" Sent\r\n\
         * LIST (\\HasNoChildren \\Trash) \"/\" Trash\r\n"
    );
    for (uid, mail) in [(1, &first), (2, &second)] {
        let fetched = curl(&[&format!("{base}/INBOX;UID={uid}"), "-u", nina]).await;
        assert_same_bytes(
            &curl_ok(&fetched, "curl UID FETCH"),
            &mail.raw,
            &format!("curl UID={uid}"),
        );
    }
    let by_index = curl(&[&format!("{base}/INBOX;MAILINDEX=2"), "-u", nina]).await;
    assert_same_bytes(
        &curl_ok(&by_index, "curl FETCH"),
        &second.raw,
        "curl MAILINDEX=2",
    );
    let section = curl(&[
        &format!("{base}/INBOX;UID=1;SECTION=HEADER.FIELDS%20(SUBJECT)"),
        "-u",
        nina,
    ])
    .await;
    assert_eq!(
        String::from_utf8_lossy(&curl_ok(&section, "curl SECTION")),
        "Subject: curl-one\r\n\r\n"
    );
    let search = curl(&[&format!("{base}/INBOX?SUBJECT%20curl-two"), "-u", nina]).await;
    assert_eq!(
        String::from_utf8_lossy(&curl_ok(&search, "curl SEARCH")),
        "* SEARCH 2\r\n"
    );
    let examine = curl(&[
        &format!("{base}/INBOX"),
        "-X",
        "FETCH 1:* (FLAGS)",
        "-u",
        nina,
    ])
    .await;
    assert_eq!(
        String::from_utf8_lossy(&curl_ok(&examine, "curl FETCH FLAGS")),
        "* 1 FETCH (FLAGS (\\Seen))\r\n* 2 FETCH (FLAGS (\\Seen))\r\n"
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let draft = dir.path().join("draft.eml");
    let draft_bytes = b"From: nina@example.com\r\nSubject: uploaded\r\n\r\nDraft body.\r\n";
    std::fs::write(&draft, draft_bytes).expect("write the draft");
    let upload = curl(&[
        "-T",
        draft.to_str().expect("a UTF-8 path"),
        &format!("{base}/Drafts"),
        "-u",
        nina,
    ])
    .await;
    curl_ok(&upload, "curl APPEND");
    let fetched = curl(&[&format!("{base}/Drafts;UID=1"), "-u", nina]).await;
    assert_same_bytes(
        &curl_ok(&fetched, "curl fetch the draft"),
        draft_bytes,
        "draft",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn curl_logins_starttls_and_imaps() {
    let app = TestApp::spawn_with(&[
        "--imaps-addr",
        "127.0.0.1:0",
        "--imap-auth",
        "olga@example.com:pw",
    ])
    .await;
    let mail = send_mail(&app, &["olga@example.com"], "curl-tls").await;
    let plain = format!("imap://127.0.0.1:{}", app.imap.port());
    let imaps = format!(
        "imaps://127.0.0.1:{}",
        app.imaps.expect("IMAPS is on").port()
    );
    let olga = "olga@example.com:pw";
    for (url, extra) in [
        (format!("{plain}/INBOX;UID=1"), vec![]),
        (
            format!("{plain}/INBOX;UID=1"),
            vec!["--login-options", "AUTH=PLAIN"],
        ),
        (
            format!("{plain}/INBOX;UID=1"),
            vec!["--login-options", "AUTH=LOGIN"],
        ),
        (
            format!("{plain}/INBOX;UID=1"),
            vec!["--ssl-reqd", "--insecure"],
        ),
        (format!("{imaps}/INBOX;UID=1"), vec!["--insecure"]),
    ] {
        let mut args = vec![url.as_str(), "-u", olga];
        args.extend(extra.iter().copied());
        let fetched = curl(&args).await;
        assert_same_bytes(
            &curl_ok(&fetched, &format!("curl {args:?}")),
            &mail.raw,
            &format!("curl {args:?}"),
        );
    }
    let refused = curl(&[
        &format!("{plain}/INBOX;UID=1"),
        "-u",
        "olga@example.com:wrong",
    ])
    .await;
    assert!(!refused.status.success(), "{}", transcript(&refused));
}
