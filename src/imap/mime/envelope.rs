//! ENVELOPE (RFC 3501 §7.4.2): the message's own header values, unfolded but
//! otherwise as sent (encoded words are not decoded, as Dovecot does), NIL
//! for fields that are absent.

use imap_types::envelope::{Address, Envelope};

use super::header::{self, Field};
use super::{address, nstring, served, tree::Entity};

/// The ENVELOPE of a stored message.
pub fn envelope(message: &[u8]) -> Envelope<'static> {
    let served = served(message);
    let root = Entity::parse(&served);
    of_header(&served[root.header])
}

/// The ENVELOPE for a header block (also used for message/rfc822 parts).
pub(super) fn of_header(header: &[u8]) -> Envelope<'static> {
    let fields = header::fields(header);
    let text = |name: &str| nstring(header::last(&fields, name).map(|f| header::unfold(f.value)));
    let from = addresses(&fields, "From");
    let sender = addresses(&fields, "Sender");
    let reply_to = addresses(&fields, "Reply-To");
    Envelope {
        date: text("Date"),
        subject: text("Subject"),
        // RFC 3501 §7.4.2: sender and reply-to default to from.
        sender: if sender.is_empty() {
            from.clone()
        } else {
            sender
        },
        reply_to: if reply_to.is_empty() {
            from.clone()
        } else {
            reply_to
        },
        from,
        to: addresses(&fields, "To"),
        cc: addresses(&fields, "Cc"),
        bcc: addresses(&fields, "Bcc"),
        in_reply_to: text("In-Reply-To"),
        message_id: text("Message-ID"),
    }
}

fn addresses(fields: &[Field<'_>], name: &str) -> Vec<Address<'static>> {
    let Some(field) = header::last(fields, name) else {
        return Vec::new();
    };
    address::parse_list(&header::unfold(field.value))
        .into_iter()
        .map(|a| Address {
            name: nstring(a.name),
            adl: nstring(a.route),
            mailbox: nstring(a.mailbox),
            host: nstring(a.host),
        })
        .collect()
}
