//! The client side of SMTP that the benchmark needs: one buffered connection
//! and a reply reader that understands multi-line replies (RFC 5321 §4.2.1).

use std::fmt;
use std::net::SocketAddr;

use anyhow::{Context, Result, bail, ensure};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, BufWriter};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

/// Envelope sender of every benchmark message (smtp-source `-f` and our client).
pub const SENDER: &str = "bench@example.com";
/// Envelope recipient of every benchmark message (smtp-source `-t` and our client).
pub const RECIPIENT: &str = "sink@example.com";
/// Name the clients announce in HELO/EHLO. Fixed so that smtp-source does not
/// look up the machine's hostname.
pub const CLIENT_NAME: &str = "bench.local";

/// Longest reply line accepted. RFC 5321 §4.5.3.1.5 allows 512 octets; the
/// slack tolerates chatty servers while still bounding memory.
const MAX_LINE_BYTES: u64 = 4096;
/// Most lines accepted in one reply; an EHLO reply has about a dozen.
const MAX_REPLY_LINES: usize = 100;
/// Write buffer per connection: large enough that a command batch plus a 1 KB
/// message goes out in one write, small enough for many connections.
const WRITE_BUFFER_BYTES: usize = 64 * 1024;

/// One complete (possibly multi-line) SMTP reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    /// The text of each line, without the code and separator.
    pub lines: Vec<String>,
}

impl Reply {
    /// 2xx: the command completed.
    pub fn is_completion(&self) -> bool {
        (200..300).contains(&self.code)
    }

    /// The extension keywords of an EHLO reply (every line after the first),
    /// upper-cased because keywords are case-insensitive.
    pub fn ehlo_keywords(&self) -> Vec<String> {
        self.lines
            .iter()
            .skip(1)
            .filter_map(|line| line.split_whitespace().next())
            .map(str::to_ascii_uppercase)
            .collect()
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let first = self.lines.first().map_or("", String::as_str);
        write!(f, "{} {}", self.code, first)
    }
}

/// Splits one reply line into its code, whether more lines follow (`250-`),
/// and its text. Accepts the line with or without its CRLF.
pub fn parse_reply_line(line: &str) -> Result<(u16, bool, &str)> {
    let line = line.trim_end_matches(['\r', '\n']);
    let digits = line
        .get(..3)
        .filter(|d| d.bytes().all(|b| b.is_ascii_digit()));
    let Some(digits) = digits else {
        bail!("malformed SMTP reply line {line:?}");
    };
    let code: u16 = digits
        .parse()
        .with_context(|| format!("reply code in {line:?}"))?;
    ensure!(
        (200..600).contains(&code),
        "SMTP reply code out of range in {line:?}"
    );
    match line.as_bytes().get(3) {
        None => Ok((code, false, "")),
        Some(b' ') => Ok((code, false, &line[4..])),
        Some(b'-') => Ok((code, true, &line[4..])),
        Some(_) => bail!("malformed SMTP reply line {line:?}"),
    }
}

/// Reads one complete reply, following `NNN-` continuation lines.
pub async fn read_reply<R: AsyncBufRead + Unpin>(reader: &mut R) -> Result<Reply> {
    let mut code = None;
    let mut lines = Vec::new();
    let mut buf = Vec::new();
    for _ in 0..MAX_REPLY_LINES {
        buf.clear();
        let read = (&mut *reader)
            .take(MAX_LINE_BYTES)
            .read_until(b'\n', &mut buf)
            .await
            .context("reading an SMTP reply")?;
        ensure!(read > 0, "the server closed the connection");
        ensure!(
            buf.ends_with(b"\n"),
            "SMTP reply line cut short or longer than {MAX_LINE_BYTES} bytes"
        );
        let text = String::from_utf8_lossy(&buf);
        let (line_code, more, rest) = parse_reply_line(&text)?;
        let first_code = *code.get_or_insert(line_code);
        ensure!(
            line_code == first_code,
            "reply lines disagree on the code: {first_code} then {line_code}"
        );
        lines.push(rest.to_owned());
        if !more {
            return Ok(Reply {
                code: first_code,
                lines,
            });
        }
    }
    bail!("SMTP reply longer than {MAX_REPLY_LINES} lines")
}

/// A client connection with buffered reads and writes. Writes stay in the
/// buffer until [`Connection::flush`], which is what lets callers pipeline.
pub struct Connection {
    reader: BufReader<OwnedReadHalf>,
    writer: BufWriter<OwnedWriteHalf>,
}

impl Connection {
    /// Connects and returns the connection with the server's greeting.
    pub async fn open(addr: SocketAddr) -> Result<(Self, Reply)> {
        let stream = TcpStream::connect(addr)
            .await
            .with_context(|| format!("connecting to {addr}"))?;
        // We flush whole batches ourselves; Nagle's algorithm would only hold
        // a small batch back until the previous segment is acknowledged.
        stream.set_nodelay(true).context("setting TCP_NODELAY")?;
        let (read, write) = stream.into_split();
        let mut conn = Self {
            reader: BufReader::new(read),
            writer: BufWriter::with_capacity(WRITE_BUFFER_BYTES, write),
        };
        let greeting = conn.reply().await.context("reading the greeting")?;
        Ok((conn, greeting))
    }

    /// Queues bytes; nothing is sent before [`Connection::flush`] unless the
    /// buffer fills.
    pub async fn send(&mut self, bytes: &[u8]) -> Result<()> {
        self.writer.write_all(bytes).await.context("sending")
    }

    pub async fn flush(&mut self) -> Result<()> {
        self.writer.flush().await.context("sending")
    }

    pub async fn reply(&mut self) -> Result<Reply> {
        read_reply(&mut self.reader).await
    }

    /// Sends one command line (without CRLF) and waits for its reply.
    pub async fn command(&mut self, line: &str) -> Result<Reply> {
        self.send(line.as_bytes()).await?;
        self.send(b"\r\n").await?;
        self.flush().await?;
        self.reply()
            .await
            .with_context(|| format!("reply to {line}"))
    }

    /// Says EHLO and returns the reply, failing unless it is a 250.
    pub async fn ehlo(&mut self) -> Result<Reply> {
        let reply = self.command(&format!("EHLO {CLIENT_NAME}")).await?;
        ensure!(reply.code == 250, "EHLO refused: {reply}");
        Ok(reply)
    }

    /// Ends the session politely. Errors are ignored: by now the work this
    /// connection was for is done and counted.
    pub async fn quit(mut self) {
        let _ = self.command("QUIT").await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_last_and_continuation_lines() -> Result<()> {
        assert_eq!(
            parse_reply_line("250 2.0.0 Ok\r\n")?,
            (250, false, "2.0.0 Ok")
        );
        assert_eq!(
            parse_reply_line("250-PIPELINING")?,
            (250, true, "PIPELINING")
        );
        assert_eq!(parse_reply_line("250 \r\n")?, (250, false, ""));
        assert_eq!(parse_reply_line("354")?, (354, false, ""));
        Ok(())
    }

    #[test]
    fn rejects_malformed_lines() {
        for line in ["", "25", "2x0 Ok", "250+Ok", "150 too low", "250\u{e9}"] {
            assert!(parse_reply_line(line).is_err(), "accepted {line:?}");
        }
    }

    #[tokio::test]
    async fn reads_a_multi_line_reply_and_stops_at_its_end() -> Result<()> {
        let mut input: &[u8] = b"250-mail.test\r\n250-PIPELINING\r\n250 chunking\r\n354 go\r\n";
        let ehlo = read_reply(&mut input).await?;
        assert_eq!(ehlo.code, 250);
        assert_eq!(ehlo.ehlo_keywords(), ["PIPELINING", "CHUNKING"]);
        let next = read_reply(&mut input).await?;
        assert_eq!(next.code, 354);
        Ok(())
    }

    #[tokio::test]
    async fn rejects_mixed_codes_and_truncation() {
        let mut mixed: &[u8] = b"250-a\r\n251 b\r\n";
        assert!(read_reply(&mut mixed).await.is_err());
        let mut truncated: &[u8] = b"250-a\r\n250 b";
        assert!(read_reply(&mut truncated).await.is_err());
        let mut empty: &[u8] = b"";
        assert!(read_reply(&mut empty).await.is_err());
    }
}
