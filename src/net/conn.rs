//! A buffered line protocol connection, shared by SMTP and POP3: command lines
//! with a length limit, replies written in batches, and the idle timeout and
//! server shutdown as ordinary outcomes of waiting for input.
//!
//! Replies are buffered and sent only when the session is about to wait for
//! input, which is what pipelining (RFC 2920, RFC 2449) asks of a server: one
//! write per group of pipelined commands.

use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

/// Why the session has to stop reading.
#[derive(Debug)]
pub(crate) enum Interrupt {
    /// The client closed the connection.
    Eof,
    /// The client sent nothing for the idle timeout.
    Timeout,
    /// The server is shutting down.
    Shutdown,
    /// The connection failed.
    Io(std::io::Error),
}

impl From<std::io::Error> for Interrupt {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}

/// One command line as read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Line {
    /// The line, with its line ending.
    Complete(BytesMut),
    /// The line was longer than allowed; it has been discarded.
    TooLong,
}

pub(crate) struct Conn<S> {
    stream: S,
    pub(crate) input: BytesMut,
    output: Vec<u8>,
    idle_timeout: Duration,
    cancel: CancellationToken,
    /// A line over the limit is being skipped up to its end.
    discarding: bool,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    pub(crate) fn new(stream: S, idle_timeout: Duration, cancel: CancellationToken) -> Self {
        Self {
            stream,
            input: BytesMut::with_capacity(4096),
            output: Vec::with_capacity(512),
            idle_timeout,
            cancel,
            discarding: false,
        }
    }

    /// Gives the stream back, for STARTTLS. Input the client pipelined after the
    /// command is dropped on purpose: it arrived before TLS and must not be
    /// trusted after it (the STARTTLS command-injection attacks, RFC 3207 §4.2).
    pub(crate) fn into_stream(self) -> S {
        self.stream
    }

    /// Whether bytes the client sent are waiting to be read.
    pub(crate) fn has_input(&self) -> bool {
        !self.input.is_empty()
    }

    /// Queues a reply line (the CRLF is added).
    pub(crate) fn reply(&mut self, line: &str) {
        self.output.extend_from_slice(line.as_bytes());
        self.output.extend_from_slice(b"\r\n");
    }

    /// Queues raw bytes (a message being served), sending as the buffer fills.
    pub(crate) async fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.output.extend_from_slice(bytes);
        if self.output.len() >= 64 * 1024 {
            self.stream.write_all(&self.output).await?;
            self.output.clear();
        }
        Ok(())
    }

    /// Sends the queued replies.
    pub(crate) async fn flush(&mut self) -> std::io::Result<()> {
        if !self.output.is_empty() {
            self.stream.write_all(&self.output).await?;
            self.output.clear();
        }
        self.stream.flush().await
    }

    /// Sends the queued replies and closes the write side.
    pub(crate) async fn close(mut self) -> std::io::Result<()> {
        self.flush().await?;
        self.stream.shutdown().await
    }

    /// Reads more input, flushing replies first; fails on EOF, timeout or shutdown.
    pub(crate) async fn fill(&mut self) -> Result<(), Interrupt> {
        self.flush().await?;
        if self.input.capacity() - self.input.len() < 1024 {
            self.input.reserve(16 * 1024);
        }
        let read = tokio::select! {
            biased;
            () = self.cancel.cancelled() => return Err(Interrupt::Shutdown),
            read = tokio::time::timeout(self.idle_timeout, self.stream.read_buf(&mut self.input)) => read,
        };
        match read {
            Err(_) => Err(Interrupt::Timeout),
            Ok(Ok(0)) => Err(Interrupt::Eof),
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(Interrupt::Io(e)),
        }
    }

    /// Reads one line of at most `max` octets (line ending included).
    pub(crate) async fn line(&mut self, max: usize) -> Result<Line, Interrupt> {
        loop {
            if let Some(line) = self.take_line(max) {
                return Ok(line);
            }
            self.fill().await?;
        }
    }

    fn take_line(&mut self, max: usize) -> Option<Line> {
        match memchr::memchr(b'\n', &self.input) {
            Some(end) => {
                let line = self.input.split_to(end + 1);
                if std::mem::take(&mut self.discarding) || line.len() > max {
                    Some(Line::TooLong)
                } else {
                    Some(Line::Complete(line))
                }
            }
            None => {
                if self.input.len() > max {
                    // Keep memory bounded: drop what we have and skip to the line's end.
                    self.input.clear();
                    self.discarding = true;
                }
                None
            }
        }
    }
}
