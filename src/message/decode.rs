//! Undoing a Content-Transfer-Encoding (RFC 2045 §6) the forgiving way mail
//! readers do. mail-parser's own decoders give up on the first bad character,
//! and real mail has plenty: an unescaped '=' in quoted-printable, a stray
//! character or missing padding in base64.

/// Quoted-printable to bytes. `=XX` is a byte, `=` at a line end joins lines,
/// spaces and tabs before a line end are transport padding and dropped, and a
/// '=' that starts neither (as in an unencoded `?id=7&x=1`) is kept as is, as
/// enmime's cleaner does. Line ends are kept as they are.
pub fn quoted_printable(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        let b = input[i];
        match b {
            b'=' => {
                let hex = input
                    .get(i + 1..i + 3)
                    .and_then(|h| Some(hex_value(h[0])? << 4 | hex_value(h[1])?));
                if let Some(byte) = hex {
                    out.push(byte);
                    i += 3;
                } else if let Some(after) = soft_break(&input[i + 1..]) {
                    i += 1 + after;
                } else {
                    out.push(b'=');
                    i += 1;
                }
            }
            b' ' | b'\t' if line_end_follows(&input[i..]) => {
                // Padding before a hard line break (RFC 2045 §6.7 rule 3).
                while i < input.len() && matches!(input[i], b' ' | b'\t') {
                    i += 1;
                }
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// Base64 to bytes: characters outside the alphabet (line breaks, spaces,
/// stray punctuation) are skipped, decoding stops at the first '=', and a
/// final partial group gives the bytes it holds.
pub fn base64(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() / 4 * 3);
    let mut group: u32 = 0;
    let mut count = 0;
    for &b in input {
        if b == b'=' {
            break;
        }
        let Some(value) = base64_value(b) else {
            continue;
        };
        group = group << 6 | u32::from(value);
        count += 1;
        if count == 4 {
            out.extend_from_slice(&group.to_be_bytes()[1..]);
            group = 0;
            count = 0;
        }
    }
    // Two leftover characters hold one byte, three hold two; one holds none.
    match count {
        2 => out.push((group >> 4) as u8),
        3 => out.extend_from_slice(&((group >> 2) as u16).to_be_bytes()),
        _ => {}
    }
    out
}

/// The length of `=`'s soft line break (optional padding, then CRLF or LF)
/// after the '=', when there is one.
fn soft_break(after_equals: &[u8]) -> Option<usize> {
    let padding = after_equals
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    match &after_equals[padding..] {
        [b'\r', b'\n', ..] => Some(padding + 2),
        [b'\n', ..] => Some(padding + 1),
        [] => Some(padding),
        _ => None,
    }
}

fn line_end_follows(from: &[u8]) -> bool {
    let rest = &from[from
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count()..];
    rest.is_empty() || rest.starts_with(b"\r\n") || rest.starts_with(b"\n")
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'A'..=b'F' => Some(b - b'A' + 10),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    }
}

fn base64_value(b: u8) -> Option<u8> {
    match b {
        b'A'..=b'Z' => Some(b - b'A'),
        b'a'..=b'z' => Some(b - b'a' + 26),
        b'0'..=b'9' => Some(b - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_printable_rules() {
        assert_eq!(quoted_printable(b"caf=E9 cr=e8me"), b"caf\xe9 cr\xe8me");
        assert_eq!(
            quoted_printable(b"soft =\r\nbreak=\nhere"),
            b"soft breakhere"
        );
        assert_eq!(
            quoted_printable(b"pad   \r\nnext\t\nend  "),
            b"pad\r\nnext\nend"
        );
        assert_eq!(quoted_printable(b"a=  \r\nb"), b"ab");
        assert_eq!(quoted_printable(b"== x"), b"== x");
    }

    #[test]
    fn quoted_printable_keeps_stray_equals() {
        assert_eq!(
            quoted_printable(b"https://x.test/?id=7&x=1 =G0 end="),
            b"https://x.test/?id=7&x=1 =G0 end"
        );
    }

    #[test]
    fn base64_rules() {
        assert_eq!(base64(b"aGVsbG8="), b"hello");
        assert_eq!(base64(b"aGVs\r\nbG8gd29y\r\nbGQ=\r\n"), b"hello world");
        assert_eq!(base64(b"aGVsbG8"), b"hello", "missing padding");
        assert_eq!(base64(b"aGV*sbG8=!"), b"hello", "stray characters");
        assert_eq!(base64(b"aGVsbA=="), b"hell");
        assert_eq!(base64(b""), b"");
        assert_eq!(base64(b"a"), b"");
    }
}
