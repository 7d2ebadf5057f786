//! Real POP3 clients against Mailsink's POP3 server (SPEC §3 and §5): Python's
//! poplib, curl, fetchmail, getmail and the async-pop crate.
//!
//! Every test sends mail over SMTP, retrieves it with the client and compares
//! what the client got with the stored bytes, which are what a POP3 client
//! must receive. The messages use CRLF line ends only, so no bare LF is
//! normalised on the way (one poplib test checks that normalisation), and
//! each has lines that start with a dot (one is a lone dot), which the server
//! must stuff and the client unstuff.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Output;

use async_pop::response::list::ListResponse;
use async_pop::response::types::DataType;
use async_pop::response::uidl::UidlResponse;
use serde_json::{Value, json};

use crate::clients::{assert_same_bytes, assert_success, transcript};
use crate::harness::{TestApp, deliver, run_async};
use mailsink::store::MessageId;

const SENDER: &str = "sender@example.com";

/// One delivered message: its ID (the POP3 UIDL) and its stored bytes.
struct Mail {
    id: MessageId,
    raw: Vec<u8>,
}

/// Delivers a CRLF-only message with dot-leading lines to `rcpts` over SMTP,
/// with `to` as its To: header, and returns it as stored. `slug` names it
/// (Subject and Message-ID): no spaces.
async fn send_to(app: &TestApp, rcpts: &[&str], to: &str, slug: &str) -> Mail {
    let message = format!(
        "From: Sender <{SENDER}>\r\n\
         To: {to}\r\n\
         Subject: {slug}\r\n\
         Message-ID: <{slug}@example.com>\r\n\
         \r\n\
         First line of {slug}.\r\n\
         .a line that starts with a dot\r\n\
         ..and one that starts with two\r\n\
         .\r\n\
         Last line."
    );
    // `deliver` ends the message with CRLF before the final dot.
    let id = deliver(app.smtp, SENDER, rcpts, &message).await;
    let raw = app.raw(&id).await;
    assert!(
        raw.ends_with(format!("{message}\r\n").as_bytes()),
        "stored bytes end with the message sent: {:?}",
        String::from_utf8_lossy(&raw)
    );
    Mail { id, raw }
}

/// [`send_to`] with every recipient in the To: header.
async fn send(app: &TestApp, rcpts: &[&str], slug: &str) -> Mail {
    send_to(app, rcpts, &rcpts.join(", "), slug).await
}

/// The header section of a message, with the empty line that ends it.
fn headers(raw: &[u8]) -> &[u8] {
    let end = find(raw, b"\r\n\r\n").expect("a header section");
    &raw[..end + 4]
}

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

/// The bytes as they cross the wire: dot-stuffed (RFC 1939 §3).
fn stuffed(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + 8);
    for line in raw.split_inclusive(|&b| b == b'\n') {
        if line.first() == Some(&b'.') {
            out.push(b'.');
        }
        out.extend_from_slice(line);
    }
    out
}

/// CRLF line ends as LF, as local delivery writes them.
fn lf(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut bytes = raw.iter().peekable();
    while let Some(&b) = bytes.next() {
        if !(b == b'\r' && bytes.peek() == Some(&&b'\n')) {
            out.push(b);
        }
    }
    out
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

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The one delivered copy of `mail`: the file whose Mailsink trace header
/// names its ID.
fn copy_of<'a>(files: &'a [Vec<u8>], mail: &Mail) -> &'a [u8] {
    let tag = format!("with ESMTP id {};", mail.id);
    let copies: Vec<&Vec<u8>> = files
        .iter()
        .filter(|f| find(f, tag.as_bytes()).is_some())
        .collect();
    assert_eq!(copies.len(), 1, "one delivered copy of {}", mail.id);
    copies[0]
}

/// Removes the `count` header fields (with their continuation lines) that a
/// retrieving client inserted right after the first line, the Return-Path.
/// Returns them as text, for assertions, and the message without them.
fn remove_inserted_headers(delivered: &[u8], count: usize) -> (String, Vec<u8>) {
    let lines: Vec<&[u8]> = delivered.split_inclusive(|&b| b == b'\n').collect();
    assert!(
        lines[0].starts_with(b"Return-Path: <"),
        "the delivered copy starts with Return-Path: {:?}",
        String::from_utf8_lossy(delivered)
    );
    let mut at = 1;
    let mut removed = Vec::new();
    for _ in 0..count {
        removed.extend_from_slice(lines[at]);
        at += 1;
        while at < lines.len() && matches!(lines[at].first(), Some(b' ' | b'\t')) {
            removed.extend_from_slice(lines[at]);
            at += 1;
        }
    }
    let mut rest = lines[0].to_vec();
    lines[at..]
        .iter()
        .for_each(|line| rest.extend_from_slice(line));
    (String::from_utf8_lossy(&removed).into_owned(), rest)
}

/// Header fields with their continuation lines joined by a space.
fn unfold(headers: &str) -> String {
    let mut out = String::new();
    for line in headers.lines() {
        match line.strip_prefix([' ', '\t']) {
            Some(rest) => {
                out.push(' ');
                out.push_str(rest.trim_start());
            }
            None => {
                if !out.is_empty() {
                    out.push('\n');
                }
                out.push_str(line);
            }
        }
    }
    out
}

/// Every regular file in `dir`, read.
fn files_in(dir: &Path) -> Vec<Vec<u8>> {
    let mut files: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .expect("read the delivery directory")
        .map(|entry| std::fs::read(entry.expect("a directory entry").path()).expect("read a file"))
        .collect();
    files.sort();
    files
}

/// Whether the tests run as root (CI does): fetchmail only warns about it,
/// getmail refuses to deliver as root.
fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| (*s).to_owned()).collect()
}

/// A client's stdout and stderr as one text.
fn output_text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

// ---------------------------------------------------------------------------
// Python poplib

/// Runs POP3 sessions with poplib, one after the other. Standard input is a
/// JSON list of sessions `{"port": N, "ssl": bool, "ops": [[method, args…]…]}`;
/// each op calls that `poplib.POP3` method (plus "welcome", "stls" with a
/// context that does not verify, and "all": RETR of every message). Prints a
/// JSON list, per session, of each op's result: bytes as latin-1 text, a
/// multi-line reply as `{"resp", "lines"}` or, for RETR and TOP,
/// `{"resp", "bytes", "octets"}` with the unstuffed lines CRLF-joined, and a
/// `-ERR` as `{"error": reply}`.
const POPLIB: &str = r#"
import json, poplib, ssl, sys

def text(b):
    return b.decode("latin-1")

def unverified():
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context

def message(resp, lines, octets):
    return {"resp": text(resp), "bytes": text(b"".join(l + b"\r\n" for l in lines)), "octets": octets}

def run(c, op, args):
    if op == "welcome":
        return text(c.getwelcome())
    if op == "stls":
        return text(c.stls(context=unverified()))
    if op in ("retr", "top"):
        return message(*getattr(c, op)(*args))
    if op == "all":
        return [message(*c.retr(n)) for n in range(1, c.stat()[0] + 1)]
    if op in ("list", "uidl") and not args:
        resp, lines, _ = getattr(c, op)()
        return {"resp": text(resp), "lines": [text(l) for l in lines]}
    result = getattr(c, op)(*args)
    if isinstance(result, bytes):
        return text(result)
    if isinstance(result, tuple):
        return list(result)
    return result

results = []
for session in json.load(sys.stdin):
    if session.get("ssl"):
        c = poplib.POP3_SSL("127.0.0.1", session["port"], context=unverified(), timeout=30)
    else:
        c = poplib.POP3("127.0.0.1", session["port"], timeout=30)
    out = []
    for op, *args in session["ops"]:
        try:
            out.append(run(c, op, args))
        except poplib.error_proto as e:
            reply = e.args[0]
            out.append({"error": text(reply) if isinstance(reply, bytes) else str(reply)})
    c.close()
    results.append(out)
json.dump(results, sys.stdout)
"#;

/// Runs [`POPLIB`] sessions and returns each session's results.
async fn poplib(sessions: Value) -> Vec<Vec<Value>> {
    let output = run_async(
        "python3",
        strings(&["-c", POPLIB]),
        Some(sessions.to_string().into_bytes()),
    )
    .await;
    assert_success(&output, "python3 poplib");
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("poplib printed no results ({e})\n{}", transcript(&output)))
}

/// A latin-1 string from [`POPLIB`] back as bytes.
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

/// The UIDL listing `mails` must have, numbered from 1.
fn uidl_lines(mails: &[&Mail]) -> Value {
    let lines: Vec<String> = (1..)
        .zip(mails)
        .map(|(n, mail)| format!("{n} {}", mail.id))
        .collect();
    json!(lines)
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

// ---------------------------------------------------------------------------
// curl

/// Runs curl with `args` (and -sS, a time limit); with `-v` its stderr shows
/// the commands sent (`> …`).
async fn curl(args: &[&str]) -> Output {
    let mut all = strings(&["--silent", "--show-error", "--max-time", "30"]);
    all.extend(strings(args));
    run_async("curl", all, None).await
}

/// curl's output, asserting it succeeded.
fn curl_ok(output: &Output, what: &str) -> Vec<u8> {
    assert_success(output, what);
    output.stdout.clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn curl_lists_and_retrieves_messages() {
    let app = TestApp::spawn().await;
    let first = send(&app, &["bob@example.com"], "curl-first").await;
    let second = send(&app, &["bob@example.com"], "curl-second").await;
    let other = send(&app, &["carol@example.com"], "curl-carol").await;
    let base = format!("pop3://127.0.0.1:{}", app.pop3.port());
    let bob = "bob@example.com:x";

    // `pop3://host/` sends LIST and prints the scan listings.
    let list = curl(&[&format!("{base}/"), "-u", bob]).await;
    assert_eq!(
        String::from_utf8_lossy(&curl_ok(&list, "curl LIST")),
        format!("1 {}\r\n2 {}\r\n", first.raw.len(), second.raw.len())
    );
    // `pop3://host/N` sends RETR N; curl unstuffs and keeps the last CRLF.
    for (n, mail) in [(1, &first), (2, &second)] {
        let retr = curl(&[&format!("{base}/{n}"), "-u", bob]).await;
        assert_same_bytes(
            &curl_ok(&retr, "curl RETR"),
            &mail.raw,
            &format!("curl RETR {n}"),
        );
    }
    let uidl = curl(&[&format!("{base}/"), "-X", "UIDL", "-u", bob]).await;
    assert_eq!(
        String::from_utf8_lossy(&curl_ok(&uidl, "curl UIDL")),
        format!("1 {}\r\n2 {}\r\n", first.id, second.id)
    );
    let top = curl(&[&format!("{base}/"), "-X", "TOP 2 0", "-u", bob]).await;
    assert_same_bytes(
        &curl_ok(&top, "curl TOP"),
        headers(&second.raw),
        "curl TOP 2 0",
    );
    // Carol's message is not in bob's maildrop.
    let missing = curl(&[&format!("{base}/3"), "-u", bob]).await;
    assert!(
        !missing.status.success() && missing.stdout.is_empty(),
        "RETR 3 must fail\n{}",
        transcript(&missing)
    );
    // The catch-all lists everything.
    let all = curl(&[&format!("{base}/"), "-u", "catchall:x"]).await;
    assert_eq!(
        String::from_utf8_lossy(&curl_ok(&all, "curl LIST (catch-all)")),
        format!(
            "1 {}\r\n2 {}\r\n3 {}\r\n",
            first.raw.len(),
            second.raw.len(),
            other.raw.len()
        )
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn curl_authenticates_with_sasl_and_apop() {
    let app = TestApp::spawn_with(&["--pop3-auth", "alice@example.com:secret"]).await;
    let mail = send(&app, &["alice@example.com"], "curl-auth").await;
    let url = format!("pop3://127.0.0.1:{}/1", app.pop3.port());
    // curl picks SASL when CAPA offers it; --login-options chooses.
    let methods: [(&[&str], &str); 4] = [
        (&[], "> AUTH PLAIN"),
        (&["--login-options", "AUTH=PLAIN"], "> AUTH PLAIN"),
        (&["--login-options", "AUTH=LOGIN"], "> AUTH LOGIN"),
        (
            &["--login-options", "AUTH=+APOP"],
            "> APOP alice@example.com ",
        ),
    ];
    for (options, command) in methods {
        let mut args = vec![url.as_str(), "-v", "-u", "alice@example.com:secret"];
        args.extend_from_slice(options);
        let output = curl(&args).await;
        assert_same_bytes(&curl_ok(&output, command), &mail.raw, command);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(command),
            "expected {command:?} in\n{stderr}"
        );

        args[3] = "alice@example.com:wrong";
        let refused = curl(&args).await;
        // curl's exit code 67: "the user name, password, or similar was not
        // accepted".
        assert_eq!(
            refused.status.code(),
            Some(67),
            "{command} with a wrong password\n{}",
            transcript(&refused)
        );
        assert!(refused.stdout.is_empty());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn curl_stls_and_pop3s() {
    let app = TestApp::spawn_with(&["--pop3s-addr", "127.0.0.1:0"]).await;
    let pop3s = app.pop3s.expect("POP3S is on");
    let mail = send(&app, &["bob@example.com"], "curl-tls").await;
    let bob = "bob@example.com:x";

    let stls_url = format!("pop3://127.0.0.1:{}/1", app.pop3.port());
    let stls = curl(&[&stls_url, "--ssl-reqd", "-k", "-v", "-u", bob]).await;
    assert_same_bytes(
        &curl_ok(&stls, "curl STLS"),
        &mail.raw,
        "curl RETR over STLS",
    );
    assert!(
        String::from_utf8_lossy(&stls.stderr).contains("> STLS"),
        "curl sent no STLS\n{}",
        transcript(&stls)
    );

    let pop3s_url = format!("pop3s://127.0.0.1:{}/", pop3s.port());
    let list = curl(&[&pop3s_url, "-k", "-u", bob]).await;
    assert_eq!(
        String::from_utf8_lossy(&curl_ok(&list, "curl pop3s LIST")),
        format!("1 {}\r\n", mail.raw.len())
    );
    let retr = curl(&[&format!("{pop3s_url}1"), "-k", "-u", bob]).await;
    assert_same_bytes(
        &curl_ok(&retr, "curl pop3s"),
        &mail.raw,
        "curl RETR over POP3S",
    );
}

// ---------------------------------------------------------------------------
// fetchmail

/// A fetchmail set-up of its own: a home (FETCHMAILHOME, where it keeps the
/// UIDs it has seen in `.fetchids`), a run-control file and an MDA that
/// writes each message to its own file in `out/`.
struct Fetchmail {
    home: tempfile::TempDir,
    rc: PathBuf,
    out: PathBuf,
}

impl Fetchmail {
    /// `server` and `user` are the rc file's server options (e.g.
    /// `protocol pop3 port 1110`) and user options (e.g. `user "bob"
    /// password "x" keep`).
    fn new(server: &str, user: &str) -> Self {
        let home = tempfile::tempdir().expect("temp dir");
        let out = home.path().join("out");
        std::fs::create_dir(&out).expect("create out/");
        let out_path = out.to_str().expect("a UTF-8 path");
        assert!(
            out_path
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/._-".contains(&b)),
            "{out_path} needs no quoting"
        );
        // The MDA runs once per message through /bin/sh: `$$` is unique.
        let text = format!(
            "set no syslog\n\
             poll 127.0.0.1 {server} timeout 30\n  \
             {user}\n  \
             no rewrite\n  \
             mda \"cat > {out_path}/$$\"\n"
        );
        let rc = home.path().join("fetchmailrc");
        std::fs::write(&rc, text).expect("write the rc file");
        // fetchmail refuses an rc file others can read.
        std::fs::set_permissions(&rc, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        Self { home, rc, out }
    }

    /// Runs one poll; `-v` puts the POP3 dialogue in the output.
    async fn run(&self) -> Output {
        let home = self.home.path().to_str().expect("a UTF-8 path");
        let args = vec![
            format!("FETCHMAILHOME={home}"),
            format!("HOME={home}"),
            "fetchmail".to_owned(),
            "-v".to_owned(),
            // As root its lock is /var/run/fetchmail.pid, shared by every
            // fetchmail: each set-up has its own.
            "--pidfile".to_owned(),
            format!("{home}/fetchmail.pid"),
            "-f".to_owned(),
            self.rc.to_str().expect("a UTF-8 path").to_owned(),
        ];
        run_async("env", args, None).await
    }

    fn delivered(&self) -> Vec<Vec<u8>> {
        files_in(&self.out)
    }

    /// The UIDs fetchmail remembers, as `user@server UID` lines.
    fn fetchids(&self) -> String {
        std::fs::read_to_string(self.home.path().join(".fetchids")).unwrap_or_default()
    }
}

/// Asserts fetchmail delivered `mail` unchanged. fetchmail delivers to an MDA
/// with LF line ends, and inserts one header right after the Return-Path:
/// its own `Received: from 127.0.0.1 … (fetchmail-VERSION) …` (three folded
/// lines). It appends nothing (the message ends with a line end). That header
/// is removed and the rest compared with the stored bytes, CRLF as LF.
fn assert_fetched(files: &[Vec<u8>], mail: &Mail, what: &str) {
    let (inserted, rest) = remove_inserted_headers(copy_of(files, mail), 1);
    assert!(
        inserted.starts_with("Received: from 127.0.0.1") && inserted.contains("(fetchmail-"),
        "{what}: fetchmail's header: {inserted:?}"
    );
    assert_same_bytes(&rest, &lf(&mail.raw), what);
}

#[tokio::test(flavor = "multi_thread")]
async fn fetchmail_keeps_the_messages_and_fetches_only_new_ones() {
    let app = TestApp::spawn().await;
    let first = send(&app, &["bob@example.com"], "fetchmail-first").await;
    let second = send(&app, &["bob@example.com"], "fetchmail-second").await;
    send(&app, &["carol@example.com"], "fetchmail-carol").await;
    // fetchmail upgrades with STLS when CAPA offers it; the certificate is
    // self-signed.
    let fetchmail = Fetchmail::new(
        &format!("protocol pop3 port {}", app.pop3.port()),
        "user \"bob@example.com\" password \"x\" keep no sslcertck",
    );

    let output = fetchmail.run().await;
    assert_success(&output, "fetchmail");
    let log = output_text(&output);
    assert!(log.contains("POP3> STLS"), "no STLS\n{log}");
    let files = fetchmail.delivered();
    assert_eq!(files.len(), 2, "{log}");
    assert_fetched(&files, &first, "fetchmail: first");
    assert_fetched(&files, &second, "fetchmail: second");
    // It tracks what it has seen by UIDL.
    let fetchids = fetchmail.fetchids();
    for mail in [&first, &second] {
        assert!(
            fetchids.contains(&format!("bob@example.com@127.0.0.1 {}\n", mail.id)),
            "{fetchids:?}"
        );
    }

    // `keep` left them on the server: the next poll sees them, recognises
    // their UIDLs and fetches nothing (exit code 1: no mail).
    let again = fetchmail.run().await;
    assert_eq!(again.status.code(), Some(1), "{}", transcript(&again));
    assert_eq!(fetchmail.delivered().len(), 2);

    let third = send(&app, &["bob@example.com"], "fetchmail-third").await;
    let output = fetchmail.run().await;
    assert_success(&output, "fetchmail (third)");
    let files = fetchmail.delivered();
    assert_eq!(files.len(), 3, "{}", output_text(&output));
    assert_fetched(&files, &third, "fetchmail: third");

    // Still all there for bob.
    let results = poplib(json!([{"port": app.pop3.port(), "ops": [
        ["user", "bob@example.com"], ["pass_", "x"], ["uidl"], ["quit"],
    ]}]))
    .await;
    assert_eq!(
        results[0][2]["lines"],
        uidl_lines(&[&first, &second, &third])
    );
    assert_eq!(app.messages().await.len(), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn fetchmail_pop3s_and_apop() {
    let app = TestApp::spawn_with(&[
        "--pop3s-addr",
        "127.0.0.1:0",
        "--pop3-auth",
        "bob@example.com:secret",
    ])
    .await;
    let pop3s = app.pop3s.expect("POP3S is on");
    let first = send(&app, &["bob@example.com"], "fetchmail-tls-first").await;
    let second = send(&app, &["bob@example.com"], "fetchmail-tls-second").await;

    // Implicit TLS.
    let tls = Fetchmail::new(
        &format!("protocol pop3 port {}", pop3s.port()),
        "user \"bob@example.com\" password \"secret\" keep ssl no sslcertck",
    );
    let output = tls.run().await;
    assert_success(&output, "fetchmail over POP3S");
    let files = tls.delivered();
    assert_eq!(files.len(), 2, "{}", output_text(&output));
    assert_fetched(&files, &first, "fetchmail POP3S: first");
    assert_fetched(&files, &second, "fetchmail POP3S: second");

    // APOP in plaintext (`sslproto ''`: no STLS).
    let apop = Fetchmail::new(
        &format!("protocol apop port {}", app.pop3.port()),
        "user \"bob@example.com\" password \"secret\" keep sslproto ''",
    );
    let output = apop.run().await;
    assert_success(&output, "fetchmail APOP");
    let log = output_text(&output);
    assert!(log.contains("POP3> APOP bob@example.com "), "{log}");
    assert!(!log.contains("POP3> STLS"), "{log}");
    let files = apop.delivered();
    assert_eq!(files.len(), 2, "{log}");
    assert_fetched(&files, &first, "fetchmail APOP: first");
    assert_fetched(&files, &second, "fetchmail APOP: second");

    // A wrong secret is refused: exit code 3, authentication failed.
    let wrong = Fetchmail::new(
        &format!("protocol apop port {}", app.pop3.port()),
        "user \"bob@example.com\" password \"wrong\" keep sslproto ''",
    );
    let output = wrong.run().await;
    assert_eq!(output.status.code(), Some(3), "{}", transcript(&output));
    assert!(wrong.delivered().is_empty());
}

// ---------------------------------------------------------------------------
// getmail

/// A getmail set-up of its own: a getmail directory (where it notes the
/// UIDLs seen) and a Maildir destination.
struct Getmail {
    dir: tempfile::TempDir,
    rc: PathBuf,
    new: PathBuf,
}

impl Getmail {
    /// `retriever` is the `[retriever]` section's body.
    fn new(retriever: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let maildir = dir.path().join("Maildir");
        let state = dir.path().join("getmail");
        std::fs::create_dir(&state).expect("create the getmail dir");
        for sub in ["", "cur", "new", "tmp"] {
            let path = maildir.join(sub);
            std::fs::create_dir_all(&path).expect("create the Maildir");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o777)).expect("chmod");
        }
        // getmail refuses to deliver as root: it delivers as `nobody`, which
        // must reach the Maildir.
        let user = if running_as_root() {
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
                .expect("chmod");
            "user = nobody\n"
        } else {
            ""
        };
        let text = format!(
            "[retriever]\n{retriever}\n\
             [destination]\ntype = Maildir\npath = {}/\n{user}\n\
             [options]\ndelete = false\nread_all = true\nverbose = 2\n",
            maildir.display()
        );
        let rc = dir.path().join("getmailrc");
        std::fs::write(&rc, text).expect("write the getmailrc");
        Self {
            new: maildir.join("new"),
            rc,
            dir,
        }
    }

    async fn run(&self) -> Output {
        let args = vec![
            "--rcfile".to_owned(),
            self.rc.to_str().expect("a UTF-8 path").to_owned(),
            "--getmaildir".to_owned(),
            self.dir
                .path()
                .join("getmail")
                .to_str()
                .expect("a UTF-8 path")
                .to_owned(),
        ];
        run_async("getmail", args, None).await
    }

    fn delivered(&self) -> Vec<Vec<u8>> {
        files_in(&self.new)
    }
}

/// Asserts getmail delivered `mail` unchanged. getmail writes LF line ends
/// and, right after the first line, adds `Delivered-To:` and its own
/// `Received: from 127.0.0.1 (…) by … with POP3 getmail6 msgid:UIDL; DATE`
/// (folded in two); it also replaces the Return-Path with one it builds from
/// the original's address, which is the same line. Those two headers are
/// removed and the rest compared with the stored bytes, CRLF as LF.
fn assert_got(files: &[Vec<u8>], mail: &Mail, what: &str) {
    let (inserted, rest) = remove_inserted_headers(copy_of(files, mail), 2);
    let inserted = unfold(&inserted);
    assert!(
        inserted.starts_with("Delivered-To: ")
            && inserted.contains("\nReceived: from 127.0.0.1 ")
            && inserted.contains(&format!(" getmail6 msgid:{};", mail.id)),
        "{what}: getmail's headers: {inserted:?}"
    );
    assert_same_bytes(&rest, &lf(&mail.raw), what);
}

#[tokio::test(flavor = "multi_thread")]
async fn getmail_retrieves_into_a_maildir_and_leaves_the_messages() {
    let app = TestApp::spawn().await;
    let first = send(&app, &["bob@example.com"], "getmail-first").await;
    let second = send(&app, &["bob@example.com"], "getmail-second").await;
    send(&app, &["carol@example.com"], "getmail-carol").await;
    let getmail = Getmail::new(&format!(
        "type = SimplePOP3Retriever\nserver = 127.0.0.1\nport = {}\n\
         username = bob@example.com\npassword = x\ntimeout = 30\n",
        app.pop3.port()
    ));

    let output = getmail.run().await;
    assert_success(&output, "getmail");
    let files = getmail.delivered();
    assert_eq!(files.len(), 2, "{}", output_text(&output));
    assert_got(&files, &first, "getmail: first");
    assert_got(&files, &second, "getmail: second");

    // `delete = false` left them: `read_all` retrieves them again.
    let output = getmail.run().await;
    assert_success(&output, "getmail (again)");
    assert_eq!(getmail.delivered().len(), 4, "{}", output_text(&output));
    assert_eq!(app.messages().await.len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn getmail_pop3s_with_apop() {
    let app = TestApp::spawn_with(&[
        "--pop3s-addr",
        "127.0.0.1:0",
        "--pop3-auth",
        "bob@example.com:secret",
    ])
    .await;
    let pop3s = app.pop3s.expect("POP3S is on");
    let mail = send(&app, &["bob@example.com"], "getmail-pop3s").await;
    let retriever = |password: &str| {
        format!(
            "type = SimplePOP3SSLRetriever\nserver = 127.0.0.1\nport = {}\n\
             username = bob@example.com\npassword = {password}\nuse_apop = true\ntimeout = 30\n",
            pop3s.port()
        )
    };

    let getmail = Getmail::new(&retriever("secret"));
    let output = getmail.run().await;
    assert_success(&output, "getmail over POP3S with APOP");
    let files = getmail.delivered();
    assert_eq!(files.len(), 1, "{}", output_text(&output));
    assert_got(&files, &mail, "getmail POP3S");

    let wrong = Getmail::new(&retriever("wrong"));
    let output = wrong.run().await;
    assert!(!output.status.success(), "{}", transcript(&output));
    assert!(wrong.delivered().is_empty());
}

// ---------------------------------------------------------------------------
// async-pop

#[tokio::test(flavor = "multi_thread")]
async fn async_pop_reads_the_maildrop() {
    let app = TestApp::spawn().await;
    let first = send(&app, &["bob@example.com"], "async-pop-first").await;
    let second = send(&app, &["bob@example.com"], "async-pop-second").await;
    send(&app, &["carol@example.com"], "async-pop-carol").await;
    let (len1, len2) = (first.raw.len(), second.raw.len());

    let mut client = async_pop::connect_plain(app.pop3).await.expect("connect");
    // Without its "sasl" feature, async-pop logs in with USER and PASS.
    let (_, pass) = client.login("bob@example.com", "x").await.expect("login");
    assert_eq!(
        pass.to_string(),
        format!(
            "bob@example.com's maildrop has 2 messages ({} octets)",
            len1 + len2
        )
    );

    let stat = client.stat().await.expect("STAT");
    assert_eq!(stat.counter().value().expect("a count"), 2);
    assert_eq!(stat.size().value().expect("a size"), len1 + len2);

    let ListResponse::Multiple(list) = client.list(None).await.expect("LIST") else {
        panic!("LIST without argument is a listing");
    };
    let sizes: Vec<(usize, usize)> = list
        .items()
        .iter()
        .map(|s| {
            (
                s.counter().value().expect("n"),
                s.size().value().expect("size"),
            )
        })
        .collect();
    assert_eq!(sizes, [(1, len1), (2, len2)]);
    let ListResponse::Single(one) = client.list(Some(2)).await.expect("LIST 2") else {
        panic!("LIST 2 is a single scan listing");
    };
    assert_eq!(one.size().value().expect("size"), len2);

    let UidlResponse::Multiple(uidl) = client.uidl(None).await.expect("UIDL") else {
        panic!("UIDL without argument is a listing");
    };
    let ids: Vec<(usize, String)> = uidl
        .items()
        .iter()
        .map(|u| (u.index().value().expect("n"), u.id().to_string()))
        .collect();
    assert_eq!(ids, [(1, first.id.to_string()), (2, second.id.to_string())]);
    let UidlResponse::Single(uid) = client.uidl(Some(2)).await.expect("UIDL 2") else {
        panic!("UIDL 2 is a single listing");
    };
    assert_eq!(uid.id().to_string(), second.id.to_string());

    // async-pop returns RETR and TOP data as it came over the wire, still
    // dot-stuffed, up to the terminating CRLF.CRLF: the message's last CRLF
    // is taken as part of the terminator.
    for (n, mail) in [(1, &first), (2, &second)] {
        let data = client.retr(n).await.expect("RETR");
        let wire = stuffed(&mail.raw);
        assert_same_bytes(
            &data,
            &wire[..wire.len() - 2],
            &format!("async-pop RETR {n}"),
        );
    }
    let head = client.top(2, 0).await.expect("TOP");
    let expected = headers(&second.raw);
    assert_same_bytes(&head, &expected[..expected.len() - 2], "async-pop TOP 2 0");

    client.dele(1).await.expect("DELE");
    assert_eq!(
        client
            .stat()
            .await
            .expect("STAT")
            .counter()
            .value()
            .expect("n"),
        1
    );
    client.rset().await.expect("RSET");
    assert_eq!(
        client
            .stat()
            .await
            .expect("STAT")
            .counter()
            .value()
            .expect("n"),
        2
    );
    client.noop().await.expect("NOOP");
    client.quit().await.expect("QUIT");
    // RSET undid the deletion.
    assert!(app.store.get(&first.id).await.expect("get").is_some());
}
