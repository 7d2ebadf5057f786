//! What the mail protocols share: a buffered line connection, the accept
//! loop with its connection cap, and the service that runs a protocol's
//! sessions behind them.

pub(crate) mod conn;
mod listener;
mod service;
pub(crate) mod starttls;

pub(crate) use listener::accept;
pub(crate) use service::{Protocol, Service};
