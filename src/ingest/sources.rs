//! Finding messages on disk: `.eml` files, mbox files and Maildir folders,
//! walked recursively, and splitting an mbox into its messages.

use std::path::{Path, PathBuf};

/// One place messages come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A file holding one message (an `.eml`, or a file in a Maildir's `cur/` or `new/`).
    Message(PathBuf),
    /// An mbox file: messages each starting with a `From ` line.
    Mbox(PathBuf),
}

impl Source {
    pub fn path(&self) -> &Path {
        match self {
            Self::Message(path) | Self::Mbox(path) => path,
        }
    }
}

/// What a walk found.
#[derive(Debug, Default)]
pub struct Found {
    pub sources: Vec<Source>,
    /// Paths that were looked at but hold no mail, with the reason.
    pub ignored: Vec<(PathBuf, String)>,
    /// Paths that could not be read, with the reason.
    pub unreadable: Vec<(PathBuf, String)>,
}

/// Walks `paths`. A file named on the command line is an mbox when it starts
/// with `From `, else one message. Inside directories only `*.eml` files,
/// mbox files and Maildir folders (a directory with `cur/` and `new/`) count.
pub fn discover(paths: &[PathBuf]) -> Found {
    let mut found = Found::default();
    for path in paths {
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => walk(path, &mut found, 0),
            Ok(_) => match is_mbox(path) {
                Ok(true) => found.sources.push(Source::Mbox(path.clone())),
                Ok(false) => found.sources.push(Source::Message(path.clone())),
                Err(e) => found.unreadable.push((path.clone(), e.to_string())),
            },
            Err(e) => found.unreadable.push((path.clone(), e.to_string())),
        }
    }
    found
}

/// Deep enough for any real mail tree; stops symlink loops.
const MAX_DEPTH: usize = 32;

fn walk(dir: &Path, found: &mut Found, depth: usize) {
    if depth > MAX_DEPTH {
        found
            .ignored
            .push((dir.to_owned(), "nested too deeply".to_owned()));
        return;
    }
    if is_maildir(dir) {
        for sub in ["cur", "new"] {
            match sorted_entries(&dir.join(sub)) {
                Ok(entries) => found.sources.extend(
                    entries
                        .into_iter()
                        .filter(|p| p.is_file())
                        .map(Source::Message),
                ),
                Err(e) => found.unreadable.push((dir.join(sub), e.to_string())),
            }
        }
    }
    let entries = match sorted_entries(dir) {
        Ok(entries) => entries,
        Err(e) => {
            found.unreadable.push((dir.to_owned(), e.to_string()));
            return;
        }
    };
    let maildir = is_maildir(dir);
    for path in entries {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if maildir && matches!(name, "cur" | "new" | "tmp") {
            continue;
        }
        if path.is_dir() {
            walk(&path, found, depth + 1);
        } else if name.to_ascii_lowercase().ends_with(".eml") {
            found.sources.push(Source::Message(path));
        } else {
            match is_mbox(&path) {
                Ok(true) => found.sources.push(Source::Mbox(path)),
                Ok(false) => found
                    .ignored
                    .push((path, "not an .eml file, an mbox or a Maildir".to_owned())),
                Err(e) => found.unreadable.push((path, e.to_string())),
            }
        }
    }
}

fn is_maildir(dir: &Path) -> bool {
    dir.join("cur").is_dir() && dir.join("new").is_dir()
}

fn sorted_entries(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut entries = std::fs::read_dir(dir)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()?;
    entries.sort();
    Ok(entries)
}

fn is_mbox(path: &Path) -> std::io::Result<bool> {
    use std::io::Read;
    let mut start = [0u8; 5];
    let mut file = std::fs::File::open(path)?;
    let mut filled = 0;
    while filled < start.len() {
        let n = file.read(&mut start[filled..])?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    Ok(&start[..filled] == b"From ")
}

/// The messages of an mbox, each without its `From ` separator line.
///
/// A message whose header has a `Content-Length` that lands on the next
/// `From ` line (or the end) is taken by length, as mutt and mailx write
/// them without quoting the body's own `From ` lines. Otherwise the message
/// ends at the next `From ` line, and `>From ` quoting is undone (mboxrd: one
/// `>` is removed from `>…>From ` lines, which also reads mboxo as meant).
pub fn split_mbox(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut messages = Vec::new();
    let mut pos = if bytes.starts_with(b"From ") {
        Some(0)
    } else {
        next_from_line(bytes, 0)
    };
    while let Some(from_line) = pos {
        let start = line_end(bytes, from_line);
        if let Some(end) = by_length(bytes, start) {
            messages.push(bytes[start..end].to_vec());
            pos = next_from_line(bytes, end);
            continue;
        }
        let next = next_from_line(bytes, start);
        let end = next.unwrap_or(bytes.len());
        messages.push(without_separator(unquote(&bytes[start..end])));
        pos = next;
    }
    messages
}

/// The index just after the line that starts at `at`.
fn line_end(bytes: &[u8], at: usize) -> usize {
    memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |i| at + i + 1)
}

/// The start of the next line at or after `from` that begins with `From `.
fn next_from_line(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    if at > 0 && bytes.get(at - 1) != Some(&b'\n') {
        at = line_end(bytes, at);
    }
    while at < bytes.len() {
        if bytes[at..].starts_with(b"From ") {
            return Some(at);
        }
        at = line_end(bytes, at);
    }
    None
}

/// The end of the message starting at `start` according to its
/// Content-Length, when that lands on a `From ` line or the end of the file
/// (after the blank line mbox writers put between messages).
fn by_length(bytes: &[u8], start: usize) -> Option<usize> {
    let rest = &bytes[start..];
    let header_end = memchr::memmem::find(rest, b"\n\n")
        .map(|i| i + 2)
        .or_else(|| memchr::memmem::find(rest, b"\n\r\n").map(|i| i + 3))?;
    let length: usize = rest[..header_end].split(|b| *b == b'\n').find_map(|line| {
        let (name, value) = line.split_at(line.iter().position(|b| *b == b':')?);
        if !name.eq_ignore_ascii_case(b"Content-Length") {
            return None;
        }
        std::str::from_utf8(&value[1..]).ok()?.trim().parse().ok()
    })?;
    let end = start.checked_add(header_end)?.checked_add(length)?;
    let after = bytes.get(end..)?;
    let after = after
        .strip_prefix(b"\r\n")
        .or_else(|| after.strip_prefix(b"\n"))
        .unwrap_or(after);
    (after.is_empty() || after.starts_with(b"From ")).then_some(end)
}

fn unquote(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len());
    let mut at = 0;
    while at < message.len() {
        let end = line_end(message, at);
        let line = &message[at..end];
        let quotes = line.iter().take_while(|b| **b == b'>').count();
        if quotes > 0 && line[quotes..].starts_with(b"From ") {
            out.extend_from_slice(&line[1..]);
        } else {
            out.extend_from_slice(line);
        }
        at = end;
    }
    out
}

/// An mbox writer puts an empty line between messages; it is not the message's.
fn without_separator(mut message: Vec<u8>) -> Vec<u8> {
    if message.ends_with(b"\n\n") {
        message.pop();
    } else if message.ends_with(b"\r\n\r\n") {
        message.truncate(message.len() - 2);
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mbox_splits_at_from_lines_and_unquotes() {
        let mbox = b"From a@example.com Mon Nov 23 07:00:00 2026\n\
            Subject: one\n\nhello\n>From the start\n>>From deeper\n\n\
            From b@example.com Mon Nov 23 07:01:00 2026\n\
            Subject: two\n\nbye\n";
        let messages = split_mbox(mbox);
        assert_eq!(messages.len(), 2);
        assert_eq!(
            messages[0],
            b"Subject: one\n\nhello\nFrom the start\n>From deeper\n"
        );
        assert_eq!(messages[1], b"Subject: two\n\nbye\n");
        assert!(split_mbox(b"").is_empty());
        // Bytes before the first "From " line belong to no message.
        assert_eq!(split_mbox(b"junk\nFrom x\nA: b\n\nc\n"), [b"A: b\n\nc\n"]);
        assert!(split_mbox(b"no from line\n").is_empty());
    }

    #[test]
    fn content_length_keeps_unquoted_from_lines_in_the_body() {
        let mbox = b"From a@example.com Mon Nov 23 07:00:00 2026\n\
            Subject: one\nContent-Length: 26\n\nhello\nFrom here, unquoted\n\n\
            From b@example.com Mon Nov 23 07:01:00 2026\n\
            Subject: two\nContent-Length: 999\n\nbye\n";
        let messages = split_mbox(mbox);
        assert_eq!(messages.len(), 2);
        assert_eq!(
            messages[0],
            b"Subject: one\nContent-Length: 26\n\nhello\nFrom here, unquoted\n"
        );
        // A length that lands nowhere sensible is ignored.
        assert_eq!(messages[1], b"Subject: two\nContent-Length: 999\n\nbye\n");
    }

    #[test]
    fn walks_eml_mbox_and_maildir_and_ignores_the_rest() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        std::fs::write(root.join("a.eml"), b"Subject: a\n\n").expect("write");
        std::fs::write(root.join("archive"), b"From x Mon\nSubject: b\n\n").expect("write");
        std::fs::write(root.join("notes.txt"), b"hello").expect("write");
        let maildir = root.join("Mail/inbox");
        for sub in ["cur", "new", "tmp"] {
            std::fs::create_dir_all(maildir.join(sub)).expect("mkdir");
        }
        std::fs::write(maildir.join("cur/1:2,S"), b"Subject: c\n\n").expect("write");
        std::fs::write(maildir.join("new/2"), b"Subject: d\n\n").expect("write");
        std::fs::write(maildir.join("tmp/3"), b"Subject: partial\n").expect("write");
        let found = discover(&[root.to_owned(), root.join("missing.eml")]);
        assert_eq!(
            found.sources,
            vec![
                Source::Message(maildir.join("cur/1:2,S")),
                Source::Message(maildir.join("new/2")),
                Source::Message(root.join("a.eml")),
                Source::Mbox(root.join("archive")),
            ]
        );
        assert_eq!(found.ignored.len(), 1);
        assert_eq!(found.ignored[0].0, root.join("notes.txt"));
        assert_eq!(found.unreadable.len(), 1);
        assert_eq!(found.unreadable[0].0, root.join("missing.eml"));
    }
}
