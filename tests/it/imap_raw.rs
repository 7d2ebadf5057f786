//! IMAP with exact bytes: greetings, states, folders, FETCH/STORE/SEARCH
//! replies, the mailboxes of SPEC §3, live updates, and every bad form
//! answered with BAD or NO (with its response code) while the session goes on.

use crate::harness::TestApp;
use crate::imap_clients::{CAPABILITIES, Imap, send_mail};

#[tokio::test(flavor = "multi_thread")]
async fn greeting_capability_noop_and_logout() {
    let app = TestApp::spawn().await;
    let (mut imap, greeting) = Imap::connect(app.imap).await;
    assert_eq!(
        greeting,
        format!("* OK [CAPABILITY {CAPABILITIES}] Mailsink IMAP server ready\r\n")
    );
    imap.expect(
        "a CAPABILITY",
        &format!("* CAPABILITY {CAPABILITIES}\r\na OK CAPABILITY completed\r\n"),
    )
    .await;
    imap.expect("b NOOP", "b OK NOOP completed\r\n").await;
    imap.expect(
        "c ID NIL",
        &format!(
            "* ID (\"name\" \"Mailsink\" \"version\" \"{}\")\r\nc OK ID completed\r\n",
            env!("CARGO_PKG_VERSION")
        ),
    )
    .await;
    imap.expect(
        "d LOGOUT",
        "* BYE Mailsink IMAP server signing off\r\nd OK LOGOUT completed\r\n",
    )
    .await;
    assert_eq!(imap.read_to_close().await, "");
}

#[tokio::test(flavor = "multi_thread")]
async fn commands_in_the_wrong_state_and_malformed_ones() {
    let app = TestApp::spawn().await;
    let (mut imap, _) = Imap::connect(app.imap).await;
    imap.expect("a SELECT INBOX", "a BAD log in first\r\n")
        .await;
    imap.expect("b FETCH 1 FLAGS", "b BAD log in first\r\n")
        .await;
    imap.expect("c FROBNICATE", "c BAD syntax error in command\r\n")
        .await;
    imap.send("garbage\r\n").await;
    assert_eq!(imap.line().await, "* BAD syntax error in command\r\n");
    imap.expect("d LOGIN", "d BAD syntax error in command\r\n")
        .await;
    imap.expect(
        "e AUTHENTICATE CRAM-MD5",
        "e NO [CANNOT] unsupported authentication mechanism\r\n",
    )
    .await;
    imap.expect(
        "f LOGIN bob@example.com pw",
        &format!("f OK [CAPABILITY {CAPABILITIES}] LOGIN completed\r\n"),
    )
    .await;
    imap.expect("g LOGIN bob@example.com pw", "g BAD already logged in\r\n")
        .await;
    imap.expect("h FETCH 1 FLAGS", "h BAD no mailbox selected\r\n")
        .await;
    imap.expect("i CLOSE", "i BAD no mailbox selected\r\n")
        .await;
    imap.expect(
        "j STARTTLS",
        "j BAD STARTTLS is only allowed before login\r\n",
    )
    .await;
    imap.expect("k NOOP", "k OK NOOP completed\r\n").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn authenticate_plain_and_login_with_and_without_initial_response() {
    let app = TestApp::spawn_with(&["--imap-auth", "bob@example.com:pw"]).await;
    let ok = format!("a OK [CAPABILITY {CAPABILITIES}] LOGIN completed\r\n");
    // SASL-IR: "\0bob@example.com\0pw"
    let (mut imap, _) = Imap::connect(app.imap).await;
    imap.expect("a AUTHENTICATE PLAIN AGJvYkBleGFtcGxlLmNvbQBwdw==", &ok)
        .await;
    let (mut imap, _) = Imap::connect(app.imap).await;
    imap.send("a AUTHENTICATE PLAIN\r\n").await;
    assert_eq!(imap.line().await, "+ \r\n");
    imap.send("AGJvYkBleGFtcGxlLmNvbQBwdw==\r\n").await;
    assert_eq!(imap.until("a").await, ok);
    let (mut imap, _) = Imap::connect(app.imap).await;
    imap.send("a AUTHENTICATE LOGIN\r\n").await;
    assert_eq!(imap.line().await, "+ VXNlcm5hbWU6\r\n");
    imap.send("Ym9iQGV4YW1wbGUuY29t\r\n").await;
    assert_eq!(imap.line().await, "+ UGFzc3dvcmQ6\r\n");
    imap.send("cHc=\r\n").await;
    assert_eq!(imap.until("a").await, ok);
    let (mut imap, _) = Imap::connect(app.imap).await;
    imap.expect(
        "a LOGIN bob@example.com wrong",
        "a NO [AUTHENTICATIONFAILED] invalid user name or password\r\n",
    )
    .await;
    imap.send("b AUTHENTICATE PLAIN\r\n").await;
    assert_eq!(imap.line().await, "+ \r\n");
    imap.send("*\r\n").await;
    assert_eq!(imap.until("b").await, "b BAD authentication cancelled\r\n");
    imap.expect(
        "c LOGIN bob@example.com pw",
        &ok.replacen("a OK", "c OK", 1),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn folders_list_create_rename_delete_subscribe_and_status() {
    let app = TestApp::spawn().await;
    let mut imap = Imap::login(app.imap, "bob@example.com").await;
    imap.expect(
        "a LIST \"\" *",
        "* LIST (\\HasNoChildren) \"/\" INBOX\r\n\
         * LIST (\\HasNoChildren \\Drafts) \"/\" Drafts\r\n\
         * LIST (\\HasNoChildren \\Junk) \"/\" Junk\r\n\
         * LIST (\\HasNoChildren \\Sent) \"/\" Sent\r\n\
         * LIST (\\HasNoChildren \\Trash) \"/\" Trash\r\n\
         a OK LIST completed\r\n",
    )
    .await;
    imap.expect(
        "b LIST \"\" \"\"",
        "* LIST (\\Noselect) \"/\" \"\"\r\nb OK LIST completed\r\n",
    )
    .await;
    imap.expect("c CREATE Projects/2026", "c OK CREATE completed\r\n")
        .await;
    imap.expect(
        "d CREATE Projects",
        "d NO [ALREADYEXISTS] mailbox already exists\r\n",
    )
    .await;
    imap.expect(
        "e LIST \"\" Projects*",
        "* LIST (\\HasChildren) \"/\" Projects\r\n\
         * LIST (\\HasNoChildren) \"/\" Projects/2026\r\n\
         e OK LIST completed\r\n",
    )
    .await;
    imap.expect(
        "f LIST \"\" %",
        "* LIST (\\HasNoChildren) \"/\" INBOX\r\n\
         * LIST (\\HasNoChildren \\Drafts) \"/\" Drafts\r\n\
         * LIST (\\HasNoChildren \\Junk) \"/\" Junk\r\n\
         * LIST (\\HasChildren) \"/\" Projects\r\n\
         * LIST (\\HasNoChildren \\Sent) \"/\" Sent\r\n\
         * LIST (\\HasNoChildren \\Trash) \"/\" Trash\r\n\
         f OK LIST completed\r\n",
    )
    .await;
    imap.expect(
        "g DELETE Projects",
        "g NO [CANNOT] delete the mailboxes below it first\r\n",
    )
    .await;
    imap.expect("h RENAME Projects Archive", "h OK RENAME completed\r\n")
        .await;
    imap.expect(
        "i LIST Archive/ *",
        "* LIST (\\HasNoChildren) \"/\" Archive/2026\r\ni OK LIST completed\r\n",
    )
    .await;
    imap.expect("j UNSUBSCRIBE Archive", "j OK UNSUBSCRIBE completed\r\n")
        .await;
    imap.expect(
        "k LSUB \"\" Archive*",
        "* LSUB (\\HasNoChildren) \"/\" Archive/2026\r\nk OK LSUB completed\r\n",
    )
    .await;
    imap.expect("l SUBSCRIBE Archive", "l OK SUBSCRIBE completed\r\n")
        .await;
    imap.expect(
        "m DELETE INBOX",
        "m NO [CANNOT] INBOX cannot be deleted or renamed\r\n",
    )
    .await;
    imap.expect("n DELETE Nowhere", "n NO [NONEXISTENT] no such mailbox\r\n")
        .await;
    imap.expect(
        "o RENAME Nowhere Elsewhere",
        "o NO [NONEXISTENT] no such mailbox\r\n",
    )
    .await;
    imap.expect("p DELETE Archive/2026", "p OK DELETE completed\r\n")
        .await;
    imap.expect("q DELETE Archive", "q OK DELETE completed\r\n")
        .await;
    imap.expect("r SELECT Nowhere", "r NO [NONEXISTENT] no such mailbox\r\n")
        .await;
    imap.expect(
        "s STATUS Nowhere (MESSAGES)",
        "s NO [NONEXISTENT] no such mailbox\r\n",
    )
    .await;
    send_mail(&app, &["bob@example.com"], "status-one").await;
    let status = imap
        .command("t STATUS INBOX (MESSAGES UNSEEN RECENT)")
        .await;
    assert_eq!(
        status,
        "* STATUS INBOX (MESSAGES 1 UNSEEN 1 RECENT 0)\r\nt OK STATUS completed\r\n"
    );
    imap.expect(
        "u NAMESPACE",
        "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\nu OK NAMESPACE completed\r\n",
    )
    .await;
    imap.expect(
        "v ENABLE CONDSTORE",
        "* ENABLED\r\nv OK ENABLE completed\r\n",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn select_fetch_store_search_and_expunge() {
    let app = TestApp::spawn().await;
    let first = send_mail(&app, &["carol@example.com"], "first").await;
    send_mail(&app, &["carol@example.com"], "second").await;
    let mut imap = Imap::login(app.imap, "carol@example.com").await;
    let select = imap.command("a SELECT INBOX").await;
    let lines: Vec<&str> = select.lines().collect();
    assert_eq!(
        lines[0],
        "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)"
    );
    assert_eq!(
        lines[1],
        "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] flags permitted"
    );
    assert_eq!(lines[2], "* 2 EXISTS");
    assert_eq!(lines[3], "* 0 RECENT");
    assert_eq!(lines[4], "* OK [UNSEEN 1] first unseen");
    assert!(lines[5].starts_with("* OK [UIDVALIDITY "), "{select}");
    assert!(lines[6].starts_with("* OK [UIDNEXT "), "{select}");
    assert_eq!(lines[7], "a OK [READ-WRITE] SELECT completed");
    let uids = imap.command("b UID SEARCH ALL").await;
    let numbers: Vec<u32> = uids
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("* SEARCH "))
        .expect("a SEARCH line")
        .split(' ')
        .map(|n| n.parse().expect("a UID"))
        .collect();
    assert_eq!(numbers.len(), 2);
    assert!(numbers[0] < numbers[1], "UIDs ascend: {numbers:?}");
    let size = first.raw.len();
    imap.expect(
        "c FETCH 1 (FLAGS RFC822.SIZE)",
        &format!("* 1 FETCH (FLAGS () RFC822.SIZE {size})\r\nc OK FETCH completed\r\n"),
    )
    .await;
    // A non-PEEK body fetch sets \Seen and reports it.
    imap.send("d FETCH 1 BODY[]\r\n").await;
    assert_eq!(
        imap.line().await,
        format!("* 1 FETCH (BODY[] {{{size}}}\r\n")
    );
    assert_eq!(imap.bytes(size).await, first.raw);
    assert_eq!(
        imap.until("d").await,
        " FLAGS (\\Seen))\r\nd OK FETCH completed\r\n"
    );
    imap.expect(
        "e FETCH 1:2 (FLAGS)",
        "* 1 FETCH (FLAGS (\\Seen))\r\n* 2 FETCH (FLAGS ())\r\ne OK FETCH completed\r\n",
    )
    .await;
    imap.expect(
        "f FETCH 1 BODY.PEEK[HEADER.FIELDS (SUBJECT)]",
        "* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {18}\r\nSubject: first\r\n\r\n)\r\n\
         f OK FETCH completed\r\n",
    )
    .await;
    imap.expect(
        "g FETCH 1 BODY.PEEK[TEXT]<0.4>",
        "* 1 FETCH (BODY[TEXT]<0> {4}\r\nBody)\r\ng OK FETCH completed\r\n",
    )
    .await;
    imap.expect(
        "h STORE 2 +FLAGS (\\Flagged Important)",
        "* 2 FETCH (FLAGS (\\Flagged Important))\r\nh OK STORE completed\r\n",
    )
    .await;
    imap.expect(
        "i STORE 1 -FLAGS.SILENT (\\Seen)",
        "i OK STORE completed\r\n",
    )
    .await;
    imap.expect(
        "j SEARCH FLAGGED",
        "* SEARCH 2\r\nj OK SEARCH completed\r\n",
    )
    .await;
    imap.expect(
        "k SEARCH UNSEEN",
        "* SEARCH 1 2\r\nk OK SEARCH completed\r\n",
    )
    .await;
    imap.expect(
        "l SEARCH OR SUBJECT second KEYWORD nothing",
        "* SEARCH 2\r\nl OK SEARCH completed\r\n",
    )
    .await;
    imap.expect(
        "m SEARCH NOT BODY \"Body of first\"",
        "* SEARCH 2\r\nm OK SEARCH completed\r\n",
    )
    .await;
    imap.expect(
        "n SEARCH CHARSET UTF-8 SENTON 2-Nov-2026 HEADER Message-ID second@",
        "* SEARCH 2\r\nn OK SEARCH completed\r\n",
    )
    .await;
    imap.expect(
        "o SEARCH CHARSET ISO-8859-1 ALL",
        "o NO [BADCHARSET (UTF-8)] charset not supported\r\n",
    )
    .await;
    imap.expect(
        "p FETCH 3 FLAGS",
        "p BAD [CLIENTBUG] invalid message sequence number\r\n",
    )
    .await;
    imap.expect(
        "q STORE 1 +FLAGS (\\Recent)",
        "q BAD [CLIENTBUG] \\Recent cannot be stored\r\n",
    )
    .await;
    imap.expect(
        "r STORE 1 +FLAGS.SILENT (\\Deleted)",
        "r OK STORE completed\r\n",
    )
    .await;
    imap.expect("s EXPUNGE", "* 1 EXPUNGE\r\ns OK EXPUNGE completed\r\n")
        .await;
    imap.expect(
        "t FETCH 1:* (FLAGS)",
        "* 1 FETCH (FLAGS (\\Flagged Important))\r\nt OK FETCH completed\r\n",
    )
    .await;
    // The address only stops seeing it (SPEC §3): the message is still stored.
    assert_eq!(app.messages().await.len(), 2);
    imap.expect("u UNSELECT", "u OK UNSELECT completed\r\n")
        .await;
    let examine = imap.command("v EXAMINE INBOX").await;
    assert!(
        examine.ends_with("v OK [READ-ONLY] EXAMINE completed\r\n"),
        "{examine}"
    );
    imap.expect("w EXPUNGE", "w NO [READ-ONLY] mailbox is read-only\r\n")
        .await;
    imap.expect("x CLOSE", "x OK CLOSE completed\r\n").await;
    imap.command("y SELECT Junk").await;
    imap.expect("z FETCH 1:* (FLAGS)", "z OK FETCH completed\r\n")
        .await;
    imap.expect(
        "z1 FETCH 1 (FLAGS)",
        "z1 BAD [CLIENTBUG] invalid message sequence number\r\n",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn copy_move_and_append_report_uids() {
    let app = TestApp::spawn().await;
    send_mail(&app, &["dave@example.com"], "to-copy").await;
    let mut imap = Imap::login(app.imap, "dave@example.com").await;
    imap.command("a SELECT INBOX").await;
    let copy = imap.command("b COPY 1 Trash").await;
    assert!(
        copy.starts_with("b OK [COPYUID ") && copy.ends_with(" 1] COPY completed\r\n"),
        "{copy}"
    );
    imap.expect("c COPY 1 Nowhere", "c NO [TRYCREATE] no such mailbox\r\n")
        .await;
    let moved = imap.command("d MOVE 1 Junk").await;
    let lines: Vec<&str> = moved.lines().collect();
    assert!(lines[0].starts_with("* OK [COPYUID "), "{moved}");
    assert_eq!(&lines[1..], ["* 1 EXPUNGE", "d OK MOVE completed"]);
    imap.expect(
        "e STATUS Junk (MESSAGES UIDNEXT)",
        "* STATUS Junk (MESSAGES 1 UIDNEXT 2)\r\ne OK STATUS completed\r\n",
    )
    .await;
    imap.send("f APPEND Drafts (\\Draft) {12}\r\n").await;
    assert_eq!(imap.line().await, "+ Ready for literal data\r\n");
    imap.send("Subject: x\r\n\r\n").await;
    let append = imap.until("f").await;
    assert!(
        append.starts_with("f OK [APPENDUID ") && append.ends_with(" 1] APPEND completed\r\n"),
        "{append}"
    );
    // LITERAL+: no continuation request.
    let append = imap
        .command("g APPEND Drafts {12+}\r\nSubject: y\r\n")
        .await;
    assert!(append.ends_with(" 2] APPEND completed\r\n"), "{append}");
    imap.expect(
        "h APPEND Nowhere {12+}\r\nSubject: z\r\n",
        "h NO [TRYCREATE] no such mailbox\r\n",
    )
    .await;
    imap.command("i SELECT Drafts").await;
    imap.expect(
        "j FETCH 1:* (UID FLAGS BODY[])",
        // \\Seen is set first, so FLAGS already shows it.
        "* 1 FETCH (UID 1 FLAGS (\\Seen \\Draft) BODY[] {12}\r\nSubject: x\r\n)\r\n\
         * 2 FETCH (UID 2 FLAGS (\\Seen) BODY[] {12}\r\nSubject: y\r\n)\r\n\
         j OK FETCH completed\r\n",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn limits_on_literals_and_lines() {
    let app = TestApp::spawn_with(&["--max-message-size", "1KB"]).await;
    let mut imap = Imap::login(app.imap, "erin@example.com").await;
    // Refused before the client sends it: no continuation request.
    imap.expect(
        "a APPEND INBOX {5000}",
        "a NO [TOOBIG] literal too large\r\n",
    )
    .await;
    imap.expect("b NOOP", "b OK NOOP completed\r\n").await;
    // A non-synchronizing literal is on its way: read, dropped, refused.
    let big = "x".repeat(5000);
    imap.expect(
        &format!("c APPEND INBOX {{5000+}}\r\n{big}"),
        "c BAD [TOOBIG] non-synchronizing literal too large\r\n",
    )
    .await;
    imap.expect("d NOOP", "d OK NOOP completed\r\n").await;
    let long = "y".repeat(70_000);
    imap.expect(
        &format!("e NOOP {long}"),
        "e BAD [TOOBIG] line too long\r\n",
    )
    .await;
    imap.expect("f NOOP", "f OK NOOP completed\r\n").await;
    assert!(app.messages().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn starttls_refuses_pipelined_commands() {
    let app = TestApp::spawn().await;
    let (mut imap, _) = Imap::connect(app.imap).await;
    imap.send("a STARTTLS\r\nb NOOP\r\n").await;
    assert_eq!(
        imap.read_to_close().await,
        "* BYE commands pipelined after STARTTLS\r\na BAD commands pipelined after STARTTLS\r\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn each_address_sees_its_own_mail_and_the_catch_all_sees_everything() {
    let app = TestApp::spawn().await;
    send_mail(&app, &["frank@example.com"], "for-frank").await;
    send_mail(&app, &["grace@example.com"], "for-grace").await;
    let mut frank = Imap::login(app.imap, "frank@example.com").await;
    let select = frank.command("a SELECT INBOX").await;
    assert!(select.contains("* 1 EXISTS\r\n"), "{select}");
    frank
        .expect(
            "b FETCH 1 BODY.PEEK[HEADER.FIELDS (SUBJECT)]",
            "* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {22}\r\nSubject: for-frank\r\n\r\n)\r\n\
             b OK FETCH completed\r\n",
        )
        .await;
    let mut admin = Imap::login(app.imap, "admin").await;
    let select = admin.command("a SELECT INBOX").await;
    assert!(select.contains("* 2 EXISTS\r\n"), "{select}");
    // The catch-all's \Seen is the UI's read state.
    admin
        .expect(
            "b STORE 1 +FLAGS.SILENT (\\Seen)",
            "b OK STORE completed\r\n",
        )
        .await;
    let read: Vec<bool> = app.messages().await.iter().map(|m| m.read).collect();
    assert_eq!(read, [false, true], "newest first");
    // Its keywords are the UI's tags.
    admin
        .expect(
            "c STORE 2 +FLAGS.SILENT (urgent)",
            "c OK STORE completed\r\n",
        )
        .await;
    assert_eq!(app.messages().await[0].summary.tags, ["urgent"]);
    // And its deletions are everyone's.
    admin
        .expect(
            "d STORE 1 +FLAGS.SILENT (\\Deleted)",
            "d OK STORE completed\r\n",
        )
        .await;
    admin
        .expect("e EXPUNGE", "* 1 EXPUNGE\r\ne OK EXPUNGE completed\r\n")
        .await;
    assert_eq!(app.messages().await.len(), 1);
    // Frank's session hears of it at its next command that allows it.
    frank
        .expect("c NOOP", "* 1 EXPUNGE\r\nc OK NOOP completed\r\n")
        .await;
    // UIDNEXT moves only when mail for the address arrives (RFC 3501
    // §2.3.1.1); its UIDs are the message ids, so frank's next is 5.
    let uidnext = "* STATUS INBOX (UIDNEXT 2)\r\ns OK STATUS completed\r\n";
    frank.expect("s STATUS INBOX (UIDNEXT)", uidnext).await;
    send_mail(&app, &["grace@example.com"], "for-grace-again").await;
    frank.expect("s STATUS INBOX (UIDNEXT)", uidnext).await;
    send_mail(&app, &["frank@example.com"], "for-frank-again").await;
    frank
        .expect(
            "s STATUS INBOX (UIDNEXT)",
            "* STATUS INBOX (UIDNEXT 5)\r\n* 1 EXISTS\r\ns OK STATUS completed\r\n",
        )
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn live_updates_and_no_expunge_during_fetch() {
    let app = TestApp::spawn().await;
    let first = send_mail(&app, &["heidi@example.com"], "live-one").await;
    let mut imap = Imap::login(app.imap, "heidi@example.com").await;
    imap.command("a SELECT INBOX").await;
    // New mail during IDLE: EXISTS as it arrives.
    imap.send("b IDLE\r\n").await;
    assert_eq!(imap.line().await, "+ idling\r\n");
    send_mail(&app, &["heidi@example.com"], "live-two").await;
    assert_eq!(imap.line().await, "* 2 EXISTS\r\n");
    // The UI marks a message read: FETCH FLAGS... only for the catch-all;
    // for an address, another session's STORE.
    let mut other = Imap::login(app.imap, "heidi@example.com").await;
    other.command("a SELECT INBOX").await;
    other
        .expect(
            "b STORE 2 +FLAGS.SILENT (\\Flagged)",
            "b OK STORE completed\r\n",
        )
        .await;
    assert_eq!(imap.line().await, "* 2 FETCH (FLAGS (\\Flagged))\r\n");
    imap.send("DONE\r\n").await;
    assert_eq!(imap.until("b").await, "b OK IDLE terminated\r\n");
    // Deleted for everyone through the API: no EXPUNGE during FETCH...
    app.store
        .delete(mailsink::store::Target::Ids(vec![first.id.clone()]))
        .await
        .expect("delete");
    imap.expect(
        "c FETCH 2 (FLAGS)",
        "* 2 FETCH (FLAGS (\\Flagged))\r\nc OK FETCH completed\r\n",
    )
    .await;
    // ...but at the next NOOP.
    imap.expect("d NOOP", "* 1 EXPUNGE\r\nd OK NOOP completed\r\n")
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn uids_are_never_reused_across_restarts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("uids.db");
    let db = db.to_str().expect("a UTF-8 path");
    let app = TestApp::spawn_with(&["--db", db]).await;
    send_mail(&app, &["ivan@example.com"], "uid-one").await;
    let newest = send_mail(&app, &["ivan@example.com"], "uid-two").await;
    // The address's INBOX and the catch-all's hold the same two messages.
    let logins = ["ivan@example.com", "admin"];
    let mut validities = Vec::new();
    for login in logins {
        let select = check_uids(&app, login, "3", "1 2").await;
        let validity = select
            .lines()
            .find(|l| l.starts_with("* OK [UIDVALIDITY "))
            .expect("UIDVALIDITY");
        validities.push(validity.to_owned());
    }
    // The newest row goes: SQLite would hand its rowid out again.
    app.store
        .delete(mailsink::store::Target::Ids(vec![newest.id.clone()]))
        .await
        .expect("delete");
    app.stop().await;
    let app = TestApp::spawn_with(&["--db", db]).await;
    send_mail(&app, &["ivan@example.com"], "uid-three").await;
    for (login, validity) in logins.into_iter().zip(validities) {
        let select = check_uids(&app, login, "4", "1 3").await;
        assert!(select.contains(&format!("{validity}\r\n")), "{select}");
    }
}

/// Selects INBOX as `login`, checks its UIDNEXT and UIDs, returns the SELECT answer.
async fn check_uids(app: &TestApp, login: &str, uidnext: &str, uids: &str) -> String {
    let mut imap = Imap::login(app.imap, login).await;
    let select = imap.command("a SELECT INBOX").await;
    assert!(
        select.contains(&format!("* OK [UIDNEXT {uidnext}] ")),
        "{login}: {select}"
    );
    imap.expect(
        "b UID SEARCH ALL",
        &format!("* SEARCH {uids}\r\nb OK SEARCH completed\r\n"),
    )
    .await;
    select
}

#[tokio::test(flavor = "multi_thread")]
async fn shutdown_says_bye() {
    let app = TestApp::spawn().await;
    let mut imap = Imap::login(app.imap, "judy@example.com").await;
    imap.expect("a NOOP", "a OK NOOP completed\r\n").await;
    let stopping = tokio::spawn(app.stop());
    assert_eq!(imap.read_to_close().await, "* BYE server shutting down\r\n");
    stopping.await.expect("the server stops");
}

#[tokio::test(flavor = "multi_thread")]
async fn binary_fetch_decodes_the_transfer_encoding() {
    let app = TestApp::spawn().await;
    crate::harness::deliver(
        app.smtp,
        "sender@example.com",
        &["rob@example.com"],
        "From: sender@example.com\r\nTo: rob@example.com\r\nSubject: bin\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\
         Content-Transfer-Encoding: base64\r\n\r\naGVsbG8=",
    )
    .await;
    let mut imap = Imap::login(app.imap, "rob@example.com").await;
    imap.command("a SELECT INBOX").await;
    imap.expect(
        "b FETCH 1 (BINARY.PEEK[1] BINARY.SIZE[1])",
        "* 1 FETCH (BINARY[1] ~{5}\r\nhello BINARY.SIZE[1] 5)\r\nb OK FETCH completed\r\n",
    )
    .await;
    imap.expect(
        "c FETCH 1 (BODY.PEEK[1])",
        "* 1 FETCH (BODY[1] {10}\r\naGVsbG8=\r\n)\r\nc OK FETCH completed\r\n",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sent_dates_fall_back_to_the_arrival_date() {
    let app = TestApp::spawn().await;
    send_mail(&app, &["dana@example.com"], "dated").await;
    crate::harness::deliver(
        app.smtp,
        "sender@example.com",
        &["dana@example.com"],
        "From: sender@example.com\r\nSubject: undated\r\n\r\nNo Date header.\r\n",
    )
    .await;
    let mut imap = Imap::login(app.imap, "dana@example.com").await;
    imap.command("a SELECT INBOX").await;
    // The dated message was sent on 2 Nov 2026; the undated one counts as
    // sent when it arrived, which is after 2000 whatever today is.
    imap.expect(
        "b SEARCH SENTSINCE 1-Jan-2000",
        "* SEARCH 1 2\r\nb OK SEARCH completed\r\n",
    )
    .await;
    imap.expect(
        "c SEARCH SENTBEFORE 1-Jan-2000",
        "* SEARCH\r\nc OK SEARCH completed\r\n",
    )
    .await;
    imap.expect(
        "d SEARCH SENTON 2-Nov-2026",
        "* SEARCH 1\r\nd OK SEARCH completed\r\n",
    )
    .await;
}
