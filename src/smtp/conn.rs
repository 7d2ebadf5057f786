//! SMTP's own reading on top of [`net::Conn`](crate::net::conn::Conn): DATA
//! up to the terminating dot, and BDAT chunks of exact length.

use bytes::Buf;
use smtp_proto::request::receiver::DataReceiver;
use tokio::io::{AsyncRead, AsyncWrite};

pub(crate) use crate::net::conn::{Conn, Interrupt, Line};

/// How a DATA body ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Body {
    /// All bytes were kept.
    Complete,
    /// More than the limit arrived; the rest was read and discarded.
    TooLarge,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    /// Reads a DATA body up to `CRLF.CRLF`, un-stuffing dots (RFC 5321 §4.5.2),
    /// appending to `out`. Past `max` bytes the rest is read and discarded.
    pub(crate) async fn data(&mut self, out: &mut Vec<u8>, max: usize) -> Result<Body, Interrupt> {
        let start = out.len();
        let mut receiver = DataReceiver::new();
        // The receiver only sees a terminating or stuffed dot after a CRLF it has
        // ingested itself; the DATA command's own CRLF precedes the first line.
        receiver.ingest(&mut b"\r\n".iter(), &mut Vec::new());
        let mut too_large = false;
        loop {
            let mut bytes = self.input.iter();
            let done = receiver.ingest(&mut bytes, out);
            let consumed = self.input.len() - bytes.as_slice().len();
            self.input.advance(consumed);
            if out.len() - start > max {
                too_large = true;
                // The receiver keeps its own state; the sink only collects.
                out.truncate(start);
            }
            if done {
                return Ok(if too_large {
                    out.truncate(start);
                    Body::TooLarge
                } else {
                    Body::Complete
                });
            }
            self.fill().await?;
        }
    }

    /// Reads exactly `len` bytes of a BDAT chunk, appending them to `out` when
    /// given (a refused chunk must still be read, RFC 3030 §3).
    pub(crate) async fn chunk(
        &mut self,
        mut len: usize,
        mut out: Option<&mut Vec<u8>>,
    ) -> Result<(), Interrupt> {
        loop {
            let take = len.min(self.input.len());
            if let Some(out) = out.as_deref_mut() {
                out.extend_from_slice(&self.input[..take]);
            }
            self.input.advance(take);
            len -= take;
            if len == 0 {
                return Ok(());
            }
            self.fill().await?;
        }
    }
}
