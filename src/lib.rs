//! Mailsink: a fake mail server for developers and CI.
//!
//! Applications send mail over SMTP; nothing is delivered. Every message is
//! committed to an embedded SQLite database and read back by people and tests.
//!
//! # Layout
//!
//! - [`config`]: the command line; every option is also a `MAILSINK_*` variable.
//! - [`compat_env`]: Mailpit's `MP_*` and MailHog's `MH_*` variables, translated.
//! - [`app`]: binds every listener (port 0 allowed), runs them, shuts them down.
//! - [`tls`]: the server certificate, from PEM files or generated with rcgen.
//! - [`auth`]: credentials and the SASL mechanisms shared by the mail protocols.
//! - [`smtp`]: the SMTP listener and session state machine.
//! - [`pop3`]: the POP3 listener: each login's mailbox, snapshotted at login.
//! - [`imap`]: the IMAP listener: each login's folders (INBOX, special-use and
//!   its own), live through IDLE; [`imap::mime`] turns stored bytes into
//!   ENVELOPE, BODYSTRUCTURE, `BODY[section]` and the content predicates of SEARCH.
//! - [`message`]: parsing received bytes into the summary kept for listing and search.
//! - [`store`]: the only place SQL appears: one writer thread, a pool of readers,
//!   the model, retention and the broadcast of store events.
//! - [`stats`]: counters since start-up.
//! - [`sendmail`], [`ingest`]: companion commands that hand mail to a running
//!   instance over SMTP, through [`submit`].
//! - [`web`]: the HTTP listener: the web UI (inbox and message pages rendered
//!   by askama, made live by a small script), the Mailpit- and MailHog-compatible
//!   REST APIs, health checks and HTTP basic auth (`--ui-auth`).
//!
//! # The flow of a message
//!
//! An SMTP session collects the envelope and the DATA (or BDAT) bytes, prepends
//! the `Return-Path:` and `Received:` trace headers, parses the message once into
//! a [`message::Summary`] and hands it to the [`store::Store`] writer. The writer
//! commits messages in groups and answers each waiting session after COMMIT; only
//! then does the session reply `250`. The writer then broadcasts a
//! [`store::StoreEvent`] for the listeners that show mail live.

pub mod app;
pub mod auth;
pub mod compat_env;
pub mod config;
pub mod imap;
pub mod ingest;
pub mod message;
mod net;
pub mod pop3;
pub mod sendmail;
pub mod smtp;
pub mod stats;
pub mod store;
pub mod submit;
pub mod tls;
pub mod web;
