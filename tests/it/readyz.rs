//! `mailsink readyz --wait`: asking again until an instance that is still
//! starting answers, giving up when the time runs out, and its bad forms.

use std::process::{Command, Stdio};

use crate::process::{BIN, Process, run_mailsink};

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn free_addr() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").to_string()
}

#[test]
fn wait_polls_until_the_instance_answers() {
    let http = free_addr();
    let waiting = Command::new(BIN)
        .args(["readyz", "--http-addr", &http, "--wait", "60s"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start readyz");
    // Started after readyz, on the address it polls.
    let _server = Process::spawn(
        &[
            "--http-addr",
            &http,
            "--smtp-addr",
            "127.0.0.1:0",
            "--pop3-addr",
            "off",
            "--log-format",
            "json",
        ],
        &[("MAILSINK_IMAP_ADDR", "127.0.0.1:0")],
    );
    let output = waiting.wait_with_output().expect("readyz ends");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    // Against a running instance, --wait without a duration answers at once.
    let ready = run_mailsink(&["readyz", "--http-addr", &http, "--wait"], &[]);
    assert_eq!(ready.status.code(), Some(0), "{}", stderr(&ready));
}

#[test]
fn wait_gives_up_when_the_time_runs_out() {
    let http = free_addr();
    let output = run_mailsink(&["readyz", "--http-addr", &http, "--wait", "300ms"], &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("not ready after 300ms: cannot connect"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn bad_forms_are_refused_naming_the_option() {
    for (args, option) in [
        (&["readyz", "--wait", "soon"][..], "--wait"),
        (&["readyz", "--wait", "0s"], "--wait"),
        (&["readyz", "--wait=-1s"], "--wait"),
        (&["readyz", "--timeout", "0s"], "--timeout"),
        (&["readyz", "--http-addr", "nowhere"], "--http-addr"),
        (&["readyz", "--wait", "1s", "extra"], "extra"),
    ] {
        let output = run_mailsink(args, &[]);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(option),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}
