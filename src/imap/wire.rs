//! The IMAP connection: bytes in through imap-codec's fragmentizer (lines
//! and literals, with their size limits), commands decoded by imap-codec, and
//! responses encoded by imap-codec into a buffer sent when the session waits.

use std::time::Duration;

use imap_codec::fragmentizer::{FragmentInfo, Fragmentizer};
use imap_codec::imap_types::IntoStatic;
use imap_codec::imap_types::command::Command;
use imap_codec::imap_types::core::{LiteralMode, Tag};
use imap_codec::imap_types::response::{Greeting, Response};
use imap_codec::{CommandCodec, GreetingCodec, ResponseCodec, encode::Encoder};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

use crate::net::conn::Interrupt;

/// Longest command line, literals aside. Long UID sets make long lines.
pub(crate) const MAX_LINE: usize = 64 * 1024;

/// What the client sent.
pub(crate) enum Input {
    Command(Command<'static>),
    /// Unusable input, already skipped; the reply is for the session to send.
    Bad {
        tag: Option<Tag<'static>>,
        reason: Bad,
    },
}

/// Why input was unusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bad {
    /// Not a command imap-codec can decode.
    Syntax,
    /// A line over [`MAX_LINE`].
    LineTooLong,
    /// A synchronizing literal over the limit: refused before it was sent.
    LiteralRefused,
    /// A non-synchronizing literal (LITERAL+) over the limit: read and dropped.
    LiteralTooBig,
}

pub(crate) struct Wire<S> {
    stream: S,
    fragments: Fragmentizer,
    out: Vec<u8>,
    idle_timeout: Duration,
    cancel: CancellationToken,
    max_literal: u32,
    /// Where the line being read starts in the current message.
    line_start: usize,
    /// The next fragment is a literal (the line before announced one).
    in_literal: bool,
    /// A line over the limit is being skipped up to its end.
    discarding: bool,
    /// The current message's literal was over the limit.
    too_big: bool,
    read_buf: Vec<u8>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Wire<S> {
    pub(crate) fn new(
        stream: S,
        idle_timeout: Duration,
        cancel: CancellationToken,
        max_literal: u32,
    ) -> Self {
        Self {
            stream,
            fragments: fragmentizer(max_literal),
            out: Vec::with_capacity(4096),
            idle_timeout,
            cancel,
            max_literal,
            line_start: 0,
            in_literal: false,
            discarding: false,
            too_big: false,
            read_buf: vec![0; 16 * 1024],
        }
    }

    /// Gives the stream back for STARTTLS. Bytes pipelined after the command
    /// are dropped on purpose (RFC 3501 §6.2.1: they must not cross into TLS).
    pub(crate) fn into_stream(self) -> S {
        self.stream
    }

    /// Queues a greeting.
    pub(crate) fn greet(&mut self, greeting: &Greeting<'_>) {
        self.out
            .extend_from_slice(&GreetingCodec::default().encode(greeting).dump());
    }

    /// Queues a response.
    pub(crate) fn send(&mut self, response: &Response<'_>) {
        self.out
            .extend_from_slice(&ResponseCodec::default().encode(response).dump());
    }

    /// Queues raw protocol bytes (continuation requests, built responses).
    pub(crate) fn send_raw(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    /// Sends what is queued once it is large (a long FETCH).
    pub(crate) async fn flush_if_large(&mut self) -> std::io::Result<()> {
        if self.out.len() >= 256 * 1024 {
            self.flush().await?;
        }
        Ok(())
    }

    pub(crate) async fn flush(&mut self) -> std::io::Result<()> {
        if !self.out.is_empty() {
            self.stream.write_all(&self.out).await?;
            self.out.clear();
        }
        self.stream.flush().await
    }

    pub(crate) async fn close(mut self) -> std::io::Result<()> {
        self.flush().await?;
        self.stream.shutdown().await
    }

    /// Whether input the client pipelined is waiting.
    pub(crate) fn has_input(&self) -> bool {
        !self.fragments.message_bytes().is_empty() || self.pending_bytes()
    }

    fn pending_bytes(&self) -> bool {
        // The fragmentizer holds unparsed bytes only until progress() runs.
        let mut probe = self.fragments.clone();
        probe.progress().is_some()
    }

    /// Reads once from the client, flushing replies first.
    pub(crate) async fn fill(&mut self) -> Result<(), Interrupt> {
        self.flush().await?;
        let read = tokio::select! {
            biased;
            () = self.cancel.cancelled() => return Err(Interrupt::Shutdown),
            read = tokio::time::timeout(self.idle_timeout, self.stream.read(&mut self.read_buf)) => read,
        };
        let n = match read {
            Err(_) => return Err(Interrupt::Timeout),
            Ok(Ok(0)) => return Err(Interrupt::Eof),
            Ok(Ok(n)) => n,
            Ok(Err(e)) => return Err(Interrupt::Io(e)),
        };
        self.take(n);
        Ok(())
    }

    /// Hands `n` read bytes to the fragmentizer, dropping the rest of an
    /// over-long line.
    fn take(&mut self, n: usize) {
        let mut bytes = &self.read_buf[..n];
        if self.discarding {
            match memchr::memchr(b'\n', bytes) {
                Some(end) => {
                    self.discarding = false;
                    bytes = &bytes[end + 1..];
                }
                None => return,
            }
        }
        self.fragments.enqueue_bytes(bytes);
    }

    /// Reads the next command. Literals are accepted with a continuation
    /// request (or without one for LITERAL+) up to the size limit.
    pub(crate) async fn command(&mut self) -> Result<Input, Interrupt> {
        loop {
            if let Some(input) = self.next_message(true)? {
                return Ok(match input {
                    Message::Complete => self.decode(),
                    Message::Refused(tag, reason) => Input::Bad { tag, reason },
                });
            }
            self.fill().await?;
        }
    }

    /// Reads the next line that is not a command (an AUTHENTICATE response,
    /// IDLE's DONE), without its line ending. None when it was too long.
    pub(crate) async fn line(&mut self) -> Result<Option<Vec<u8>>, Interrupt> {
        loop {
            if let Some(line) = self.try_line() {
                return Ok(line);
            }
            self.fill().await?;
        }
    }

    /// A line if one is complete in what was read.
    pub(crate) fn try_line(&mut self) -> Option<Option<Vec<u8>>> {
        match self.next_message(false).ok()?? {
            Message::Complete => {
                let mut line = self.fragments.message_bytes().to_vec();
                let too_long = self.fragments.is_max_message_size_exceeded();
                self.fragments.skip_message();
                while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                    line.pop();
                }
                Some((!too_long).then_some(line))
            }
            Message::Refused(..) => Some(None),
        }
    }

    /// Advances the fragmentizer; Some when a message is complete or refused.
    fn next_message(&mut self, literals: bool) -> Result<Option<Message>, Interrupt> {
        loop {
            let Some(fragment) = self.fragments.progress() else {
                if !self.in_literal
                    && self.fragments.message_bytes().len() - self.line_start > MAX_LINE
                {
                    let tag = self.fragments.decode_tag().map(IntoStatic::into_static);
                    self.reset();
                    self.discarding = true;
                    return Ok(Some(Message::Refused(tag, Bad::LineTooLong)));
                }
                return Ok(None);
            };
            match fragment {
                FragmentInfo::Line {
                    start,
                    end,
                    announcement,
                    ..
                } => {
                    if end - start > MAX_LINE {
                        let tag = self.fragments.decode_tag().map(IntoStatic::into_static);
                        self.reset();
                        return Ok(Some(Message::Refused(tag, Bad::LineTooLong)));
                    }
                    match announcement {
                        Some(literal) if literals => {
                            self.in_literal = true;
                            if literal.length > self.max_literal {
                                let tag = self.fragments.decode_tag().map(IntoStatic::into_static);
                                match literal.mode {
                                    LiteralMode::Sync => {
                                        // Refused before the client sends it.
                                        self.reset();
                                        return Ok(Some(Message::Refused(
                                            tag,
                                            Bad::LiteralRefused,
                                        )));
                                    }
                                    LiteralMode::NonSync => {
                                        // RFC 7888 §4: already on its way; read
                                        // and drop it (the fragmentizer keeps
                                        // no more than its limit).
                                        self.too_big = true;
                                        self.fragments.poison_message();
                                    }
                                }
                            } else if literal.mode == LiteralMode::Sync && !self.too_big {
                                self.out.extend_from_slice(b"+ Ready for literal data\r\n");
                            }
                        }
                        _ => {
                            self.line_start = 0;
                            self.in_literal = false;
                            return Ok(Some(Message::Complete));
                        }
                    }
                }
                FragmentInfo::Literal { end, .. } => {
                    self.in_literal = false;
                    self.line_start = end;
                }
            }
        }
    }

    fn reset(&mut self) {
        self.fragments.skip_message();
        self.line_start = 0;
        self.in_literal = false;
        self.too_big = false;
    }

    fn decode(&mut self) -> Input {
        let result = match self.fragments.decode_message(&CommandCodec::default()) {
            Ok(command) => Ok(command.into_static()),
            Err(_) => Err(self.fragments.decode_tag().map(IntoStatic::into_static)),
        };
        let reason = if std::mem::take(&mut self.too_big) {
            Bad::LiteralTooBig
        } else {
            Bad::Syntax
        };
        self.fragments.skip_message();
        match result {
            Ok(command) => Input::Command(command),
            Err(tag) => Input::Bad { tag, reason },
        }
    }
}

enum Message {
    Complete,
    Refused(Option<Tag<'static>>, Bad),
}

fn fragmentizer(max_literal: u32) -> Fragmentizer {
    // Room for the command lines around the largest literal.
    Fragmentizer::new(max_literal.saturating_add(MAX_LINE as u32 * 2))
}
