//! Finding one-time codes (verification codes, OTPs, PINs) in a message's text,
//! for [`extract`](super::extract). Judged by precision: a test that types a
//! wrong code fails in a confusing way, so anything doubtful is left out.
//!
//! A code is 4 to 8 digits, two equal groups of 3 or 4 digits joined by one
//! '-' or space (`123-456`, `1234 5678`), or 4 to 8 digits spaced out
//! (`9 2 4 8`), reported without separators. It must stand as its own token
//! (no letter, digit, '#', '$', '/' … touching it) and be introduced by
//! context:
//!
//! - a keyword (code, OTP, one-time, verification, verify, PIN, passcode, token,
//!   2FA, …) before it on its line with no label such as "order" or "phone"
//!   between them, or after it ("123456 is your code") with no such label
//!   right before it;
//! - or a previous line that introduces it ("Your code:") and the code opening
//!   its own line;
//! - or the code alone on its line, unless the line before is a label such as
//!   "Invoice", a bare number stands within two lines of it (a table, or
//!   statistics: "Views / 1234 / Likes / 56"), or it is written like a phone
//!   number (`1234 5678`, `4 8 2 9`).
//!
//! Never codes: URLs and e-mail addresses (masked first), dates and times,
//! decimals, thousands, phone numbers (three groups, parentheses, '+'), prices
//! (currency symbol or code next to them), quantities with units, and years
//! (1900–2099) unless a keyword introduces them directly in a line without a
//! date.

mod lexicon;

use lexicon::{Kind, is_currency, is_date_word, is_unit, words};

/// How far before a code (in characters) a keyword still counts.
const BEFORE: usize = 80;
/// How far after a code a keyword still counts ("123456 is your code").
const AFTER: usize = 40;
/// How close before a code a label blocks a keyword that follows the code.
const LABEL: usize = 30;

/// The distinct one-time codes in `text`, digits only, in order of appearance.
pub fn codes(text: &str) -> Vec<String> {
    let lines: Vec<Vec<char>> = text.lines().map(masked).collect();
    let mut found: Vec<String> = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let before = lines[..index].iter().rev().filter(|l| !is_blank(l));
        let after = lines[index + 1..].iter().filter(|l| !is_blank(l));
        let prev = before.clone().next();
        let neighbours: Vec<&Vec<char>> = before.take(2).chain(after.take(2)).collect();
        for candidate in candidates(line) {
            if accepted(line, &candidate, prev, &neighbours) && !found.contains(&candidate.digits) {
                found.push(candidate.digits);
            }
        }
    }
    found
}

/// A number in a line that has the shape of a code.
#[derive(Debug)]
struct Candidate {
    start: usize,
    end: usize,
    digits: String,
    /// Written as 4+4 digits or spaced out: common for phone numbers too, so
    /// such a number needs a keyword; alone on a line is not enough.
    phone_like: bool,
}

fn accepted(
    line: &[char],
    c: &Candidate,
    prev: Option<&Vec<char>>,
    neighbours: &[&Vec<char>],
) -> bool {
    if !standalone_token(line, c) || is_amount(line, c) {
        return false;
    }
    let lower: Vec<char> = line.iter().map(char::to_ascii_lowercase).collect();
    let found = words(&lower);
    let positive_before = found
        .iter()
        .filter(|w| w.kind == Kind::Positive && w.end <= c.start && c.start - w.end <= BEFORE)
        .map(|w| c.start - w.end)
        .min();
    let positive_after = found
        .iter()
        .any(|w| w.kind == Kind::Positive && w.start >= c.end && w.start - c.end <= AFTER);
    let label_before = found
        .iter()
        .filter(|w| w.kind == Kind::Negative && w.end <= c.start && c.start - w.end <= BEFORE)
        .map(|w| c.start - w.end)
        .min();
    let year_like = is_year_like(&c.digits);
    if year_like
        && (lower
            .iter()
            .collect::<String>()
            .split(|ch: char| !ch.is_alphanumeric()))
        .any(is_date_word)
    {
        return false;
    }

    // A keyword on the same line.
    if let Some(distance) = positive_before {
        if label_before.is_none_or(|label| label > distance) {
            return !year_like || introduces(&lower[..c.start]);
        }
        return false;
    }
    if positive_after && !year_like {
        return label_before.is_none_or(|label| label > LABEL);
    }
    if label_before.is_some() {
        return false;
    }

    // The previous line introduces the code, which opens this line.
    let prev_lower: Option<Vec<char>> =
        prev.map(|p| p.iter().map(char::to_ascii_lowercase).collect());
    let introduced = prev_lower.as_deref().is_some_and(introduces_next_line);
    let opens_line = line[..c.start].iter().all(|&ch| is_decoration(ch));
    if introduced && opens_line {
        return true;
    }
    if year_like {
        return false;
    }

    // Alone on its line, not under a label, not in a column of numbers.
    let alone = opens_line
        && line[c.end..]
            .iter()
            .all(|&ch| is_decoration(ch) || ch == '.');
    let under_label = prev_lower
        .as_deref()
        .is_some_and(|p| words(p).iter().any(|w| w.kind == Kind::Negative));
    let in_column = neighbours.iter().any(|l| is_bare_number(l));
    alone && !c.phone_like && !under_label && !in_column
}

/// Clusters of digits and separators in a line, kept when they have a code's
/// shape. Clusters are maximal: "+1 (555) 123-4567" or "2026-11-24" is one
/// cluster and not a code, so no part of it can be taken for one.
fn candidates(line: &[char]) -> Vec<Candidate> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < line.len() {
        if !line[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        let mut end = i;
        loop {
            while end < line.len() && line[end].is_ascii_digit() {
                end += 1;
            }
            let mut sep = end;
            while sep < line.len() && sep - end < 2 && is_separator(line[sep]) {
                sep += 1;
            }
            if sep > end && sep < line.len() && line[sep].is_ascii_digit() {
                end = sep;
            } else {
                break;
            }
        }
        if let Some((digits, phone_like)) = code_shape(&line[start..end]) {
            out.push(Candidate {
                start,
                end,
                digits,
                phone_like,
            });
        }
        i = end;
    }
    out
}

/// The digits of a cluster shaped like a code: 4–8 digits; two equal groups
/// of 3 or 4 joined by one '-' or space (two years, "2026-2027", are not); or
/// 4–8 single digits spaced out ("9 2 4 8"). The flag marks the shapes
/// phone numbers share.
fn code_shape(cluster: &[char]) -> Option<(String, bool)> {
    if cluster.iter().all(char::is_ascii_digit) {
        return (4..=8)
            .contains(&cluster.len())
            .then(|| (cluster.iter().collect(), false));
    }
    let sep = *cluster.iter().find(|c| !c.is_ascii_digit())?;
    if sep != '-' && sep != ' ' {
        return None;
    }
    let text: String = cluster.iter().collect();
    let groups: Vec<&str> = text.split(sep).collect();
    if !groups
        .iter()
        .all(|g| !g.is_empty() && g.chars().all(|c| c.is_ascii_digit()))
    {
        return None;
    }
    let spaced_digits =
        sep == ' ' && (4..=8).contains(&groups.len()) && groups.iter().all(|g| g.len() == 1);
    let pair = groups.len() == 2
        && groups[0].len() == groups[1].len()
        && (groups[0].len() == 3 || groups[0].len() == 4)
        && !(is_year_like(groups[0]) && is_year_like(groups[1]));
    (spaced_digits || pair).then(|| (groups.concat(), spaced_digits || groups[0].len() == 4))
}

/// Nothing that joins the number to a word, an amount, a path or an ID.
fn standalone_token(line: &[char], c: &Candidate) -> bool {
    let before_ok = c.start == 0 || {
        let ch = line[c.start - 1];
        ch.is_whitespace() || ":([\"'*>“‘«|".contains(ch)
    };
    let after_ok = c.end == line.len() || {
        let ch = line[c.end];
        ch.is_whitespace() || ".,;:!?)]\"'*<”’»|".contains(ch)
    };
    before_ok && after_ok
}

/// A price or a quantity: a currency symbol or code, or a unit, next to it.
fn is_amount(line: &[char], c: &Candidate) -> bool {
    let before: String = line[..c.start].iter().collect();
    let before = before.trim_end();
    if before.ends_with(['$', '€', '£', '¥', '₹', '₽', '₩', '¢']) {
        return true;
    }
    let word_before = before
        .rsplit(|ch: char| !ch.is_alphanumeric())
        .next()
        .unwrap_or_default();
    let after: String = line[c.end..].iter().collect();
    let after = after.trim_start();
    if after.starts_with(['$', '€', '£', '¥', '₹', '%']) {
        return true;
    }
    let word_after = after
        .split(|ch: char| !ch.is_alphanumeric())
        .next()
        .unwrap_or_default();
    is_currency(word_before) || is_currency(word_after) || is_unit(word_after)
}

/// The text before a code ends with a keyword, perhaps followed by ':', '=',
/// '-' or "is": "Your PIN is 2026", "code: 2026".
fn introduces(before: &[char]) -> bool {
    let text: String = before.iter().collect();
    let mut text = text
        .trim_end()
        .trim_end_matches([':', '=', '-', '–', '>', '*']);
    text = text.trim_end();
    for filler in [" is", " was", " will be"] {
        if let Some(stripped) = text.strip_suffix(filler) {
            text = stripped.trim_end();
        }
    }
    let chars: Vec<char> = text.chars().collect();
    words(&chars)
        .last()
        .is_some_and(|w| w.kind == Kind::Positive && w.end == chars.len())
}

/// A line that leads into a code on the next: it ends with ':' after a
/// keyword, or ends with the keyword itself.
fn introduces_next_line(line: &[char]) -> bool {
    let text: String = line.iter().collect();
    let text = text.trim_end().trim_end_matches(['*', '_']).trim_end();
    let has_keyword = words(line).iter().any(|w| w.kind == Kind::Positive);
    (has_keyword && text.ends_with(':')) || introduces(line)
}

fn is_year_like(digits: &str) -> bool {
    digits.len() == 4
        && digits
            .parse::<u16>()
            .is_ok_and(|y| (1900..=2099).contains(&y))
}

fn is_separator(c: char) -> bool {
    " -./,:()+".contains(c)
}

/// Markup left around a code by plain-text and HTML-to-text renderings.
fn is_decoration(c: char) -> bool {
    c.is_whitespace() || "*_\"'>|[]():“”‘’«»".contains(c)
}

fn is_blank(line: &[char]) -> bool {
    line.iter().all(|c| c.is_whitespace())
}

/// A line holding nothing but one number (digits and separators).
fn is_bare_number(line: &[char]) -> bool {
    let trimmed: Vec<char> = line
        .iter()
        .copied()
        .filter(|&c| !is_decoration(c))
        .collect();
    !trimmed.is_empty()
        && trimmed.iter().any(char::is_ascii_digit)
        && trimmed
            .iter()
            .all(|&c| c.is_ascii_digit() || ".,-/$€£%".contains(c))
}

/// The line as chars with URLs and e-mail addresses blanked out, so digits in
/// them are never codes; positions are kept.
fn masked(line: &str) -> Vec<char> {
    let mut chars: Vec<char> = line.chars().collect();
    let mut start = 0;
    while start < chars.len() {
        if chars[start].is_whitespace() {
            start += 1;
            continue;
        }
        let end = (start..chars.len())
            .find(|&i| chars[i].is_whitespace())
            .unwrap_or(chars.len());
        let word: String = chars[start..end]
            .iter()
            .collect::<String>()
            .to_ascii_lowercase();
        if word.contains("://") || word.contains('@') || word.contains("www.") {
            chars[start..end].fill(' ');
        }
        start = end;
    }
    chars
}

#[cfg(test)]
#[path = "codes_tests.rs"]
mod tests;
