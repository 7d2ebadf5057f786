use chrono::TimeZone;

use super::*;

fn q(input: &str) -> Query {
    parse(input, Tz::UTC).unwrap_or_else(|e| panic!("{input:?}: {e}"))
}

fn text(s: &str) -> Query {
    Query::Term(Term::Text(s.into()))
}

fn field(f: Field, s: &str) -> Query {
    Query::Term(Term::Field(f, s.into()))
}

#[test]
fn words_are_anded() {
    assert_eq!(q("hello"), text("hello"));
    assert_eq!(
        q("  hello   world "),
        Query::And(vec![text("hello"), text("world")])
    );
    assert_eq!(q("\"hello world\""), text("hello world"));
}

#[test]
fn mailpit_fields() {
    assert_eq!(q("to:bob@example.com"), field(Field::To, "bob@example.com"));
    assert_eq!(q("FROM:alice"), field(Field::From, "alice"));
    assert_eq!(q("subject:\"big news\""), field(Field::Subject, "big news"));
    assert_eq!(q("reply-to:x"), field(Field::ReplyTo, "x"));
    assert_eq!(q("addressed:x"), field(Field::Addressed, "x"));
    assert_eq!(
        q("message-id:<a@b>"),
        Query::Term(Term::MessageId("a@b".into()))
    );
    assert_eq!(q("tag:Work"), Query::Term(Term::Tag("Work".into())));
    assert_eq!(q("is:read"), Query::Term(Term::Is(Flag::Read)));
    assert_eq!(q("is:UNREAD"), Query::Term(Term::Is(Flag::Unread)));
    assert_eq!(q("is:tagged"), Query::Term(Term::Is(Flag::Tagged)));
    assert_eq!(
        q("has:attachments"),
        Query::Term(Term::Has(Has::Attachment))
    );
    assert_eq!(q("has:inline"), Query::Term(Term::Has(Has::Inline)));
    assert_eq!(q("larger:2M"), Query::Term(Term::Larger(2 << 20)));
    assert_eq!(q("smaller:1.5MB"), Query::Term(Term::Smaller(1_572_864)));
    assert_eq!(q("larger:500"), Query::Term(Term::Larger(500)));
}

#[test]
fn our_extensions() {
    assert_eq!(
        q("header:X-Mailer:Thunderbird 1"),
        Query::And(vec![
            Query::Term(Term::Header("X-Mailer".into(), "Thunderbird".into())),
            text("1")
        ])
    );
    assert_eq!(
        q("header:\"X-Mailer: Thunderbird 1\""),
        Query::Term(Term::Header("X-Mailer".into(), "Thunderbird 1".into()))
    );
    assert_eq!(q("body:hello"), field(Field::Body, "hello"));
    assert_eq!(
        q("envelope-to:ops@example.com"),
        Query::Term(Term::EnvelopeTo("ops@example.com".into()))
    );
    assert_eq!(
        q("envelope-from:bounce@"),
        Query::Term(Term::EnvelopeFrom("bounce@".into()))
    );
}

#[test]
fn negation_or_and_groups() {
    assert_eq!(q("-from:a"), Query::Not(Box::new(field(Field::From, "a"))));
    assert_eq!(q("!spam"), Query::Not(Box::new(text("spam"))));
    // OR binds tighter than the implicit AND.
    assert_eq!(
        q("a OR b c"),
        Query::And(vec![Query::Or(vec![text("a"), text("b")]), text("c")])
    );
    assert_eq!(
        q("-(a OR b) c"),
        Query::And(vec![
            Query::Not(Box::new(Query::Or(vec![text("a"), text("b")]))),
            text("c")
        ])
    );
    assert_eq!(q("((a))"), text("a"));
    // Lower-case "or" is a word; a lone dash is a word.
    assert_eq!(
        q("a or b"),
        Query::And(vec![text("a"), text("or"), text("b")])
    );
    assert_eq!(
        q("a - b"),
        Query::And(vec![text("a"), text("-"), text("b")])
    );
}

#[test]
fn unknown_prefixes_are_text() {
    assert_eq!(q("http://example.com"), text("http://example.com"));
    assert_eq!(q("foo:bar"), text("foo:bar"));
}

#[test]
fn dates_in_utc_and_in_a_time_zone() {
    let midnight = Utc
        .with_ymd_and_hms(2026, 11, 23, 0, 0, 0)
        .single()
        .expect("valid");
    assert_eq!(q("before:2026-11-23"), Query::Term(Term::Before(midnight)));
    assert_eq!(q("after:2026/11/23"), Query::Term(Term::After(midnight)));
    assert_eq!(q("after:23-Nov-2026"), Query::Term(Term::After(midnight)));
    assert_eq!(
        q("before:2026-11-23T10:00:00+02:00"),
        Query::Term(Term::Before(midnight + chrono::Duration::hours(8)))
    );
    let auckland = parse_time_zone("Pacific/Auckland").expect("a zone");
    assert_eq!(
        parse("before:2026-11-23", auckland).expect("valid"),
        Query::Term(Term::Before(midnight - chrono::Duration::hours(13)))
    );
}

#[test]
fn bad_searches_name_the_problem() {
    for (input, error) in [
        ("", SearchError::Empty),
        ("   ", SearchError::Empty),
        ("(a", SearchError::Unbalanced),
        ("a)", SearchError::Unbalanced),
        ("()", SearchError::Empty),
        ("\"open", SearchError::UnclosedQuote),
        ("to:", SearchError::MissingValue("to:".into())),
        ("OR a", SearchError::DanglingOr),
        ("a OR", SearchError::DanglingOr),
        ("a OR OR b", SearchError::DanglingOr),
        ("is:maybe", SearchError::UnknownFlag("maybe".into())),
        ("has:kids", SearchError::UnknownHas("kids".into())),
        ("larger:big", SearchError::BadSize("big".into())),
        ("smaller:5XB", SearchError::BadSize("5XB".into())),
        ("before:yesterday", SearchError::BadDate("yesterday".into())),
        ("header:nocolon", SearchError::BadHeader),
    ] {
        assert_eq!(parse(input, Tz::UTC), Err(error), "{input:?}");
    }
    assert_eq!(
        parse_time_zone("Mars/Olympus"),
        Err(SearchError::BadTimeZone("Mars/Olympus".into()))
    );
    let deep = format!("{}a{}", "(".repeat(100), ")".repeat(100));
    assert_eq!(parse(&deep, Tz::UTC), Err(SearchError::Unbalanced));
}

proptest::proptest! {
    #[test]
    fn never_panics(input in "\\PC{0,80}") {
        let _ = parse(&input, Tz::UTC);
    }

    #[test]
    fn never_panics_on_syntax_soup(input in "[a-z:\"()!\\- ]{0,40}|(OR |is:|to:|\\(|\\)|-|\"| ){0,20}") {
        if let Ok(query) = parse(&input, Tz::UTC) {
            let _ = sql::Condition::new(&query);
        }
    }
}
