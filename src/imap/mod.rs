//! IMAP: the structure of stored messages as IMAP serves it (ENVELOPE, BODYSTRUCTURE, sections, search predicates).
pub mod mime;
