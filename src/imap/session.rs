//! One IMAP session (RFC 3501 §3): the state machine from the greeting to
//! LOGOUT. Commands valid in any state and the not-authenticated ones are
//! here; folder commands are in [`folders`](super::folders) and the
//! selected-state ones in [`selected`](super::selected). Bad input is
//! answered with BAD or NO and the session goes on; only I/O ends it early.

use std::net::SocketAddr;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use imap_types::auth::AuthMechanism;
use imap_types::command::{Command, CommandBody};
use imap_types::core::{IString, NString, QuotedChar, Tag, Text};
use imap_types::extensions::namespace::Namespace;
use imap_types::response::{
    Code, CommandContinuationRequest, Data, Greeting, GreetingKind, Response,
};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::broadcast;

use super::Context;
use super::reply::{self, Kind, code};
use super::view::View;
use super::wire::{Bad, Input, Wire};
use crate::auth::{Exchange, Mechanism, Step};
use crate::net::conn::Interrupt;
use crate::net::starttls::Outcome;
use crate::store::{Owner, StoreEvent};

/// RFC 3501 §3's states; SELECTED holds the folder's view.
pub(super) enum State {
    NotAuthenticated,
    Authenticated { owner: Owner },
    Selected { owner: Owner, view: View },
}

pub(super) enum Next {
    Continue,
    Logout,
    StartTls,
}

/// How a command ends: its tagged status.
pub(super) struct Done {
    pub(super) kind: Kind,
    pub(super) code: Option<Code<'static>>,
    pub(super) text: String,
}

impl Done {
    pub(super) fn ok(text: impl Into<String>) -> Self {
        Self {
            kind: Kind::Ok,
            code: None,
            text: text.into(),
        }
    }

    pub(super) fn no(text: impl Into<String>) -> Self {
        Self {
            kind: Kind::No,
            code: None,
            text: text.into(),
        }
    }

    pub(super) fn bad(text: impl Into<String>) -> Self {
        Self {
            kind: Kind::Bad,
            code: None,
            text: text.into(),
        }
    }

    pub(super) fn with(mut self, code: Code<'static>) -> Self {
        self.code = Some(code);
        self
    }

    /// A store failure: the client may try again.
    pub(super) fn failed(error: &crate::store::Error) -> Self {
        tracing::error!(%error, "IMAP store access failed");
        Self::no("internal error, try again").with(code("SERVERBUG"))
    }
}

pub(crate) struct Session<S> {
    pub(super) wire: Wire<S>,
    pub(super) ctx: Arc<Context>,
    peer: SocketAddr,
    tls: bool,
    pub(super) state: State,
    events: broadcast::Receiver<StoreEvent>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Session<S> {
    pub(crate) fn new(stream: S, ctx: Arc<Context>, peer: SocketAddr, tls: bool) -> Self {
        let max_literal = u32::try_from(ctx.settings.max_message_size).unwrap_or(u32::MAX);
        let wire = Wire::new(
            stream,
            ctx.settings.idle_timeout,
            ctx.cancel.child_token(),
            max_literal,
        );
        let events = ctx.store.subscribe();
        Self {
            wire,
            ctx,
            peer,
            tls,
            state: State::NotAuthenticated,
            events,
        }
    }

    /// Serves the session. `greet` is false after STARTTLS (no new greeting).
    pub(crate) async fn run(mut self, greet: bool) -> std::io::Result<Outcome<S>> {
        if greet {
            let greeting = Greeting {
                kind: GreetingKind::Ok,
                code: Some(Code::Capability(reply::capabilities(self.tls))),
                text: Text::try_from("Mailsink IMAP server ready").expect("static text is valid"),
            };
            self.wire.greet(&greeting);
        }
        match self.serve().await {
            Ok(Next::StartTls) => {
                self.wire.flush().await?;
                Ok(Outcome::StartTls(self.wire.into_stream()))
            }
            Ok(Next::Logout | Next::Continue) => {
                self.wire.close().await?;
                Ok(Outcome::Closed)
            }
            Err(Interrupt::Io(e)) => Err(e),
            Err(Interrupt::Eof) => Ok(Outcome::Closed),
            Err(Interrupt::Timeout) => {
                // RFC 3501 §5.4: the autologout timer.
                self.wire.send(&reply::bye("autologout: idle for too long"));
                let _ = self.wire.close().await;
                Ok(Outcome::Closed)
            }
            Err(Interrupt::Shutdown) => {
                self.wire.send(&reply::bye("server shutting down"));
                let _ = self.wire.close().await;
                Ok(Outcome::Closed)
            }
        }
    }

    async fn serve(&mut self) -> Result<Next, Interrupt> {
        loop {
            let input = self.wire.command().await?;
            self.drain_events();
            let command = match input {
                Input::Command(command) => command,
                Input::Bad { tag, reason } => {
                    self.refuse(tag.as_ref(), reason);
                    continue;
                }
            };
            let next = self.command(command).await?;
            if !matches!(next, Next::Continue) {
                return Ok(next);
            }
        }
    }

    fn refuse(&mut self, tag: Option<&Tag<'static>>, reason: Bad) {
        let (kind, code, text) = match reason {
            Bad::Syntax => (Kind::Bad, None, "syntax error in command"),
            Bad::LineTooLong => (Kind::Bad, Some(reply::code("TOOBIG")), "line too long"),
            Bad::LiteralRefused => (Kind::No, Some(Code::TooBig), "literal too large"),
            Bad::LiteralTooBig => (
                Kind::Bad,
                Some(Code::TooBig),
                "non-synchronizing literal too large",
            ),
        };
        self.wire.send(&reply::status(tag, kind, code, text));
    }

    /// Takes the store events received so far into the selected view.
    fn drain_events(&mut self) {
        loop {
            match self.events.try_recv() {
                Ok(event) => {
                    if let State::Selected { owner, view } = &mut self.state {
                        view.note(owner, &event);
                    }
                }
                Err(broadcast::error::TryRecvError::Lagged(_)) => {
                    if let State::Selected { view, .. } = &mut self.state {
                        view.stale = super::view::Stale::All;
                    }
                }
                Err(_) => return,
            }
        }
    }

    /// Sends what changed in the selected folder.
    pub(super) async fn sync(&mut self, expunge: bool) {
        self.drain_events();
        let State::Selected { owner, view } = &mut self.state else {
            return;
        };
        match view.sync(&self.ctx.store, owner, expunge).await {
            Ok(responses) => {
                for response in &responses {
                    self.wire.send(response);
                }
            }
            Err(error) => tracing::warn!(%error, "cannot refresh an IMAP view"),
        }
    }

    async fn command(&mut self, command: Command<'static>) -> Result<Next, Interrupt> {
        let Command { tag, body } = command;
        // RFC 3501 §7.4.1: no EXPUNGE while FETCH, STORE or SEARCH run (their
        // UID forms are fine: UIDs do not shift).
        let expunge_ok = !matches!(
            body,
            CommandBody::Fetch { uid: false, .. }
                | CommandBody::Store { uid: false, .. }
                | CommandBody::Search { uid: false, .. }
        );
        let (done, next) = self.dispatch(&tag, body).await?;
        if matches!(next, Next::Continue) {
            self.sync(expunge_ok).await;
        }
        self.wire
            .send(&reply::status(Some(&tag), done.kind, done.code, &done.text));
        Ok(next)
    }

    async fn dispatch(
        &mut self,
        tag: &Tag<'static>,
        body: CommandBody<'static>,
    ) -> Result<(Done, Next), Interrupt> {
        let authenticated = !matches!(self.state, State::NotAuthenticated);
        let done = match body {
            CommandBody::Capability => {
                let caps = reply::capabilities(self.tls);
                self.wire.send(&Response::Data(Data::Capability(caps)));
                Done::ok("CAPABILITY completed")
            }
            CommandBody::Noop => Done::ok("NOOP completed"),
            CommandBody::Logout => {
                self.wire
                    .send(&reply::bye("Mailsink IMAP server signing off"));
                return Ok((Done::ok("LOGOUT completed"), Next::Logout));
            }
            CommandBody::Id { .. } => {
                let pair = |k: &'static str, v: &'static str| {
                    (
                        IString::try_from(k).expect("static strings are valid"),
                        NString(Some(
                            IString::try_from(v).expect("static strings are valid"),
                        )),
                    )
                };
                self.wire.send(&Response::Data(Data::Id {
                    parameters: Some(vec![
                        pair("name", "Mailsink"),
                        pair("version", env!("CARGO_PKG_VERSION")),
                    ]),
                }));
                Done::ok("ID completed")
            }
            CommandBody::StartTLS => {
                if self.tls {
                    Done::bad("TLS is already active")
                } else if authenticated {
                    Done::bad("STARTTLS is only allowed before login")
                } else if self.wire.has_input() {
                    // Commands pipelined behind STARTTLS would cross into TLS.
                    self.wire
                        .send(&reply::bye("commands pipelined after STARTTLS"));
                    return Ok((Done::bad("commands pipelined after STARTTLS"), Next::Logout));
                } else {
                    return Ok((Done::ok("begin TLS negotiation now"), Next::StartTls));
                }
            }
            CommandBody::Login { username, password } if !authenticated => {
                let user = String::from_utf8_lossy(username.as_ref()).into_owned();
                let pass = String::from_utf8_lossy(password.declassify().as_ref()).into_owned();
                let valid = self.ctx.settings.credentials.check(&user, &pass);
                self.login(user, valid).await
            }
            CommandBody::Authenticate {
                mechanism,
                initial_response,
            } if !authenticated => {
                let initial = initial_response.map(|r| {
                    let bytes = r.declassify();
                    if bytes.is_empty() {
                        "=".to_owned()
                    } else {
                        BASE64.encode(bytes.as_ref())
                    }
                });
                self.authenticate(tag, &mechanism, initial).await?
            }
            CommandBody::Login { .. } | CommandBody::Authenticate { .. } => {
                Done::bad("already logged in")
            }
            _ if !authenticated => Done::bad("log in first"),
            CommandBody::Enable { .. } => {
                // None of the extensions ENABLE can turn on is offered.
                self.wire.send(&Response::Data(Data::Enabled {
                    capabilities: Vec::new(),
                }));
                Done::ok("ENABLE completed")
            }
            CommandBody::Namespace => {
                let personal = Namespace::new(
                    IString::try_from("").expect("an empty string is valid"),
                    Some(QuotedChar::try_from('/').expect("the delimiter is valid")),
                );
                self.wire.send(&Response::Data(Data::Namespace {
                    personal: vec![personal],
                    other: Vec::new(),
                    shared: Vec::new(),
                }));
                Done::ok("NAMESPACE completed")
            }
            CommandBody::Idle => {
                return Ok((self.idle().await?, Next::Continue));
            }
            body => self.folder_command(body).await?,
        };
        Ok((done, Next::Continue))
    }

    /// Enters the authenticated state, or refuses the login.
    async fn login(&mut self, user: String, valid: bool) -> Done {
        if !valid {
            tracing::debug!(%user, client = %self.peer, "IMAP login refused");
            return Done::no("invalid user name or password").with(code("AUTHENTICATIONFAILED"));
        }
        let owner = Owner::of_login(&user);
        if let Err(error) = self.ctx.store.imap_setup(&owner).await {
            return Done::failed(&error);
        }
        self.state = State::Authenticated { owner };
        Done::ok("LOGIN completed").with(Code::Capability(reply::capabilities(self.tls)))
    }

    async fn authenticate(
        &mut self,
        tag: &Tag<'static>,
        mechanism: &AuthMechanism<'static>,
        initial: Option<String>,
    ) -> Result<Done, Interrupt> {
        let Some(mechanism) =
            Mechanism::parse(mechanism.as_ref()).filter(|m| *m != Mechanism::CramMd5)
        else {
            return Ok(Done::no("unsupported authentication mechanism").with(code("CANNOT")));
        };
        let credentials = self.ctx.settings.credentials.clone();
        let (mut exchange, mut step) = Exchange::start(
            mechanism,
            initial.as_deref(),
            &self.ctx.settings.hostname,
            &credentials,
        );
        loop {
            match step {
                Step::Challenge(challenge) => {
                    let request = CommandContinuationRequest::base64(challenge);
                    self.wire
                        .send(&Response::CommandContinuationRequest(request));
                    let Some(line) = self.wire.line().await? else {
                        return Ok(Done::bad("line too long"));
                    };
                    step = exchange.respond(&String::from_utf8_lossy(&line), &credentials);
                }
                Step::Success(user) => return Ok(self.login(user, true).await),
                Step::Failure => {
                    let _ = tag;
                    return Ok(Done::no("invalid user name or password")
                        .with(code("AUTHENTICATIONFAILED")));
                }
                Step::Malformed => {
                    return Ok(Done::bad("cannot decode the authentication response"));
                }
                Step::Cancelled => return Ok(Done::bad("authentication cancelled")),
            }
        }
    }

    /// RFC 2177 IDLE: changes are sent as they happen until DONE.
    async fn idle(&mut self) -> Result<Done, Interrupt> {
        self.wire.send_raw(b"+ idling\r\n");
        self.sync(true).await;
        loop {
            if let Some(line) = self.wire.try_line() {
                return Ok(match line {
                    Some(line) if line.eq_ignore_ascii_case(b"DONE") => Done::ok("IDLE terminated"),
                    _ => Done::bad("expected DONE"),
                });
            }
            self.wire.flush().await?;
            tokio::select! {
                filled = self.wire.fill() => filled?,
                event = self.events.recv() => {
                    match event {
                        Ok(event) => {
                            if let State::Selected { owner, view } = &mut self.state {
                                view.note(owner, &event);
                            }
                        }
                        Err(broadcast::error::RecvError::Lagged(_)) => {
                            if let State::Selected { view, .. } = &mut self.state {
                                view.stale = super::view::Stale::All;
                            }
                        }
                        // The store is closing; shutdown follows.
                        Err(broadcast::error::RecvError::Closed) => {
                            return Ok(Done::no("server shutting down"));
                        }
                    }
                    self.sync(true).await;
                }
            }
        }
    }
}

impl<S> Session<S> {
    pub(super) fn peer(&self) -> SocketAddr {
        self.peer
    }

    pub(super) fn is_tls(&self) -> bool {
        self.tls
    }
}
