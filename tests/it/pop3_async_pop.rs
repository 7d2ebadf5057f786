//! The async-pop crate as the POP3 client: USER/PASS login, STAT, LIST, UIDL,
//! RETR and TOP (returned still dot-stuffed), DELE, RSET, NOOP and QUIT.

use async_pop::response::list::ListResponse;
use async_pop::response::types::DataType;
use async_pop::response::uidl::UidlResponse;

use crate::clients::assert_same_bytes;
use crate::harness::TestApp;
use crate::pop3_clients::{headers, send};

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
