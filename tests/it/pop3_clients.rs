//! Helpers shared by more than one of the real POP3 client tests, which run
//! real clients against Mailsink's POP3 server (SPEC §3 and §5): Python's
//! poplib (`pop3_poplib`), curl (`pop3_curl`), fetchmail (`pop3_fetchmail`),
//! getmail (`pop3_getmail`) and the async-pop crate (`pop3_async_pop`).
//! Helpers that only one client's tests use live in that client's file.
//!
//! Every test sends mail over SMTP, retrieves it with the client and compares
//! what the client got with the stored bytes, which are what a POP3 client
//! must receive. The messages use CRLF line ends only, so no bare LF is
//! normalised on the way (one poplib test checks that normalisation), and
//! each has lines that start with a dot (one is a lone dot), which the server
//! must stuff and the client unstuff. The poplib runner is here because the
//! fetchmail tests also use it, to check what is left on the server.

use std::path::Path;
use std::process::Output;

use serde_json::{Value, json};

use crate::clients::{assert_success, transcript};
use crate::harness::{TestApp, deliver, run_async};
use mailsink::store::MessageId;

pub const SENDER: &str = "sender@example.com";

/// One delivered message: its ID (the POP3 UIDL) and its stored bytes.
pub struct Mail {
    pub id: MessageId,
    pub raw: Vec<u8>,
}

/// Delivers a CRLF-only message with dot-leading lines to `rcpts` over SMTP,
/// with `to` as its To: header, and returns it as stored. `slug` names it
/// (Subject and Message-ID): no spaces.
pub async fn send_to(app: &TestApp, rcpts: &[&str], to: &str, slug: &str) -> Mail {
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
pub async fn send(app: &TestApp, rcpts: &[&str], slug: &str) -> Mail {
    send_to(app, rcpts, &rcpts.join(", "), slug).await
}

/// The header section of a message, with the empty line that ends it.
pub fn headers(raw: &[u8]) -> &[u8] {
    let end = find(raw, b"\r\n\r\n").expect("a header section");
    &raw[..end + 4]
}

/// CRLF line ends as LF, as local delivery writes them.
pub fn lf(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut bytes = raw.iter().peekable();
    while let Some(&b) = bytes.next() {
        if !(b == b'\r' && bytes.peek() == Some(&&b'\n')) {
            out.push(b);
        }
    }
    out
}

/// Where `needle` first occurs in `haystack`.
pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The one delivered copy of `mail`: the file whose Mailsink trace header
/// names its ID.
pub fn copy_of<'a>(files: &'a [Vec<u8>], mail: &Mail) -> &'a [u8] {
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
pub fn remove_inserted_headers(delivered: &[u8], count: usize) -> (String, Vec<u8>) {
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

/// Every regular file in `dir`, read.
pub fn files_in(dir: &Path) -> Vec<Vec<u8>> {
    let mut files: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .expect("read the delivery directory")
        .map(|entry| std::fs::read(entry.expect("a directory entry").path()).expect("read a file"))
        .collect();
    files.sort();
    files
}

/// `args` as owned strings, as `run_async` takes them.
pub fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| (*s).to_owned()).collect()
}

/// A client's stdout and stderr as one text.
pub fn output_text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

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
pub async fn poplib(sessions: Value) -> Vec<Vec<Value>> {
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

/// The UIDL listing `mails` must have, numbered from 1.
pub fn uidl_lines(mails: &[&Mail]) -> Value {
    let lines: Vec<String> = (1..)
        .zip(mails)
        .map(|(n, mail)| format!("{n} {}", mail.id))
        .collect();
    json!(lines)
}
