//! What the mail protocols share: a buffered line connection and the accept
//! loop with its connection cap.

pub(crate) mod conn;
mod listener;
pub(crate) mod starttls;

pub(crate) use listener::accept;
