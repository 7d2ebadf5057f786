//! `imap::mime` against the golden files next to the corpus: for every
//! message in `tests/fixtures/imap/`, `<name>.fetch` holds Dovecot's answer to
//! `FETCH (ENVELOPE BODY BODYSTRUCTURE)` and `<name>.sections` its answers to
//! the main `BODY[section]` fetches, as Dovecot sent them (regenerate them
//! with `MAILSINK_BLESS=1 cargo test --test it imap_dovecot`). Values are
//! compared after imap-codec encoded ours, where only the string form may
//! differ (quoted or literal; see `imap_fixtures`); section bytes are compared
//! exactly, apart from the listed `DIFFERENCES`.

use crate::imap_fixtures::{
    GOLDEN_SECTIONS, corpus, encode_item, expected_section, fetch_items, golden_path, item_kind,
    our_item, parse_section, read_responses, same_value, section_in, side_by_side,
};

#[test]
fn envelope_and_body_structure_match_the_golden_files() {
    let mut failures = Vec::new();
    let mut compared = 0;
    for (path, message) in corpus() {
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let golden = std::fs::read(golden_path(&path, "fetch"))
            .unwrap_or_else(|e| panic!("{name}: golden .fetch file: {e}"));
        let reads = read_responses(&golden);
        let items = reads
            .iter()
            .find_map(|r| fetch_items(r.response.as_ref()?))
            .unwrap_or_else(|| panic!("{name}: no FETCH response in the golden file"));
        let kinds: Vec<&str> = items.iter().map(item_kind).collect();
        assert_eq!(kinds, ["ENVELOPE", "BODY", "BODYSTRUCTURE"], "{name}");
        for theirs in &items {
            let ours = our_item(&message, item_kind(theirs));
            compared += 1;
            if !same_value(&ours, theirs) {
                failures.push(side_by_side(
                    &format!("{name} {}", item_kind(theirs)),
                    &encode_item(theirs),
                    &encode_item(&ours),
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {compared} items differ from the golden files:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn sections_match_the_golden_files() {
    let mut failures = Vec::new();
    let mut compared = 0;
    for (path, message) in corpus() {
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let golden = std::fs::read(golden_path(&path, "sections"))
            .unwrap_or_else(|e| panic!("{name}: golden .sections file: {e}"));
        let reads = read_responses(&golden);
        for spec in GOLDEN_SECTIONS {
            let (_, theirs) = section_in(&reads, spec)
                .unwrap_or_else(|| panic!("{name}: BODY[{spec}] is not in the golden file"));
            let theirs = expected_section(&name, spec, theirs.unwrap_or_default());
            let ours = mailsink::imap::mime::section(&message, parse_section(spec).as_ref())
                .map(|c| c.into_owned())
                .unwrap_or_default();
            compared += 1;
            if ours != theirs {
                failures.push(side_by_side(
                    &format!("{name} BODY[{spec}]"),
                    &theirs,
                    &ours,
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {compared} sections differ from the golden files:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
