//! Helpers shared by the real-client tests (`clients_*.rs`): each of those sends
//! mail with a real SMTP client and checks what Mailsink stored.

use std::process::Output;

use mailsink::store::MessageMeta;

/// The stored `Received:` header, unfolded (its continuation lines joined).
pub fn received(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let mut lines = text.split("\r\n");
    let mut header = String::new();
    for line in lines.by_ref() {
        if line.starts_with("Received: ") {
            header.push_str(line);
            break;
        }
    }
    assert!(!header.is_empty(), "no Received header in {text:?}");
    for line in lines {
        match line.strip_prefix('\t') {
            Some(rest) => {
                header.push(' ');
                header.push_str(rest);
            }
            None => break,
        }
    }
    header
}

/// Asserts the trace header names `protocol` (RFC 3848), e.g. "ESMTPSA".
pub fn assert_protocol(raw: &[u8], protocol: &str) {
    let header = received(raw);
    assert!(
        header.contains(&format!(" with {protocol} id ")),
        "expected `with {protocol}` in {header:?}"
    );
}

/// Compares bytes without dumping megabytes on failure: reports the lengths
/// and the first difference with some context.
pub fn assert_same_bytes(actual: &[u8], expected: &[u8], what: &str) {
    if actual == expected {
        return;
    }
    let first = actual
        .iter()
        .zip(expected)
        .position(|(a, e)| a != e)
        .unwrap_or(actual.len().min(expected.len()));
    let window = |bytes: &[u8]| {
        let start = first.saturating_sub(40);
        let end = (first + 40).min(bytes.len());
        String::from_utf8_lossy(&bytes[start.min(end)..end]).into_owned()
    };
    panic!(
        "{what}: stored bytes differ from the sent bytes\n \
         lengths: actual {} expected {}\n \
         first difference at byte {first}\n   \
         actual: {:?}\n \
         expected: {:?}",
        actual.len(),
        expected.len(),
        window(actual),
        window(expected),
    );
}

/// A client's stdout and stderr, for failure messages.
pub fn transcript(output: &Output) -> String {
    format!(
        "exit status: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Asserts a command-line client reported success.
pub fn assert_success(output: &Output, client: &str) {
    assert!(
        output.status.success(),
        "{client} failed\n{}",
        transcript(output)
    );
}

/// The envelope recipient addresses, in RCPT order.
pub fn recipient_addresses(meta: &MessageMeta) -> Vec<&str> {
    meta.envelope
        .recipients
        .iter()
        .map(|r| r.address.as_str())
        .collect()
}

/// About `size` bytes of deterministic, random-looking printable lines, each
/// 76 characters plus CRLF. No line starts with a dot.
pub fn printable_lines(size: usize, seed: u64) -> Vec<u8> {
    const ALPHABET: &[u8] =
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 !#$%&()*+,-/:;<=>?@[]^_{|}~";
    let mut state = seed | 1;
    let mut out = Vec::with_capacity(size + 80);
    while out.len() < size {
        for _ in 0..76 {
            // xorshift64*
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            let n = state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33;
            out.push(ALPHABET[(n % ALPHABET.len() as u64) as usize]);
        }
        out.extend_from_slice(b"\r\n");
    }
    out
}
