//! Tag names, and the tags a message brings with it: its `X-Tags` header and
//! plus-addressing (`user+tag@example.com`), as Mailpit assigns them.

use super::Mailbox;

/// Longest tag name, in characters.
const MAX_TAG: usize = 100;

/// A tag name cleaned as Mailpit does: only letters, digits, space, `-`, `_`,
/// `.` and `@` are kept, runs of spaces collapse, and the result is trimmed.
/// None when nothing is left.
pub fn clean(name: &str) -> Option<String> {
    let kept: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.' | '@'))
        .take(MAX_TAG)
        .collect();
    let cleaned = kept.split_whitespace().collect::<Vec<_>>().join(" ");
    (!cleaned.is_empty()).then_some(cleaned)
}

/// Whether `name` is already a clean tag name (what the API accepts as is).
pub fn is_valid(name: &str) -> bool {
    clean(name).as_deref() == Some(name)
}

/// Tags from an `X-Tags` header value and from plus-addressed mailboxes, in
/// order, each once (case-insensitively).
pub fn from_message<'a>(
    header: Option<&str>,
    mailboxes: impl Iterator<Item = &'a Mailbox>,
) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    let mut add = |raw: &str| {
        if let Some(tag) = clean(raw)
            && !tags.iter().any(|t| t.eq_ignore_ascii_case(&tag))
        {
            tags.push(tag);
        }
    };
    for raw in header.into_iter().flat_map(|h| h.split(',')) {
        add(raw);
    }
    for mailbox in mailboxes {
        let local = mailbox.address.split('@').next().unwrap_or_default();
        for raw in local.split('+').skip(1) {
            add(raw);
        }
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_names() {
        assert_eq!(clean("  Work   stuff "), Some("Work stuff".into()));
        assert_eq!(clean("a<b>c"), Some("abc".into()));
        assert_eq!(clean("<>"), None);
        assert!(is_valid("release-1.2_rc@x"));
        assert!(!is_valid(" padded"));
        assert_eq!(clean(&"x".repeat(300)).map(|t| t.len()), Some(MAX_TAG));
    }

    #[test]
    fn header_and_plus_addresses() {
        let boxes = [
            Mailbox {
                name: String::new(),
                address: "bob+orders+eu@example.com".into(),
            },
            Mailbox {
                name: String::new(),
                address: "plain@example.com".into(),
            },
        ];
        assert_eq!(
            from_message(Some("Invoices, urgent ,,orders"), boxes.iter()),
            ["Invoices", "urgent", "orders", "eu"]
        );
        assert!(from_message(None, std::iter::empty()).is_empty());
    }
}
