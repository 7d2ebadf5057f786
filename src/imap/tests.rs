//! Property: whatever bytes a client sends, a session answers and ends
//! without panicking (the whole command path: framing, literals, decoding,
//! every state and command, the store underneath).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use proptest::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

use super::session::Session;
use super::{Context, Settings};
use crate::auth::Credentials;
use crate::config::DbSync;
use crate::store::Store;

fn context() -> Arc<Context> {
    static CONTEXT: OnceLock<Arc<Context>> = OnceLock::new();
    Arc::clone(CONTEXT.get_or_init(|| {
        Arc::new(Context {
            settings: Settings {
                hostname: "localhost".into(),
                credentials: Credentials::AcceptAny,
                idle_timeout: Duration::from_secs(5),
                max_connections: 8,
                max_message_size: 4096,
            },
            store: Store::open(None, DbSync::Normal).expect("a temporary store"),
            tls: crate::tls::acceptor(None, None, "localhost").expect("a certificate"),
            cancel: CancellationToken::new(),
        })
    }))
}

/// Runs one session over an in-memory stream fed `input`; returns its output.
fn run(input: Vec<u8>) -> Vec<u8> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async move {
        let (mut client, server) = tokio::io::duplex(1 << 16);
        let peer = "127.0.0.1:1".parse().expect("an address");
        let session = tokio::spawn(Session::new(server, context(), peer, false).run(true));
        let writer = async {
            client.write_all(&input).await.ok();
            client.shutdown().await.ok();
            let mut out = Vec::new();
            client.read_to_end(&mut out).await.ok();
            out
        };
        let out = tokio::time::timeout(Duration::from_secs(20), writer)
            .await
            .expect("the session answers and ends");
        let ended = tokio::time::timeout(Duration::from_secs(20), session)
            .await
            .expect("the session ends");
        assert!(ended.is_ok(), "the session panicked");
        out
    })
}

/// Pieces of plausible and implausible commands.
fn fragment() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"a LOGIN bob@example.com pw\r\n".to_vec()),
        Just(b"a LOGIN admin pw\r\n".to_vec()),
        Just(b"b SELECT INBOX\r\n".to_vec()),
        Just(b"b EXAMINE Trash\r\n".to_vec()),
        Just(b"c FETCH 1:* (FLAGS ENVELOPE BODYSTRUCTURE BODY[]<0.5>)\r\n".to_vec()),
        Just(b"c UID FETCH 1:* (BODY.PEEK[1.MIME] BINARY[1])\r\n".to_vec()),
        Just(b"d SEARCH OR FROM x NOT (SEEN LARGER 5) 1:*\r\n".to_vec()),
        Just(b"e STORE 1 +FLAGS (\\Deleted kw)\r\n".to_vec()),
        Just(b"f EXPUNGE\r\n".to_vec()),
        Just(b"g APPEND INBOX {5}\r\nhello\r\n".to_vec()),
        Just(b"g APPEND Drafts {5+}\r\nhello\r\n".to_vec()),
        Just(b"g APPEND INBOX {99999}\r\n".to_vec()),
        Just(b"h CREATE a/b\r\nh RENAME a c\r\nh DELETE c/b\r\n".to_vec()),
        Just(b"i COPY 1:* Trash\r\ni MOVE 1 Junk\r\n".to_vec()),
        Just(b"j IDLE\r\nDONE\r\n".to_vec()),
        Just(b"k AUTHENTICATE PLAIN\r\n".to_vec()),
        Just(b"l LIST \"\" *\r\nl STATUS INBOX (MESSAGES UIDNEXT)\r\n".to_vec()),
        Just(b"m CLOSE\r\n".to_vec()),
        Just(b"{3}\r\n".to_vec()),
        Just(b"\r\n".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..24),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn sessions_never_panic(input in proptest::collection::vec(fragment(), 0..16)) {
        let out = run(input.concat());
        prop_assert!(out.starts_with(b"* OK "));
    }

    #[test]
    fn arbitrary_bytes_never_panic(input in proptest::collection::vec(any::<u8>(), 0..600)) {
        let out = run(input);
        prop_assert!(out.starts_with(b"* OK "));
    }
}

#[test]
fn a_session_over_the_test_stream_works() {
    let out = run(b"a LOGIN admin pw\r\nb SELECT INBOX\r\nc LOGOUT\r\n".to_vec());
    let out = String::from_utf8_lossy(&out);
    assert!(
        out.contains("\r\nb OK [READ-WRITE] SELECT completed\r\n"),
        "{out}"
    );
    assert!(out.ends_with("c OK LOGOUT completed\r\n"), "{out}");
}
