//! The List-Unsubscribe check Mailpit shows with a message (RFC 2369, RFC 8058):
//! the links a mailbox provider would offer and what is wrong with the header.

use serde::Serialize;

/// The List-Unsubscribe headers of a message and what a client can do with them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ListUnsubscribe {
    /// The List-Unsubscribe value as sent (folding joined), "" when absent.
    #[serde(rename = "Header")]
    pub header: String,
    /// The `<…>` URIs: at most one mailto: and one http(s): link.
    #[serde(rename = "Links")]
    pub links: Vec<String>,
    /// "" or every problem found, joined with ", ".
    #[serde(rename = "Errors")]
    pub errors: String,
    /// The List-Unsubscribe-Post value (RFC 8058 one-click), "" when absent.
    #[serde(rename = "HeaderPost")]
    pub header_post: String,
}

impl ListUnsubscribe {
    /// Checks a List-Unsubscribe value; `header_post` is kept as given.
    pub fn parse(header: &str, header_post: &str) -> Self {
        let (links, errors) = if header.trim().is_empty() {
            (Vec::new(), Vec::new())
        } else {
            check(header)
        };
        ListUnsubscribe {
            header: header.to_owned(),
            links,
            errors: errors.join(", "),
            header_post: header_post.to_owned(),
        }
    }
}

/// Mailpit's rules: comments are dropped, the value must be `<…>` items
/// separated by commas, each a mailto: or http(s): URI without spaces, and a
/// client uses one of each kind, so a second one is an error.
fn check(header: &str) -> (Vec<String>, Vec<String>) {
    let value = strip_comments(header);
    let value = value.trim();
    if !(value.starts_with('<') && value.ends_with('>')) {
        return (Vec::new(), vec![format!("\"{value}\" no angle brackets")]);
    }
    let mut links = Vec::new();
    let mut errors = Vec::new();
    let (mut has_mailto, mut has_http) = (false, false);
    let mut rest = value;
    let mut first = true;
    while let Some(open) = rest.find('<') {
        let between = &rest[..open];
        // Everything between two items must be one comma and whitespace.
        if !first && between.trim() != "," {
            errors.push(format!("\"{between}\" is not a valid separator"));
        }
        first = false;
        let after = &rest[open + 1..];
        let Some(close) = after.find('>') else {
            errors.push(format!("\"{after}\" has no closing angle bracket"));
            break;
        };
        let link = &after[..close];
        rest = &after[close + 1..];
        if link.is_empty() {
            errors.push("link is empty".to_owned());
        } else if link.chars().any(char::is_whitespace) {
            errors.push(format!("\"{link}\" contains spaces"));
        } else if has_scheme_then_alnum(link, "mailto:") {
            if has_mailto {
                errors.push("only one mailto link is allowed".to_owned());
            } else {
                has_mailto = true;
                links.push(link.to_owned());
            }
        } else if has_scheme_then_alnum(link, "http://") || has_scheme_then_alnum(link, "https://")
        {
            if has_http {
                errors.push("only one http(s) link is allowed".to_owned());
            } else {
                has_http = true;
                links.push(link.to_owned());
            }
        } else {
            errors.push(format!("\"{link}\" is not a valid link"));
        }
    }
    (links, errors)
}

/// `link` starts with `scheme` (any case) followed by a letter or digit.
fn has_scheme_then_alnum(link: &str, scheme: &str) -> bool {
    link.get(..scheme.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(scheme))
        && link[scheme.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
}

/// Removes `( … )` comments (RFC 5322 §3.2.2), shortest match, no nesting.
fn strip_comments(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(open) = rest.find('(') {
        match rest[open..].find(')') {
            Some(len) => {
                out.push_str(&rest[..open]);
                rest = &rest[open + len + 1..];
            }
            None => break,
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailto_and_https() {
        let l = ListUnsubscribe::parse(
            "<mailto:unsub@example.com?subject=stop>, <https://example.com/u?id=1>",
            "List-Unsubscribe=One-Click",
        );
        assert_eq!(
            l.links,
            vec![
                "mailto:unsub@example.com?subject=stop",
                "https://example.com/u?id=1"
            ]
        );
        assert_eq!(l.errors, "");
        assert_eq!(l.header_post, "List-Unsubscribe=One-Click");
    }

    #[test]
    fn empty_header_is_no_error() {
        assert_eq!(ListUnsubscribe::parse("", ""), ListUnsubscribe::default());
    }

    #[test]
    fn missing_angle_brackets() {
        let l = ListUnsubscribe::parse("https://example.com/u", "");
        assert!(l.links.is_empty());
        assert_eq!(l.errors, "\"https://example.com/u\" no angle brackets");
    }

    #[test]
    fn comments_are_ignored() {
        let l = ListUnsubscribe::parse("<https://e.com/u> (click here)", "");
        assert_eq!(l.links, vec!["https://e.com/u"]);
        assert_eq!(l.errors, "");
    }

    #[test]
    fn reports_every_problem() {
        let l = ListUnsubscribe::parse(
            "<https://a.com/1> ; <https://b.com/2>, <ftp://c>, <mailto:a b@c>, <>",
            "",
        );
        assert_eq!(l.links, vec!["https://a.com/1"]);
        assert_eq!(
            l.errors,
            "\" ; \" is not a valid separator, only one http(s) link is allowed, \
\"ftp://c\" is not a valid link, \"mailto:a b@c\" contains spaces, link is empty"
        );
    }
}
