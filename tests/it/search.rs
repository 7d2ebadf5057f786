//! Searching the store with Mailpit's syntax and ours, right after delivery.

use chrono_tz::Tz;
use mailsink::store::search::parse;
use mailsink::store::{Filter, MessageId, Target};

use crate::harness::{TestApp, deliver};

struct Corpus {
    app: TestApp,
    invoice: MessageId,
    newsletter: MessageId,
    report: MessageId,
}

async fn corpus() -> Corpus {
    let app = TestApp::spawn().await;
    let invoice = deliver(
        app.smtp,
        "billing@shop.example",
        &["alice@example.com", "audit@example.com"],
        "From: Billing <billing@shop.example>\r\nTo: Alice <alice@example.com>\r\n\
         Subject: Your invoice #42\r\nMessage-ID: <inv-42@shop.example>\r\nX-Tags: Finance\r\n\
         X-Mailer: ShopMailer 3.1\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n\
         Please find the Invoices attached. Total: 99 EUR.\r\n--b\r\n\
         Content-Type: application/pdf; name=invoice-42.pdf\r\n\
         Content-Disposition: attachment; filename=invoice-42.pdf\r\n\
         Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n",
    )
    .await;
    let newsletter = deliver(
        app.smtp,
        "news@letters.example",
        &["bob+promo@example.com"],
        "From: News <news@letters.example>\r\nTo: bob+promo@example.com\r\n\
         Cc: carol@example.com\r\nSubject: Weekly digest\r\n\r\nNew café openings in town.\r\n",
    )
    .await;
    let report = deliver(
        app.smtp,
        "ci@build.example",
        &["alice@example.com"],
        "From: CI <ci@build.example>\r\nTo: alice@example.com\r\nSubject: Build report\r\n\
         Reply-To: noreply@build.example\r\n\r\nAll 212 tests passed. No invoice needed.\r\n",
    )
    .await;
    Corpus {
        app,
        invoice,
        newsletter,
        report,
    }
}

impl Corpus {
    /// The IDs matching `query`, newest first.
    async fn find(&self, query: &str) -> Vec<String> {
        let query = parse(query, Tz::UTC).unwrap_or_else(|e| panic!("{query}: {e}"));
        let filter = Filter {
            query: Some(query),
            ..Filter::default()
        };
        let page = self.app.store.page(filter).await.expect("search");
        assert_eq!(page.matched as usize, page.messages.len());
        page.messages
            .into_iter()
            .map(|m| m.id.to_string())
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn mailpit_syntax_finds_what_it_should() {
    let c = corpus().await;
    let (inv, news, rep) = (c.invoice.as_str(), c.newsletter.as_str(), c.report.as_str());
    assert_eq!(c.find("invoice").await, [rep, inv], "substring, any case");
    assert_eq!(c.find("\"find the invoices\"").await, [inv], "phrase");
    assert_eq!(c.find("from:billing").await, [inv]);
    assert_eq!(c.find("to:alice").await, [rep, inv]);
    assert_eq!(c.find("cc:carol").await, [news]);
    assert_eq!(
        c.find("bcc:audit@example.com").await,
        [inv],
        "envelope-only is Bcc"
    );
    assert_eq!(c.find("reply-to:noreply").await, [rep]);
    assert_eq!(c.find("addressed:carol").await, [news]);
    assert_eq!(c.find("subject:digest").await, [news]);
    assert_eq!(c.find("message-id:inv-42@shop.example").await, [inv]);
    assert_eq!(c.find("tag:finance").await, [inv], "X-Tags header");
    assert_eq!(c.find("tag:promo").await, [news], "plus-addressing");
    assert_eq!(c.find("is:tagged").await, [news, inv]);
    assert_eq!(c.find("has:attachment").await, [inv]);
    assert_eq!(c.find("invoice-42.pdf").await, [inv], "attachment names");
    assert_eq!(c.find("cafe").await, [news], "accents fold");
    assert_eq!(c.find("is:unread").await.len(), 3);
    assert!(c.find("is:read").await.is_empty());
    assert_eq!(c.find("-invoice").await, [news]);
    assert_eq!(c.find("!from:ci to:alice").await, [inv]);
    assert_eq!(c.find("larger:1").await.len(), 3);
    assert!(c.find("smaller:10").await.is_empty());
    assert_eq!(c.find("before:2999-01-01 after:2000-01-01").await.len(), 3);
    assert!(c.find("after:2999-01-01").await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn extensions_or_groups_headers_body_envelope() {
    let c = corpus().await;
    let (inv, news, rep) = (c.invoice.as_str(), c.newsletter.as_str(), c.report.as_str());
    assert_eq!(c.find("from:billing OR from:news").await, [news, inv]);
    assert_eq!(c.find("(digest OR report) -cc:carol").await, [rep]);
    assert_eq!(c.find("header:X-Mailer:ShopMailer").await, [inv]);
    assert_eq!(
        c.find("header:subject:digest").await,
        [news],
        "in its own column"
    );
    assert_eq!(c.find("header:From:billing").await, [inv]);
    assert!(
        c.find("header:Mailer:ShopMailer").await.is_empty(),
        "names are whole"
    );
    assert_eq!(c.find("body:212").await, [rep]);
    assert!(
        c.find("body:digest").await.is_empty(),
        "the subject is not the body"
    );
    assert_eq!(c.find("envelope-to:audit@").await, [inv]);
    assert_eq!(c.find("envelope-from:@build.example").await, [rep]);
    assert!(c.find("envelope-from:alice").await.is_empty());
    // Two characters are below the trigram index: the summary columns still match.
    assert_eq!(c.find("to:bo").await, [news]);
}

#[tokio::test(flavor = "multi_thread")]
async fn bulk_changes_by_search() {
    let c = corpus().await;
    let store = &c.app.store;
    let query = parse("to:alice", Tz::UTC).expect("valid");
    assert_eq!(
        store
            .set_read(Target::Matching(query.clone()), true)
            .await
            .expect("read"),
        2
    );
    assert_eq!(c.find("is:unread").await, [c.newsletter.as_str()]);
    assert_eq!(
        store.delete(Target::Matching(query)).await.expect("delete"),
        2
    );
    assert_eq!(
        c.find("is:read OR is:unread").await,
        [c.newsletter.as_str()]
    );
    assert_eq!(store.tags().await.expect("tags"), [("promo".to_owned(), 1)]);
}

#[tokio::test(flavor = "multi_thread")]
async fn tags_are_set_renamed_and_deleted() {
    let c = corpus().await;
    let store = &c.app.store;
    let both = vec![c.invoice.clone(), c.report.clone()];
    assert_eq!(
        store
            .set_tags(both, vec!["Work".into(), "Q4".into()])
            .await
            .expect("set"),
        2
    );
    assert_eq!(
        c.find("tag:work").await,
        [c.report.as_str(), c.invoice.as_str()]
    );
    assert!(c.find("tag:finance").await.is_empty(), "set replaces");
    assert_eq!(
        store
            .rename_tag("Work".into(), "Office".into())
            .await
            .expect("rename"),
        2
    );
    assert_eq!(
        store
            .rename_tag("promo".into(), "Office".into())
            .await
            .expect("merge"),
        3
    );
    assert_eq!(c.find("tag:office").await.len(), 3);
    assert_eq!(store.delete_tag("Q4".into()).await.expect("delete"), 2);
    let tags = store.tags().await.expect("tags");
    assert_eq!(tags, [("Office".to_owned(), 3)]);
    let latest = store
        .latest(None)
        .await
        .expect("latest")
        .expect("a message");
    assert_eq!(latest.id, c.report);
    assert_eq!(latest.summary.tags, ["Office"]);
}
