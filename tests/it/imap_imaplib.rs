//! Python's imaplib as the IMAP client: LOGIN, LIST, SELECT and EXAMINE,
//! FETCH of every item (bytes compared with what was stored), SEARCH, STORE,
//! COPY, MOVE, EXPUNGE and their UID forms, CREATE/RENAME/DELETE, STATUS,
//! APPEND, and IDLE released by mail sent over SMTP; then IMAPS.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::Value;

use crate::clients::{assert_same_bytes, assert_success, transcript};
use crate::harness::{TestApp, run_async};
use crate::imap_clients::send_mail;
use crate::pop3_clients::{find, headers, strings};

/// The imaplib session. Arguments: IMAP port, SMTP port, user, "ssl" or
/// "plain". Prints a JSON object of results; bytes are base64.
const IMAPLIB: &str = r#"
import base64, imaplib, json, smtplib, ssl, sys

imap_port, smtp_port, user, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
out = {}

def b64(b):
    return base64.b64encode(b).decode()

def one(typ_data):
    typ, data = typ_data
    assert typ == "OK", (typ, data)
    return data

def body(m, spec, uid=None):
    data = one(m.uid("FETCH", uid, spec) if uid else m.fetch("1", spec))
    return b64(data[0][1])

if mode == "ssl":
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    m = imaplib.IMAP4_SSL("127.0.0.1", imap_port, ssl_context=context)
else:
    m = imaplib.IMAP4("127.0.0.1", imap_port)
out["capabilities"] = list(m.capabilities)
out["login"] = one(m.login(user, "secret"))[0].decode()
out["list"] = [l.decode() for l in one(m.list())]
out["examine"] = one(m.select("INBOX", readonly=True))[0].decode()
out["select"] = one(m.select("INBOX"))[0].decode()
out["uids"] = one(m.uid("SEARCH", None, "ALL"))[0].decode()
uid = out["uids"].split()[0]
out["fast"] = one(m.fetch("1", "(FLAGS INTERNALDATE RFC822.SIZE UID)"))[0].decode()
out["envelope"] = one(m.fetch("1", "(ENVELOPE)"))[0].decode()
out["bodystructure"] = one(m.fetch("1", "(BODYSTRUCTURE)"))[0].decode()
out["body"] = one(m.fetch("1", "(BODY)"))[0].decode()
out["peek"] = body(m, "(BODY.PEEK[])")
out["header"] = body(m, "(BODY.PEEK[HEADER])")
out["text"] = body(m, "(BODY.PEEK[TEXT])")
out["part1"] = body(m, "(BODY.PEEK[1])")
out["partial"] = body(m, "(BODY.PEEK[]<0.10>)")
out["rfc822_header"] = body(m, "(RFC822.HEADER)")
out["uid_peek"] = body(m, "(BODY.PEEK[])", uid)
out["flags_before"] = one(m.fetch("1", "(FLAGS)"))[0].decode()
out["rfc822"] = body(m, "(RFC822)")
out["flags_after"] = one(m.fetch("1", "(FLAGS)"))[0].decode()
out["rfc822_text"] = body(m, "(RFC822.TEXT)")
out["search_from"] = one(m.search(None, "FROM", "sender@example.com"))[0].decode()
out["search_subject"] = one(m.search(None, "SUBJECT", "imaplib-two"))[0].decode()
out["search_seen"] = one(m.search(None, "SEEN"))[0].decode()
out["uid_search_unseen"] = one(m.uid("SEARCH", None, "UNSEEN"))[0].decode()
out["store"] = one(m.store("2", "+FLAGS", "(\\Flagged)"))[0].decode()
out["uid_store"] = one(m.uid("STORE", uid, "+FLAGS", "(\\Answered)"))[0].decode()
out["create"] = one(m.create("Archive/2026"))[0].decode()
out["copy"] = one(m.copy("1", "Archive/2026"))[0].decode()
one(m.uid("COPY", uid, "Archive/2026"))
# imaplib keeps response codes as untagged responses.
out["uid_copy"] = m.response("COPYUID")[1][-1].decode()
out["status"] = one(m.status("Archive/2026", "(MESSAGES UIDNEXT UNSEEN)"))[0].decode()
out["rename"] = one(m.rename("Archive/2026", "Archive/Old"))[0].decode()
one(m.uid("MOVE", uid, "Trash"))
out["move"] = m.response("COPYUID")[1][-1].decode()
out["after_move"] = one(m.search(None, "ALL"))[0].decode()
out["append"] = one(m.append("Drafts", "(\\Draft)", None, b"Subject: draft\r\n\r\nDraft body.\r\n"))[0].decode()
# IDLE: imaplib 3.11 has no idle(), so the exchange is written out.
tag = m._new_tag()
m.send(tag + b" IDLE\r\n")
out["idle_continue"] = m.readline().decode()
s = smtplib.SMTP("127.0.0.1", smtp_port)
s.sendmail("sender@example.com", [user], b"Subject: while idling\r\n\r\nWake up.\r\n")
s.quit()
out["idle_event"] = m.readline().decode()
m.send(b"DONE\r\n")
out["idle_done"] = m.readline().decode()
out["store_deleted"] = one(m.store("1", "+FLAGS", "(\\Deleted)"))[0].decode()
out["expunge"] = [d.decode() for d in one(m.expunge()) if d]
out["uid_expunge"] = one(m.uid("EXPUNGE", "1:*"))[0]
out["delete"] = one(m.delete("Archive/Old"))[0].decode()
out["list_after"] = [l.decode() for l in one(m.list('""', "Archive*"))]
m.select("Trash")
out["trash"] = body(m, "(BODY.PEEK[])")
m.close()
out["logout"] = m.logout()[0]
json.dump(out, sys.stdout)
"#;

async fn imaplib(app: &TestApp, port: u16, user: &str, mode: &str) -> Value {
    let output = run_async(
        "python3",
        strings(&[
            "-c",
            IMAPLIB,
            &port.to_string(),
            &app.smtp.port().to_string(),
            user,
            mode,
        ]),
        None,
    )
    .await;
    assert_success(&output, "python3 imaplib");
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("imaplib printed no results ({e})\n{}", transcript(&output)))
}

fn bytes(value: &Value) -> Vec<u8> {
    BASE64
        .decode(value.as_str().expect("a base64 string"))
        .expect("valid base64")
}

fn text(value: &Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("expected a string, got {value}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn imaplib_reads_searches_files_and_idles() {
    let app = TestApp::spawn().await;
    let first = send_mail(&app, &["kim@example.com"], "imaplib-one").await;
    send_mail(&app, &["kim@example.com"], "imaplib-two").await;
    send_mail(&app, &["someone-else@example.com"], "not-for-kim").await;
    let out = imaplib(&app, app.imap.port(), "kim@example.com", "plain").await;

    assert!(text(&out["login"]).ends_with("LOGIN completed"));
    let list: Vec<&str> = out["list"]
        .as_array()
        .expect("a list")
        .iter()
        .map(text)
        .collect();
    assert_eq!(
        list,
        [
            "(\\HasNoChildren) \"/\" INBOX",
            "(\\HasNoChildren \\Drafts) \"/\" Drafts",
            "(\\HasNoChildren \\Junk) \"/\" Junk",
            "(\\HasNoChildren \\Sent) \"/\" Sent",
            "(\\HasNoChildren \\Trash) \"/\" Trash",
        ]
    );
    assert_eq!(out["examine"], "2");
    assert_eq!(out["select"], "2");
    let size = first.raw.len();
    let fast = text(&out["fast"]);
    assert!(
        fast.starts_with("1 (FLAGS () INTERNALDATE \"")
            && fast.ends_with(&format!("RFC822.SIZE {size} UID 1)")),
        "{fast}"
    );
    assert_eq!(
        out["envelope"],
        "1 (ENVELOPE (\"Mon, 2 Nov 2026 10:00:00 +0000\" \"imaplib-one\" \
         ((\"Sender\" NIL \"sender\" \"example.com\")) ((\"Sender\" NIL \"sender\" \"example.com\")) \
         ((\"Sender\" NIL \"sender\" \"example.com\")) ((NIL NIL \"kim\" \"example.com\")) \
         NIL NIL NIL \"<imaplib-one@example.com>\"))"
    );
    assert_eq!(
        out["bodystructure"],
        "1 (BODYSTRUCTURE (\"TEXT\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 36 2 NIL NIL NIL NIL))"
    );
    assert_eq!(
        out["body"],
        "1 (BODY (\"TEXT\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 36 2))"
    );
    // Byte for byte what was stored: the trace headers, then the client's bytes.
    let head = headers(&first.raw);
    let text_part = &first.raw[head.len()..];
    assert_same_bytes(&bytes(&out["peek"]), &first.raw, "BODY.PEEK[]");
    assert_same_bytes(
        &bytes(&out["uid_peek"]),
        &first.raw,
        "UID FETCH BODY.PEEK[]",
    );
    assert_same_bytes(&bytes(&out["rfc822"]), &first.raw, "RFC822");
    assert_same_bytes(&bytes(&out["header"]), head, "BODY.PEEK[HEADER]");
    assert_same_bytes(&bytes(&out["rfc822_header"]), head, "RFC822.HEADER");
    assert_same_bytes(&bytes(&out["text"]), text_part, "BODY.PEEK[TEXT]");
    assert_same_bytes(&bytes(&out["rfc822_text"]), text_part, "RFC822.TEXT");
    assert_same_bytes(&bytes(&out["part1"]), text_part, "BODY.PEEK[1]");
    assert_same_bytes(
        &bytes(&out["partial"]),
        &first.raw[..10],
        "BODY.PEEK[]<0.10>",
    );
    assert!(find(&first.raw, b"Body of imaplib-one.\r\nSecond line.\r\n").is_some());
    // PEEK leaves \Seen alone; RFC822 sets it.
    assert_eq!(out["flags_before"], "1 (FLAGS ())");
    assert_eq!(out["flags_after"], "1 (FLAGS (\\Seen))");
    assert_eq!(out["search_from"], "1 2");
    assert_eq!(out["search_subject"], "2");
    assert_eq!(out["search_seen"], "1");
    assert_eq!(out["uid_search_unseen"], "2");
    assert_eq!(out["store"], "2 (FLAGS (\\Flagged))");
    assert_eq!(out["uid_store"], "1 (FLAGS (\\Seen \\Answered) UID 1)");
    assert_eq!(out["create"], "CREATE completed");
    assert!(
        text(&out["copy"]).ends_with(" 1 1] COPY completed"),
        "{}",
        out["copy"]
    );
    assert!(
        text(&out["uid_copy"]).ends_with(" 1 2"),
        "{}",
        out["uid_copy"]
    );
    assert!(text(&out["move"]).ends_with(" 1 1"), "{}", out["move"]);
    assert_eq!(
        out["status"],
        "Archive/2026 (MESSAGES 2 UIDNEXT 3 UNSEEN 0)"
    );
    assert_eq!(out["rename"], "RENAME completed");
    assert_eq!(out["after_move"], "1");
    assert!(
        text(&out["append"]).ends_with(" 1] APPEND completed"),
        "{}",
        out["append"]
    );
    assert_eq!(out["idle_continue"], "+ idling\r\n");
    assert_eq!(out["idle_event"], "* 2 EXISTS\r\n");
    assert!(text(&out["idle_done"]).ends_with(" OK IDLE terminated\r\n"));
    // imaplib also hands back the EXPUNGE that MOVE sent.
    assert_eq!(out["expunge"], serde_json::json!(["1", "1"]));
    assert_eq!(out["delete"], "DELETE completed");
    assert_eq!(
        out["list_after"],
        serde_json::json!(["(\\HasNoChildren) \"/\" Archive"])
    );
    assert_same_bytes(
        &bytes(&out["trash"]),
        &first.raw,
        "the moved message in Trash",
    );
    assert_eq!(out["logout"], "BYE");
    // Kim's deletions hide mail from Kim only (SPEC §3).
    assert_eq!(app.messages().await.len(), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn imaplib_over_imaps() {
    let app = TestApp::spawn_with(&["--imaps-addr", "127.0.0.1:0"]).await;
    send_mail(&app, &["lee@example.com"], "imaps-one").await;
    send_mail(&app, &["lee@example.com"], "imaps-two").await;
    let port = app.imaps.expect("IMAPS is on").port();
    let out = imaplib(&app, port, "lee@example.com", "ssl").await;
    let capabilities = out["capabilities"].as_array().expect("a list");
    assert!(
        !capabilities.iter().any(|c| c == "STARTTLS"),
        "{capabilities:?}"
    );
    assert_eq!(out["select"], "2");
    assert_eq!(out["logout"], "BYE");
}
