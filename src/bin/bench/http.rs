//! The client side of HTTP/1.1 that the API benchmark needs: GET requests
//! over one keep-alive connection, with bodies framed by `Content-Length`,
//! chunked transfer coding or the end of the connection (RFC 9112 §6).

use std::net::SocketAddr;

use anyhow::{Context, Result, bail, ensure};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Longest status or header line accepted.
const MAX_LINE_BYTES: u64 = 8 * 1024;
/// Most header lines accepted in one response.
const MAX_HEADERS: usize = 100;
/// Largest body accepted: far above any page the benchmark asks for.
const MAX_BODY_BYTES: u64 = 256 * 1024 * 1024;

/// One response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Response {
    /// The body as text, for checks and error messages.
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }
}

/// A client for one server that keeps its connection open between requests.
pub struct Client {
    addr: SocketAddr,
    conn: Option<BufReader<TcpStream>>,
    /// Connections opened so far, the first included.
    connections: u64,
}

impl Client {
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            conn: None,
            connections: 0,
        }
    }

    /// Connections opened so far: 1 if keep-alive held throughout.
    pub fn connections(&self) -> u64 {
        self.connections
    }

    /// Sends `GET target` and reads the whole response. A kept-alive
    /// connection that the server closed in the meantime is replaced once;
    /// any other failure drops the connection, so the next request starts
    /// on a fresh one.
    pub async fn get(&mut self, target: &str) -> Result<Response> {
        let reused = self.conn.is_some();
        let result = match self.exchange(target).await {
            Ok(None) if reused => self.exchange(target).await,
            other => other,
        };
        match result {
            Ok(Some((response, keep_alive))) => {
                if !keep_alive {
                    self.conn = None;
                }
                Ok(response)
            }
            Ok(None) => {
                self.conn = None;
                bail!("the server closed the connection without answering")
            }
            Err(error) => {
                self.conn = None;
                Err(error)
            }
        }
    }

    /// One request and its response, on the open connection or a new one.
    /// `None` means the connection closed before the first byte of the
    /// response, which is what a stale kept-alive connection does.
    async fn exchange(&mut self, target: &str) -> Result<Option<(Response, bool)>> {
        let conn = match &mut self.conn {
            Some(conn) => conn,
            None => {
                let stream = TcpStream::connect(self.addr)
                    .await
                    .with_context(|| format!("connecting to {}", self.addr))?;
                stream.set_nodelay(true).context("setting TCP_NODELAY")?;
                self.connections += 1;
                self.conn.insert(BufReader::new(stream))
            }
        };
        let request = format!(
            "GET {target} HTTP/1.1\r\nHost: {}\r\nAccept: application/json\r\n\
             Connection: keep-alive\r\n\r\n",
            self.addr
        );
        let sent = conn.get_mut().write_all(request.as_bytes()).await;
        if sent.is_err() {
            // A closed connection can fail the write as well as the read.
            self.conn = None;
            return Ok(None);
        }
        let response = read_response(conn).await;
        if matches!(response, Ok(None)) {
            self.conn = None;
        }
        response
    }
}

/// Reads one response: `None` if the input ends before it starts, else the
/// response and whether the connection may carry another request.
pub async fn read_response<R: AsyncBufRead + Unpin>(
    reader: &mut R,
) -> Result<Option<(Response, bool)>> {
    let Some(status_line) = read_line(reader, true).await? else {
        return Ok(None);
    };
    let (version, status) = parse_status_line(&status_line)?;
    // HTTP/1.1 keeps the connection by default, HTTP/1.0 closes it.
    let mut keep_alive = version == "HTTP/1.1";
    let mut length = None;
    let mut chunked = false;
    let mut headers = 0;
    loop {
        let line = read_line(reader, false)
            .await?
            .context("the response ended in its header")?;
        if line.is_empty() {
            break;
        }
        headers += 1;
        ensure!(
            headers <= MAX_HEADERS,
            "more than {MAX_HEADERS} header lines"
        );
        let (name, value) = line
            .split_once(':')
            .with_context(|| format!("malformed header line {line:?}"))?;
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => {
                let parsed: u64 = value
                    .parse()
                    .with_context(|| format!("Content-Length {value:?}"))?;
                length = Some(parsed);
            }
            "transfer-encoding" => {
                chunked = value
                    .rsplit(',')
                    .next()
                    .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"));
            }
            "connection" => {
                for option in value.split(',').map(str::trim) {
                    if option.eq_ignore_ascii_case("close") {
                        keep_alive = false;
                    } else if option.eq_ignore_ascii_case("keep-alive") {
                        keep_alive = true;
                    }
                }
            }
            _ => {}
        }
    }
    // 1xx, 204 and 304 have no body (RFC 9112 §6.3); the benchmark sends
    // no HEAD requests.
    let bodiless = status < 200 || status == 204 || status == 304;
    let body = if bodiless {
        Vec::new()
    } else if chunked {
        read_chunked(reader).await?
    } else if let Some(length) = length {
        ensure!(
            length <= MAX_BODY_BYTES,
            "body of {length} bytes is over the limit"
        );
        let mut body = Vec::with_capacity(usize::try_from(length).unwrap_or(0));
        (&mut *reader)
            .take(length)
            .read_to_end(&mut body)
            .await
            .context("reading the body")?;
        ensure!(
            body.len() as u64 == length,
            "the body ended after {} of {length} bytes",
            body.len()
        );
        body
    } else {
        // Framed by the end of the connection.
        keep_alive = false;
        let mut body = Vec::new();
        (&mut *reader)
            .take(MAX_BODY_BYTES)
            .read_to_end(&mut body)
            .await
            .context("reading the body")?;
        body
    };
    Ok(Some((Response { status, body }, keep_alive)))
}

/// `HTTP/1.1 200 OK` as its version and status code.
fn parse_status_line(line: &str) -> Result<(&str, u16)> {
    let mut parts = line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    let code = parts.next().unwrap_or_default();
    ensure!(
        version.starts_with("HTTP/1."),
        "not an HTTP/1 status line: {line:?}"
    );
    let status: u16 = code
        .parse()
        .ok()
        .filter(|status| (100..1000).contains(status))
        .with_context(|| format!("bad status code in {line:?}"))?;
    Ok((version, status))
}

/// A chunked body (RFC 9112 §7.1), trailers read and ignored.
async fn read_chunked<R: AsyncBufRead + Unpin>(reader: &mut R) -> Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line = read_line(reader, false)
            .await?
            .context("the body ended before its last chunk")?;
        let size_text = line.split(';').next().unwrap_or_default().trim();
        let size = u64::from_str_radix(size_text, 16)
            .with_context(|| format!("bad chunk size line {line:?}"))?;
        if size == 0 {
            break;
        }
        ensure!(
            body.len() as u64 + size <= MAX_BODY_BYTES,
            "chunked body over the limit"
        );
        let before = body.len();
        (&mut *reader)
            .take(size)
            .read_to_end(&mut body)
            .await
            .context("reading a chunk")?;
        ensure!((body.len() - before) as u64 == size, "a chunk ended early");
        let end = read_line(reader, false).await?;
        ensure!(end.as_deref() == Some(""), "no CRLF after a chunk: {end:?}");
    }
    // Trailer fields, up to the empty line.
    for _ in 0..=MAX_HEADERS {
        let line = read_line(reader, false)
            .await?
            .context("the body ended in its trailer")?;
        if line.is_empty() {
            return Ok(body);
        }
    }
    bail!("more than {MAX_HEADERS} trailer lines")
}

/// One line without its CRLF (or bare LF). `None` at the end of the input
/// if `may_end` (before a response); otherwise the end is an error.
async fn read_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    may_end: bool,
) -> Result<Option<String>> {
    let mut buf = Vec::new();
    let read = (&mut *reader)
        .take(MAX_LINE_BYTES)
        .read_until(b'\n', &mut buf)
        .await
        .context("reading the response")?;
    if read == 0 {
        ensure!(may_end, "the connection closed mid-response");
        return Ok(None);
    }
    ensure!(
        buf.ends_with(b"\n"),
        "response line cut short or longer than {MAX_LINE_BYTES} bytes"
    );
    buf.pop();
    if buf.ends_with(b"\r") {
        buf.pop();
    }
    String::from_utf8(buf)
        .map(Some)
        .context("a response line is not UTF-8")
}

/// `text` percent-encoded for a query string: everything but RFC 3986's
/// unreserved characters is escaped.
pub fn encode_query_value(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn parse(input: &[u8]) -> Result<Option<(Response, bool)>> {
        let mut reader = input;
        read_response(&mut reader).await
    }

    #[tokio::test]
    async fn reads_bodies_by_length_and_keeps_the_connection() -> Result<()> {
        let mut input: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
            content-length: 2\r\n\r\n{}HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
        let (first, keep) = read_response(&mut input).await?.expect("a response");
        assert_eq!(
            (first.status, first.body.as_slice(), keep),
            (200, &b"{}"[..], true)
        );
        let (second, _) = read_response(&mut input).await?.expect("a response");
        assert_eq!((second.status, second.body.len()), (404, 0));
        assert!(read_response(&mut input).await?.is_none());
        Ok(())
    }

    #[tokio::test]
    async fn reads_chunked_bodies_with_extensions_and_trailers() -> Result<()> {
        let input = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
            5;x=y\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: 1\r\n\r\n";
        let (response, keep) = parse(input).await?.expect("a response");
        assert_eq!(response.text(), "hello, world");
        assert!(keep);
        Ok(())
    }

    #[tokio::test]
    async fn honours_connection_close_and_unframed_bodies() -> Result<()> {
        let closing = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx";
        let (_, keep) = parse(closing).await?.expect("a response");
        assert!(!keep);
        let unframed = b"HTTP/1.0 200 OK\r\n\r\nto the end";
        let (response, keep) = parse(unframed).await?.expect("a response");
        assert_eq!((response.text().as_ref(), keep), ("to the end", false));
        Ok(())
    }

    #[tokio::test]
    async fn rejects_truncated_and_malformed_responses() {
        for input in [
            &b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc"[..],
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabc",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"SMTP 220 hello\r\n\r\n",
            b"HTTP/1.1 2x0 OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
        ] {
            assert!(parse(input).await.is_err(), "accepted {input:?}");
        }
    }

    #[test]
    fn encodes_query_values() {
        assert_eq!(
            encode_query_value("to:user42@example.com"),
            "to%3Auser42%40example.com"
        );
        assert_eq!(encode_query_value("a b\"ü"), "a%20b%22%C3%BC");
    }
}
