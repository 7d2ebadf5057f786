//! The async-imap crate as the IMAP client: LOGIN, SELECT, FETCH of bodies
//! and envelopes (compared with what was stored), UID SEARCH, STORE, MOVE,
//! APPEND, EXPUNGE, and IDLE woken by mail sent over SMTP.

use futures_util::StreamExt;
use tokio::net::TcpStream;

use crate::clients::assert_same_bytes;
use crate::harness::TestApp;
use crate::imap_clients::send_mail;

async fn login(app: &TestApp, user: &str) -> async_imap::Session<TcpStream> {
    let stream = TcpStream::connect(app.imap).await.expect("connect");
    let mut client = async_imap::Client::new(stream);
    client
        .read_response()
        .await
        .expect("read the greeting")
        .expect("a greeting");
    client
        .login(user, "secret")
        .await
        .map_err(|(e, _)| e)
        .expect("login")
}

#[tokio::test(flavor = "multi_thread")]
async fn async_imap_fetches_stores_moves_and_idles() {
    let app = TestApp::spawn().await;
    let first = send_mail(&app, &["mia@example.com"], "async-one").await;
    let second = send_mail(&app, &["mia@example.com"], "async-two").await;
    let mut session = login(&app, "mia@example.com").await;

    let mailbox = session.select("INBOX").await.expect("select");
    assert_eq!(mailbox.exists, 2);
    assert!(mailbox.uid_validity.is_some());

    let fetched: Vec<_> = session
        .fetch("1:*", "(UID FLAGS ENVELOPE BODY.PEEK[])")
        .await
        .expect("fetch")
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .map(|f| f.expect("a FETCH response"))
        .collect();
    assert_eq!(fetched.len(), 2);
    assert_same_bytes(fetched[0].body().expect("BODY[]"), &first.raw, "first");
    assert_same_bytes(fetched[1].body().expect("BODY[]"), &second.raw, "second");
    let envelope = fetched[1].envelope().expect("ENVELOPE");
    assert_eq!(envelope.subject.as_deref(), Some(&b"async-two"[..]));
    let uids: Vec<u32> = fetched.iter().map(|f| f.uid.expect("UID")).collect();
    assert!(uids[0] < uids[1]);

    let unseen = session.uid_search("UNSEEN").await.expect("search");
    assert_eq!(unseen.len(), 2);
    let stored: Vec<_> = session
        .store("1", "+FLAGS (\\Seen \\Flagged)")
        .await
        .expect("store")
        .collect::<Vec<_>>()
        .await;
    assert_eq!(stored.len(), 1);
    let unseen = session.uid_search("UNSEEN").await.expect("search");
    assert_eq!(unseen.into_iter().collect::<Vec<_>>(), [uids[1]]);

    session.mv("1", "Trash").await.expect("move");
    session
        .append(
            "Drafts",
            Some("(\\Draft)"),
            None,
            b"Subject: d\r\n\r\nDraft.\r\n",
        )
        .await
        .expect("append");
    let status = session
        .status("Drafts", "(MESSAGES)")
        .await
        .expect("status");
    assert_eq!(status.exists, 1);

    // IDLE until mail arrives over SMTP.
    session.select("INBOX").await.expect("select again");
    let mut idle = session.idle();
    idle.init().await.expect("IDLE starts");
    let (wait, _stop) = idle.wait();
    let sender = async {
        send_mail(&app, &["mia@example.com"], "async-three").await;
    };
    let (response, ()) = tokio::join!(wait, sender);
    match response.expect("an IDLE response") {
        async_imap::extensions::idle::IdleResponse::NewData(data) => {
            let text = format!("{:?}", data.parsed());
            assert!(text.contains("Exists(2)"), "{text}");
        }
        other => panic!("expected new data, got {other:?}"),
    }
    let mut session = idle.done().await.expect("IDLE ends");

    session
        .store("1", "+FLAGS.SILENT (\\Deleted)")
        .await
        .expect("store")
        .collect::<Vec<_>>()
        .await;
    let expunged: Vec<_> = session
        .expunge()
        .await
        .expect("expunge")
        .collect::<Vec<_>>()
        .await;
    assert_eq!(expunged.len(), 1);
    session.logout().await.expect("logout");
    // An address's expunge hides the message from that address only.
    assert_eq!(app.messages().await.len(), 3);
}
