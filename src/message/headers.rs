//! The top-level headers of a stored message as Mailpit's
//! `GET /api/v1/message/{ID}/headers` returns them: Go's `textproto` reading of
//! the header block, keys canonicalised, values raw.

use std::collections::BTreeMap;

/// Every top-level header: keys in Go's canonical form (`Message-Id`), values
/// as sent (RFC 2047 words left encoded), folded lines joined with one space,
/// repeated headers in message order. A `BTreeMap` gives the alphabetical key
/// order Mailpit emits.
///
/// Reading stops at the first empty line. Where Go would reject the whole block
/// (a line without a colon, a continuation before any header) that line is
/// skipped instead: the message was accepted and its other headers still count.
pub fn headers(raw: &[u8]) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current: Option<(&[u8], Vec<u8>)> = None;
    for line in raw.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        if matches!(line[0], b' ' | b'\t') {
            // Go's readContinuedLineSlice: each continuation line is trimmed
            // and joined to the value with a single space.
            if let Some((_, value)) = current.as_mut() {
                value.push(b' ');
                value.extend_from_slice(trim(line));
            }
            continue;
        }
        if let Some((key, value)) = current.take() {
            insert(&mut map, key, &value);
        }
        if let Some(colon) = line.iter().position(|&b| b == b':') {
            current = Some((&line[..colon], trim(&line[colon + 1..]).to_vec()));
        }
    }
    if let Some((key, value)) = current {
        insert(&mut map, key, &value);
    }
    map
}

/// The first value of header `name` (any case), as [`headers`] reads it.
pub fn first<'a>(map: &'a BTreeMap<String, Vec<String>>, name: &str) -> Option<&'a str> {
    map.get(&canonical_key(name.as_bytes()))
        .and_then(|values| values.first())
        .map(String::as_str)
}

fn insert(map: &mut BTreeMap<String, Vec<String>>, key: &[u8], value: &[u8]) {
    if key.is_empty() {
        return;
    }
    map.entry(canonical_key(key))
        .or_default()
        .push(String::from_utf8_lossy(value).into_owned());
}

/// Go's `textproto.CanonicalMIMEHeaderKey`: the first letter and every letter
/// after a '-' upper case, the rest lower case. A key holding a byte that is
/// not an RFC 7230 token character (a space, say) is returned unchanged.
pub fn canonical_key(key: &[u8]) -> String {
    if !key.iter().all(|&b| is_token_byte(b)) {
        return String::from_utf8_lossy(key).into_owned();
    }
    let mut upper = true;
    let mut out = String::with_capacity(key.len());
    for &b in key {
        let c = if upper {
            b.to_ascii_uppercase()
        } else {
            b.to_ascii_lowercase()
        };
        out.push(char::from(c));
        upper = b == b'-';
    }
    out
}

/// RFC 7230 `tchar`.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Trims spaces and tabs at both ends, as Go's textproto does.
fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(start, |i| i + 1);
    &bytes[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAIL: &[u8] = b"Return-Path: <bounce@example.com>\r\n\
Received: from a by b;\r\n\tMon, 23 Nov 2026 10:00:00 +0000\r\n\
Received: from c by d; Mon, 23 Nov 2026 09:59:00 +0000\r\n\
MESSAGE-ID: <abc@example.com>\r\n\
mime-version: 1.0\r\n\
DKIM-Signature: v=1; a=rsa-sha256;\r\n   d=example.com; s=sel;\r\n  b=abc\r\n\
x-mailer:   Thing 1.0   \r\n\
Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n\
Bad Key: kept\r\n\
no colon here\r\n\
X-Empty:\r\n\
\r\n\
Not-A-Header: body\r\n";

    #[test]
    fn reads_like_go_textproto() {
        let h = headers(MAIL);
        let keys: Vec<&str> = h.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            vec![
                "Bad Key",
                "Dkim-Signature",
                "Message-Id",
                "Mime-Version",
                "Received",
                "Return-Path",
                "Subject",
                "X-Empty",
                "X-Mailer"
            ]
        );
        assert_eq!(
            h["Received"],
            vec![
                "from a by b; Mon, 23 Nov 2026 10:00:00 +0000",
                "from c by d; Mon, 23 Nov 2026 09:59:00 +0000"
            ]
        );
        assert_eq!(
            h["Dkim-Signature"],
            vec!["v=1; a=rsa-sha256; d=example.com; s=sel; b=abc"]
        );
        assert_eq!(h["X-Mailer"], vec!["Thing 1.0"]);
        assert_eq!(h["Subject"], vec!["=?UTF-8?Q?Gr=C3=BC=C3=9Fe?="]);
        assert_eq!(h["X-Empty"], vec![""]);
        assert_eq!(h["Bad Key"], vec!["kept"]);
    }

    #[test]
    fn bare_lf_and_no_body() {
        let h = headers(b"To: a@b\nSubject: hi\n  there");
        assert_eq!(h["Subject"], vec!["hi there"]);
        assert_eq!(h["To"], vec!["a@b"]);
    }

    #[test]
    fn canonical_keys() {
        assert_eq!(canonical_key(b"content-TYPE"), "Content-Type");
        assert_eq!(canonical_key(b"x-ms-exchange-x"), "X-Ms-Exchange-X");
        assert_eq!(canonical_key(b"arc-seal"), "Arc-Seal");
        assert_eq!(canonical_key(b"Weird Key"), "Weird Key");
        assert_eq!(canonical_key(b"x_1"), "X_1");
    }

    #[test]
    fn first_value_by_any_case() {
        let h = headers(MAIL);
        assert_eq!(first(&h, "return-path"), Some("<bounce@example.com>"));
        assert_eq!(first(&h, "List-Unsubscribe"), None);
    }

    #[test]
    fn garbage_gives_what_it_can() {
        assert!(headers(b"").is_empty());
        assert!(headers(b"\r\n\r\nbody").is_empty());
        assert!(headers(b"  leading continuation\r\n").is_empty());
    }
}
