//! Unit tests of the Mailpit and MailHog variable translation.

use super::*;
use crate::config::Cli;
use clap::CommandFactory;

fn run(pairs: &[(&str, &str)]) -> Result<Translation, Error> {
    let vars = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let command = Cli::command();
    let known = known_variables(&command);
    translate(&vars, &|name| known.contains(name), &|target, value| {
        check_value(&command, target, value)
    })
}

fn set(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    run(pairs).expect("translates").set
}

fn pair(k: &str, v: &str) -> (String, String) {
    (k.to_owned(), v.to_owned())
}

#[test]
fn mailpit_variables_map_to_options() {
    assert_eq!(
        set(&[
            ("MP_SMTP_BIND_ADDR", "0.0.0.0:2525"),
            ("MP_UI_BIND_ADDR", "[::]:8080"),
            ("MP_MAX_MESSAGES", "500"),
            ("MP_MAX_AGE", "7d"),
            ("MP_MAX_MESSAGE_SIZE", "10"),
            ("MP_SMTP_AUTH", "alice:one bob:two"),
        ]),
        vec![
            pair("MAILSINK_HTTP_ADDR", "[::]:8080"),
            pair("MAILSINK_MAX_AGE", "7d"),
            pair("MAILSINK_MAX_MESSAGES", "500"),
            pair("MAILSINK_MAX_MESSAGE_SIZE", "10MB"),
            pair("MAILSINK_SMTP_ADDR", "0.0.0.0:2525"),
            pair("MAILSINK_SMTP_AUTH", "alice:one,bob:two"),
        ]
    );
}

#[test]
fn mailhog_variables_map_to_options() {
    assert_eq!(
        set(&[
            ("MH_SMTP_BIND_ADDR", "0.0.0.0:1025"),
            ("MH_API_BIND_ADDR", "0.0.0.0:8025"),
            ("MH_UI_BIND_ADDR", "0.0.0.0:8025"),
            ("MH_HOSTNAME", "mailhog.example"),
            ("MH_STORAGE", "maildir"),
            ("MH_MAILDIR_PATH", "/maildir"),
        ]),
        vec![
            pair("MAILSINK_DB", "/maildir/mailsink.db"),
            pair("MAILSINK_HOSTNAME", "mailhog.example"),
            pair("MAILSINK_HTTP_ADDR", "0.0.0.0:8025"),
            pair("MAILSINK_SMTP_ADDR", "0.0.0.0:1025"),
        ]
    );
    assert_eq!(set(&[("MH_STORAGE", "memory")]), vec![]);
}

#[test]
fn mailsink_variables_win_unless_they_are_image_defaults() {
    let t = run(&[
        ("MAILSINK_SMTP_ADDR", "127.0.0.1:1025"),
        ("MP_SMTP_BIND_ADDR", "0.0.0.0:2525"),
    ])
    .expect("translates");
    assert_eq!(t.set, vec![]);
    assert!(t.warnings[0].contains("MAILSINK_SMTP_ADDR is set"));
    assert_eq!(
        set(&[
            ("MAILSINK_SMTP_ADDR", "0.0.0.0:1025"),
            (IMAGE_DEFAULTS, "MAILSINK_SMTP_ADDR MAILSINK_HTTP_ADDR"),
            ("MP_SMTP_BIND_ADDR", "0.0.0.0:2525"),
        ]),
        vec![pair("MAILSINK_SMTP_ADDR", "0.0.0.0:2525")]
    );
}

#[test]
fn zero_means_the_mailsink_default_where_mailpit_means_unlimited() {
    assert_eq!(set(&[("MP_MAX_MESSAGES", "0")]), vec![]);
    assert!(run(&[("MP_MAX_MESSAGE_SIZE", "0")]).is_err());
}

#[test]
fn mailpit_database_directory_holds_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().to_str().expect("UTF-8").to_owned();
    assert_eq!(
        set(&[("MP_DATABASE", &path)]),
        vec![pair("MAILSINK_DB", &format!("{path}/mailsink.db"))]
    );
    assert_eq!(
        set(&[("MP_DATABASE", "/data/mail.db")]),
        vec![pair("MAILSINK_DB", "/data/mail.db")]
    );
}

#[test]
fn bad_values_are_refused_naming_the_variable() {
    for (var, value) in [
        ("MP_SMTP_BIND_ADDR", "unix:/tmp/smtp.sock:0660"),
        ("MP_UI_BIND_ADDR", "nowhere"),
        ("MP_MAX_MESSAGES", "many"),
        ("MP_MAX_AGE", "forever"),
        ("MP_MAX_MESSAGE_SIZE", "5MB"),
        ("MP_SMTP_AUTH", "alice"),
        ("MP_SMTP_AUTH_ACCEPT_ANY", "perhaps"),
        ("MP_VERBOSE", "loud"),
        ("MH_HOSTNAME", "bad host"),
        ("MH_STORAGE", "s3"),
        ("MH_SMTP_MAX_RECIPIENTS", "1"),
    ] {
        match run(&[(var, value)]) {
            Err(e) => assert!(e.to_string().starts_with(var), "{e}"),
            Ok(t) => assert!(
                t.warnings.iter().any(|w| w.starts_with(var)),
                "{var}={value} is refused or reported"
            ),
        }
    }
    let e = run(&[("MP_MAX_AGE", "forever")]).expect_err("refused");
    assert_eq!(e.var, "MP_MAX_AGE");
}

#[test]
fn two_different_addresses_for_one_listener_are_refused() {
    let e = run(&[
        ("MH_API_BIND_ADDR", "0.0.0.0:8025"),
        ("MH_UI_BIND_ADDR", "0.0.0.0:8026"),
    ])
    .expect_err("refused");
    assert_eq!(e.var, "MH_UI_BIND_ADDR");
}

#[test]
fn unsupported_and_no_op_variables_are_reported() {
    let t = run(&[
        ("MP_SMTP_AUTH_ACCEPT_ANY", "true"),
        ("MP_WEBROOT", "/mail/"),
        ("MH_AUTH_FILE", "/auth"),
        ("MP_SMTP_TLS_CERT", "sans:mail.example"),
    ])
    .expect("translates");
    assert_eq!(t.set, vec![]);
    assert_eq!(t.warnings.len(), 3, "{:?}", t.warnings);
    assert!(
        t.warnings
            .iter()
            .any(|w| w.contains("NOT password-protected"))
    );
}
