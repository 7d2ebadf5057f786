//! A POP3 maildrop: the owner's mailbox snapshotted at login, with the
//! deletions marked during the session (RFC 1939 applies them only at QUIT),
//! and the bytes as POP3 serves them: CRLF line ends, dot-stuffed.

use crate::store::{MaildropEntry, MessageId};

use super::command::Number;

/// Why a message number cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Missing {
    NoSuchMessage,
    Deleted,
}

impl Missing {
    pub(crate) fn reply(self, number: Number) -> String {
        match self {
            Missing::NoSuchMessage => format!("-ERR no such message {number}"),
            Missing::Deleted => format!("-ERR message {number} already deleted"),
        }
    }
}

pub(crate) struct Maildrop {
    entries: Vec<MaildropEntry>,
    deleted: Vec<bool>,
}

impl Maildrop {
    pub(crate) fn new(entries: Vec<MaildropEntry>) -> Self {
        let deleted = vec![false; entries.len()];
        Self { entries, deleted }
    }

    /// The entry a message number names, unless out of range or deleted.
    pub(crate) fn get(&self, number: Number) -> Result<&MaildropEntry, Missing> {
        let at = (number as usize)
            .checked_sub(1)
            .ok_or(Missing::NoSuchMessage)?;
        match (self.entries.get(at), self.deleted.get(at)) {
            (Some(_), Some(true)) => Err(Missing::Deleted),
            (Some(entry), _) => Ok(entry),
            _ => Err(Missing::NoSuchMessage),
        }
    }

    /// Message numbers and entries not marked deleted.
    pub(crate) fn live(&self) -> impl Iterator<Item = (Number, &MaildropEntry)> {
        self.entries
            .iter()
            .zip(&self.deleted)
            .enumerate()
            .filter(|(_, (_, deleted))| !**deleted)
            .map(|(at, (entry, _))| (at as Number + 1, entry))
    }

    /// Messages and octets not marked deleted (STAT).
    pub(crate) fn stat(&self) -> (usize, u64) {
        self.live()
            .fold((0, 0), |(n, size), (_, e)| (n + 1, size + e.served_size))
    }

    pub(crate) fn delete(&mut self, number: Number) -> Result<(), Missing> {
        self.get(number)?;
        self.deleted[number as usize - 1] = true;
        Ok(())
    }

    pub(crate) fn reset(&mut self) {
        self.deleted.iter_mut().for_each(|d| *d = false);
    }

    /// The messages marked deleted, for the UPDATE state.
    pub(crate) fn marked(&self) -> Vec<MessageId> {
        self.entries
            .iter()
            .zip(&self.deleted)
            .filter(|(_, deleted)| **deleted)
            .map(|(entry, _)| entry.id.clone())
            .collect()
    }
}

/// `data` as POP3 serves it: every line CRLF-terminated (a bare LF becomes
/// CRLF), a final CRLF added if missing, and lines that begin with "." stuffed
/// with another (RFC 1939 §3). With `body_lines`, only the headers, the blank
/// line and that many body lines (TOP).
pub(crate) fn served(data: &[u8], body_lines: Option<u32>) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 50 + 2);
    let mut in_body = false;
    let mut body_left = body_lines;
    for line in data.split_inclusive(|&b| b == b'\n') {
        if in_body {
            match &mut body_left {
                Some(0) => break,
                Some(left) => *left -= 1,
                None => {}
            }
        }
        let text = line
            .strip_suffix(b"\n")
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
            .unwrap_or(line);
        if text.first() == Some(&b'.') {
            out.push(b'.');
        }
        out.extend_from_slice(text);
        out.extend_from_slice(b"\r\n");
        if !in_body && text.is_empty() {
            in_body = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(size: u64) -> MaildropEntry {
        MaildropEntry {
            id: MessageId::generate(),
            served_size: size,
        }
    }

    #[test]
    fn numbers_deletions_and_reset() {
        let mut drop = Maildrop::new(vec![entry(10), entry(20), entry(30)]);
        assert_eq!(drop.stat(), (3, 60));
        assert_eq!(drop.get(0).err(), Some(Missing::NoSuchMessage));
        assert_eq!(drop.get(4).err(), Some(Missing::NoSuchMessage));
        drop.delete(2).expect("exists");
        assert_eq!(drop.delete(2), Err(Missing::Deleted));
        assert_eq!(drop.get(2).err(), Some(Missing::Deleted));
        assert_eq!(drop.stat(), (2, 40));
        assert_eq!(drop.live().map(|(n, _)| n).collect::<Vec<_>>(), [1, 3]);
        assert_eq!(drop.marked().len(), 1);
        drop.reset();
        assert_eq!(drop.stat(), (3, 60));
        assert!(drop.marked().is_empty());
    }

    #[test]
    fn served_bytes_are_crlf_and_dot_stuffed() {
        let data = b"Subject: x\nX: y\r\n\r\n.hidden\r\nbare\nlast";
        assert_eq!(
            served(data, None),
            b"Subject: x\r\nX: y\r\n\r\n..hidden\r\nbare\r\nlast\r\n"
        );
        assert_eq!(served(data, Some(0)), b"Subject: x\r\nX: y\r\n\r\n");
        assert_eq!(
            served(data, Some(1)),
            b"Subject: x\r\nX: y\r\n\r\n..hidden\r\n"
        );
        assert_eq!(served(b"", None), b"");
    }

    proptest::proptest! {
        #[test]
        fn the_size_served_is_the_size_announced(data in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            // Without dots to stuff, RETR sends exactly the size LIST announced.
            let data: Vec<u8> = data.into_iter().filter(|&b| b != b'.').collect();
            let size = crate::store::served_size(&data);
            proptest::prop_assert_eq!(served(&data, None).len() as u64, size);
        }
    }
}
