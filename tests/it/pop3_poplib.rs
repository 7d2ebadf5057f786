//! Python's poplib as the POP3 client: STAT, LIST, UIDL, TOP and RETR (bare
//! LF lines served as CRLF), each address's maildrop and the catch-all's,
//! DELE, RSET and QUIT (per address, and by the catch-all), STLS, APOP and
//! configured credentials, and POP3S.

use serde_json::{Value, json};

use crate::clients::assert_same_bytes;
use crate::harness::{TestApp, deliver};
use crate::pop3_clients::{Mail, SENDER, find, headers, poplib, send, send_to, uidl_lines};
use mailsink::store::MessageId;

/// What TOP n `lines` returns (unstuffed): the headers and `lines` body lines.
fn top(raw: &[u8], lines: usize) -> &[u8] {
    let head = headers(raw).len();
    let body_end = raw[head..]
        .split_inclusive(|&b| b == b'\n')
        .take(lines)
        .map(<[u8]>::len)
        .sum::<usize>();
    &raw[..head + body_end]
}

/// Every line end as CRLF, as POP3 serves a message.
fn crlf(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + 16);
    for line in raw.split_inclusive(|&b| b == b'\n') {
        let text = line.strip_suffix(b"\n").unwrap_or(line);
        out.extend_from_slice(text.strip_suffix(b"\r").unwrap_or(text));
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// A latin-1 string from [`poplib`]'s results back as bytes.
fn latin1(value: &Value) -> Vec<u8> {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("expected a string, got {value}"));
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).expect("latin-1"))
        .collect()
}

/// Asserts a poplib RETR result is `mail`, byte for byte.
fn assert_retrieved(result: &Value, mail: &Mail, what: &str) {
    assert_same_bytes(&latin1(&result["bytes"]), &mail.raw, what);
    assert_eq!(result["octets"], mail.raw.len(), "{what}: octets");
    assert_eq!(
        result["resp"],
        format!("+OK {} octets", mail.raw.len()),
        "{what}: reply"
    );
}

/// Asserts a poplib op answered `-ERR`.
fn assert_refused(result: &Value, what: &str) {
    let error = result["error"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: expected -ERR, got {result}"));
    assert!(error.starts_with("-ERR"), "{what}: {error:?}");
}

fn assert_ok(result: &Value, what: &str) {
    let reply = result
        .as_str()
        .unwrap_or_else(|| panic!("{what}: expected +OK, got {result}"));
    assert!(reply.starts_with("+OK"), "{what}: {reply:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn poplib_stat_list_uidl_top_and_retr() {
    let app = TestApp::spawn().await;
    let first = send(&app, &["bob@example.com"], "poplib-first").await;
    let second = send(
        &app,
        &["bob@example.com", "carol@example.com"],
        "poplib-second",
    )
    .await;
    send(&app, &["carol@example.com"], "poplib-carol").await;
    let (len1, len2) = (first.raw.len(), second.raw.len());

    let results = poplib(json!([{"port": app.pop3.port(), "ops": [
        ["welcome"], ["capa"], ["user", "bob@example.com"], ["pass_", "any password"],
        ["stat"], ["list"], ["list", 2], ["uidl"], ["uidl", 2],
        ["top", 1, 0], ["top", 1, 2], ["retr", 1], ["retr", 2], ["retr", 3],
        ["noop"], ["quit"],
    ]}]))
    .await;
    let r = &results[0];

    // The greeting carries the APOP timestamp.
    let welcome = r[0].as_str().expect("a greeting");
    assert!(welcome.starts_with("+OK "), "{welcome:?}");
    assert!(welcome.ends_with("@mailsink.test>"), "{welcome:?}");
    assert_eq!(
        r[1],
        json!({
            "TOP": [], "USER": [], "UIDL": [], "SASL": ["PLAIN", "LOGIN"], "RESP-CODES": [],
            "PIPELINING": [], "STLS": [], "IMPLEMENTATION": ["Mailsink"],
        }),
        "CAPA"
    );
    assert_ok(&r[2], "USER");
    assert_eq!(
        r[3],
        format!(
            "+OK bob@example.com's maildrop has 2 messages ({} octets)",
            len1 + len2
        )
    );
    assert_eq!(r[4], json!([2, len1 + len2]), "STAT");
    assert_eq!(
        r[5]["lines"],
        json!([format!("1 {len1}"), format!("2 {len2}")]),
        "LIST"
    );
    assert_eq!(r[6], format!("+OK 2 {len2}"), "LIST 2");
    assert_eq!(r[7]["lines"], uidl_lines(&[&first, &second]), "UIDL");
    assert_eq!(r[8], format!("+OK 2 {}", second.id), "UIDL 2");
    assert_same_bytes(&latin1(&r[9]["bytes"]), headers(&first.raw), "TOP 1 0");
    assert_same_bytes(&latin1(&r[10]["bytes"]), top(&first.raw, 2), "TOP 1 2");
    assert!(
        latin1(&r[10]["bytes"]).ends_with(b"\r\n.a line that starts with a dot\r\n"),
        "TOP unstuffs the dot-leading line"
    );
    assert_retrieved(&r[11], &first, "RETR 1");
    assert_retrieved(&r[12], &second, "RETR 2");
    assert_refused(&r[13], "RETR 3 (carol's message)");
    assert_ok(&r[14], "NOOP");
    assert_ok(&r[15], "QUIT");
}

#[tokio::test(flavor = "multi_thread")]
async fn poplib_gets_bare_lf_lines_as_crlf() {
    let app = TestApp::spawn().await;
    // Stored as received, bare LFs included (SPEC §4); POP3 serves every
    // line with CRLF and counts the bytes as served (SPEC §5).
    let message = "From: Sender <sender@example.com>\r\n\
                   To: bob@example.com\n\
                   Subject: bare-lf\r\n\
                   \n\
                   line one\n\
                   line two\r\n\
                   line three";
    let id = deliver(app.smtp, SENDER, &["bob@example.com"], message).await;
    let raw = app.raw(&id).await;
    assert!(raw.ends_with(b"line one\nline two\r\nline three\r\n"));
    let served = crlf(&raw);
    assert_ne!(served, raw);

    let results = poplib(json!([{"port": app.pop3.port(), "ops": [
        ["user", "bob@example.com"], ["pass_", "x"], ["list"], ["top", 1, 1], ["retr", 1], ["quit"],
    ]}]))
    .await;
    let r = &results[0];
    assert_eq!(
        r[2]["lines"],
        json!([format!("1 {}", served.len())]),
        "LIST"
    );
    assert_same_bytes(&latin1(&r[3]["bytes"]), top(&served, 1), "TOP 1 1");
    assert_retrieved(&r[4], &Mail { id, raw: served }, "RETR of bare LFs");
}

#[tokio::test(flavor = "multi_thread")]
async fn poplib_each_address_sees_its_own_mail_and_the_catch_all_sees_all() {
    let app = TestApp::spawn().await;
    let to_bob = send(&app, &["bob@example.com"], "scope-bob").await;
    let to_carol = send(&app, &["carol@example.com"], "scope-carol").await;
    // Recipient addresses match case-insensitively.
    let to_both = send(
        &app,
        &["bob@example.com", "Carol@Example.COM"],
        "scope-both",
    )
    .await;
    // Dave is only in the envelope: a Bcc.
    let bcc = send_to(
        &app,
        &["bob@example.com", "dave@example.com"],
        "bob@example.com",
        "scope-bcc",
    )
    .await;

    let logins = [
        ("bob@example.com", vec![&to_bob, &to_both, &bcc]),
        ("BOB@Example.com", vec![&to_bob, &to_both, &bcc]),
        ("carol@example.com", vec![&to_carol, &to_both]),
        ("dave@example.com", vec![&bcc]),
        ("nobody@example.com", vec![]),
        ("catchall", vec![&to_bob, &to_carol, &to_both, &bcc]),
    ];
    let sessions: Vec<Value> = logins
        .iter()
        .map(|(user, _)| {
            json!({"port": app.pop3.port(), "ops": [
                ["user", user], ["pass_", "x"], ["stat"], ["uidl"], ["all"], ["quit"],
            ]})
        })
        .collect();
    let results = poplib(json!(sessions)).await;

    for ((user, expected), r) in logins.iter().zip(&results) {
        let size: usize = expected.iter().map(|m| m.raw.len()).sum();
        assert_eq!(r[2], json!([expected.len(), size]), "{user}: STAT");
        assert_eq!(r[3]["lines"], uidl_lines(expected), "{user}: UIDL");
        let retrieved = r[4].as_array().expect("RETR results");
        assert_eq!(retrieved.len(), expected.len(), "{user}: messages");
        for (n, (result, mail)) in retrieved.iter().zip(expected).enumerate() {
            assert_retrieved(result, mail, &format!("{user}: RETR {}", n + 1));
        }
    }
    // The Bcc recipient appears nowhere in the bytes served.
    assert!(find(&bcc.raw, b"dave").is_none(), "Bcc leaked");
}

#[tokio::test(flavor = "multi_thread")]
async fn poplib_dele_rset_and_quit_hide_the_message_from_that_address_only() {
    let app = TestApp::spawn().await;
    let shared = send(
        &app,
        &["bob@example.com", "carol@example.com"],
        "dele-shared",
    )
    .await;
    let own = send(&app, &["bob@example.com"], "dele-own").await;
    let (len1, len2) = (shared.raw.len(), own.raw.len());
    let port = app.pop3.port();

    let results = poplib(json!([
        {"port": port, "ops": [
            ["user", "bob@example.com"], ["pass_", "x"],
            ["dele", 1], ["stat"], ["list"], ["uidl"], ["retr", 1], ["dele", 1], ["list", 1],
            ["rset"], ["stat"], ["retr", 1],
            ["dele", 1], ["quit"],
        ]},
        {"port": port, "ops": [["user", "bob@example.com"], ["pass_", "x"], ["stat"], ["uidl"], ["retr", 1], ["quit"]]},
        {"port": port, "ops": [["user", "carol@example.com"], ["pass_", "x"], ["uidl"], ["quit"]]},
        {"port": port, "ops": [["user", "catchall"], ["pass_", "x"], ["uidl"], ["quit"]]},
    ]))
    .await;

    let r = &results[0];
    assert_eq!(r[2], "+OK message 1 deleted", "DELE 1");
    assert_eq!(r[3], json!([1, len2]), "STAT after DELE");
    assert_eq!(
        r[4]["lines"],
        json!([format!("2 {len2}")]),
        "LIST after DELE"
    );
    assert_eq!(
        r[5]["lines"],
        json!([format!("2 {}", own.id)]),
        "UIDL after DELE"
    );
    assert_refused(&r[6], "RETR of a deleted message");
    assert_refused(&r[7], "DELE of a deleted message");
    assert_refused(&r[8], "LIST of a deleted message");
    assert_ok(&r[9], "RSET");
    assert_eq!(r[10], json!([2, len1 + len2]), "STAT after RSET");
    assert_retrieved(&r[11], &shared, "RETR after RSET");
    assert_ok(&r[12], "DELE 1 again");
    assert_eq!(
        r[13],
        "+OK Mailsink POP3 server signing off (1 messages deleted)"
    );

    // A new session of bob's no longer has it, renumbered from 1.
    let r = &results[1];
    assert_eq!(r[2], json!([1, len2]), "bob's STAT after QUIT");
    assert_eq!(r[3]["lines"], uidl_lines(&[&own]), "bob's UIDL after QUIT");
    assert_retrieved(&r[4], &own, "bob's RETR 1 after QUIT");
    // Carol, the catch-all and the API still have it.
    assert_eq!(results[2][2]["lines"], uidl_lines(&[&shared]), "carol");
    assert_eq!(
        results[3][2]["lines"],
        uidl_lines(&[&shared, &own]),
        "catch-all"
    );
    assert!(app.store.get(&shared.id).await.expect("get").is_some());
    assert_eq!(app.messages().await.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn poplib_catch_all_deletions_remove_the_message_from_mailsink() {
    let app = TestApp::spawn().await;
    let first = send(&app, &["bob@example.com"], "purge-first").await;
    let second = send(&app, &["bob@example.com"], "purge-second").await;
    let port = app.pop3.port();

    let results = poplib(json!([
        {"port": port, "ops": [["user", "catchall"], ["pass_", "x"], ["dele", 1], ["quit"]]},
        {"port": port, "ops": [["user", "bob@example.com"], ["pass_", "x"], ["uidl"], ["quit"]]},
        {"port": port, "ops": [["user", "catchall"], ["pass_", "x"], ["uidl"], ["quit"]]},
    ]))
    .await;
    assert_ok(&results[0][2], "DELE");
    assert_ok(&results[0][3], "QUIT");
    assert!(app.store.get(&first.id).await.expect("get").is_none());
    let left: Vec<MessageId> = app.messages().await.into_iter().map(|m| m.id).collect();
    assert_eq!(left, std::slice::from_ref(&second.id));
    assert_eq!(results[1][2]["lines"], uidl_lines(&[&second]), "bob");
    assert_eq!(results[2][2]["lines"], uidl_lines(&[&second]), "catch-all");
}

#[tokio::test(flavor = "multi_thread")]
async fn poplib_stls() {
    let app = TestApp::spawn().await;
    let mail = send(&app, &["bob@example.com"], "poplib-stls").await;
    let results = poplib(json!([{"port": app.pop3.port(), "ops": [
        ["stls"], ["capa"], ["user", "bob@example.com"], ["pass_", "x"],
        ["stat"], ["retr", 1], ["quit"],
    ]}]))
    .await;
    let r = &results[0];
    assert_eq!(r[0], "+OK begin TLS negotiation");
    // Under TLS, STLS is no longer offered.
    assert!(r[1].get("STLS").is_none(), "CAPA under TLS: {}", r[1]);
    assert!(r[1].get("TOP").is_some(), "CAPA under TLS: {}", r[1]);
    assert_eq!(r[4], json!([1, mail.raw.len()]), "STAT");
    assert_retrieved(&r[5], &mail, "RETR over STLS");
    assert_ok(&r[6], "QUIT");
}

#[tokio::test(flavor = "multi_thread")]
async fn poplib_apop_and_configured_credentials() {
    let app = TestApp::spawn_with(&["--pop3-auth", "alice@example.com:secret"]).await;
    let mail = send(&app, &["alice@example.com"], "poplib-apop").await;
    let port = app.pop3.port();

    let results = poplib(json!([
        {"port": port, "ops": [["apop", "alice@example.com", "secret"], ["retr", 1], ["quit"]]},
        // A refused APOP leaves the session in AUTHORIZATION.
        {"port": port, "ops": [
            ["apop", "alice@example.com", "wrong"], ["user", "alice@example.com"], ["pass_", "secret"],
            ["stat"], ["quit"],
        ]},
        {"port": port, "ops": [
            ["user", "alice@example.com"], ["pass_", "wrong"], ["stat"],
            ["apop", "mallory@example.com", "secret"], ["quit"],
        ]},
    ]))
    .await;

    assert_eq!(
        results[0][0],
        format!(
            "+OK alice@example.com's maildrop has 1 messages ({} octets)",
            mail.raw.len()
        )
    );
    assert_retrieved(&results[0][1], &mail, "RETR after APOP");
    assert_eq!(
        results[1][0]["error"], "-ERR [AUTH] invalid user name or password",
        "APOP with a wrong secret"
    );
    assert_ok(&results[1][2], "PASS after a refused APOP");
    assert_eq!(results[1][3], json!([1, mail.raw.len()]));
    assert_refused(&results[2][1], "PASS with a wrong password");
    assert_refused(&results[2][2], "STAT before logging in");
    assert_refused(&results[2][3], "APOP of an unknown user");
}

#[tokio::test(flavor = "multi_thread")]
async fn poplib_pop3_ssl() {
    let app = TestApp::spawn_with(&["--pop3s-addr", "127.0.0.1:0"]).await;
    let pop3s = app.pop3s.expect("POP3S is on");
    let first = send(&app, &["bob@example.com"], "pop3s-first").await;
    let second = send(&app, &["bob@example.com"], "pop3s-second").await;
    let results = poplib(json!([{"port": pop3s.port(), "ssl": true, "ops": [
        ["welcome"], ["capa"], ["user", "bob@example.com"], ["pass_", "x"],
        ["uidl"], ["top", 2, 0], ["retr", 1], ["retr", 2], ["quit"],
    ]}]))
    .await;
    let r = &results[0];
    assert!(r[0].as_str().expect("greeting").starts_with("+OK "));
    assert!(r[1].get("STLS").is_none(), "CAPA over TLS: {}", r[1]);
    assert_eq!(r[4]["lines"], uidl_lines(&[&first, &second]));
    assert_same_bytes(&latin1(&r[5]["bytes"]), headers(&second.raw), "TOP 2 0");
    assert_retrieved(&r[6], &first, "RETR 1 over POP3S");
    assert_retrieved(&r[7], &second, "RETR 2 over POP3S");
    assert_ok(&r[8], "QUIT");
}
