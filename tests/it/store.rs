//! The store seen from outside: events after commit, retention.

use std::time::{Duration, Instant};

use mailsink::store::{MessageId, StoreEvent, Target};

use crate::harness::{Raw, TestApp};

async fn send(app: &TestApp, subject: &str) -> String {
    let mut raw = Raw::connect(app.smtp).await;
    raw.expect("EHLO store.test", "250-").await;
    raw.expect("MAIL FROM:<s@example.com>", "250 ").await;
    raw.expect("RCPT TO:<r@example.com>", "250 ").await;
    raw.expect("DATA", "354 ").await;
    let reply = raw
        .expect(
            &format!("Subject: {subject}\r\n\r\n."),
            "250 2.0.0 Ok: queued as ",
        )
        .await;
    reply.trim_end()["250 2.0.0 Ok: queued as ".len()..].to_owned()
}

async fn wait_until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn changes_are_broadcast_after_commit() {
    let app = TestApp::spawn().await;
    let mut events = app.store.subscribe();
    let id = send(&app, "evented").await;
    let StoreEvent::Inserted(meta) = events.recv().await.expect("an event") else {
        panic!("expected Inserted");
    };
    assert_eq!(meta.id.as_str(), id);
    assert_eq!(meta.summary.subject, "evented");
    app.store
        .set_read(Target::Ids(vec![meta.id.clone()]), true)
        .await
        .expect("mark read");
    match events.recv().await.expect("an event") {
        StoreEvent::ReadChanged { ids, read } => {
            assert_eq!(ids, vec![meta.id.clone()]);
            assert!(read);
        }
        other => panic!("expected ReadChanged, got {other:?}"),
    }
    assert!(app.messages().await[0].read);
    assert_eq!(
        app.store
            .delete(Target::Ids(vec![meta.id.clone()]))
            .await
            .expect("delete"),
        1
    );
    match events.recv().await.expect("an event") {
        StoreEvent::Deleted(ids) => assert_eq!(ids, vec![meta.id.clone()]),
        other => panic!("expected Deleted, got {other:?}"),
    }
    assert!(app.store.raw(&meta.id).await.expect("read").is_none());
    send(&app, "a").await;
    send(&app, "b").await;
    assert_eq!(app.store.delete(Target::All).await.expect("delete all"), 2);
    assert_eq!(app.store.count().await.expect("count"), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn max_messages_keeps_the_newest() {
    let app = TestApp::spawn_with(&["--max-messages", "2"]).await;
    for n in 0..5 {
        send(&app, &format!("n{n}")).await;
    }
    wait_until("pruning to 2 messages", async || {
        app.messages().await.len() == 2
    })
    .await;
    let subjects = app.subjects().await;
    assert_eq!(subjects, ["n4", "n3"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn max_age_prunes_old_messages() {
    let app = TestApp::spawn_with(&["--max-age", "1s"]).await;
    let id = send(&app, "ephemeral").await;
    assert_eq!(app.messages().await.len(), 1);
    wait_until("the message to expire", async || {
        app.messages().await.is_empty()
    })
    .await;
    let id = id.parse().expect("an ID");
    assert!(app.store.raw(&id).await.expect("read").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn totals_stay_exact_before_and_after_the_writer_folds_new_mail() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("totals.db");
    let db = db.to_str().expect("a UTF-8 path");
    let app = TestApp::spawn_with(&["--db", db]).await;
    let totals = async |app: &TestApp| {
        let t = app.store.totals().await.expect("totals");
        (t.messages, t.unread)
    };
    let read = async |id: &MessageId, read: bool| {
        let target = Target::Ids(vec![id.clone()]);
        assert_eq!(app.store.set_read(target, read).await.expect("read"), 1);
    };
    let delete = async |id: &MessageId| {
        let target = Target::Ids(vec![id.clone()]);
        assert_eq!(app.store.delete(target).await.expect("delete"), 1);
    };
    let id = |text: String| text.parse::<MessageId>().expect("an ID");
    let a = id(send(&app, "a").await);
    let b = id(send(&app, "b").await);
    let c = id(send(&app, "c").await);
    // Fresh mail is counted from the rows until the writer folds it in.
    assert_eq!(totals(&app).await, (3, 3));
    read(&b, true).await;
    delete(&c).await;
    assert_eq!(totals(&app).await, (2, 1));
    // The writer folds new mail in once it has been idle a moment; changes
    // to folded mail adjust the stored counts.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(totals(&app).await, (2, 1));
    read(&a, true).await;
    delete(&b).await;
    assert_eq!(totals(&app).await, (1, 0));
    send(&app, "d").await;
    assert_eq!(totals(&app).await, (2, 1));
    read(&a, false).await;
    assert_eq!(totals(&app).await, (2, 2));
    app.stop().await;
    let app = TestApp::spawn_with(&["--db", db]).await;
    assert_eq!(totals(&app).await, (2, 2));
    assert_eq!(app.store.delete(Target::All).await.expect("delete all"), 2);
    assert_eq!(totals(&app).await, (0, 0));
}
