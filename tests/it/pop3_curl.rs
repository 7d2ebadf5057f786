//! curl as the POP3 client: LIST, RETR, UIDL and TOP through `pop3://` URLs,
//! the catch-all, SASL PLAIN and LOGIN and APOP logins (and wrong passwords),
//! STLS (`--ssl-reqd`) and POP3S (`pop3s://`).

use std::process::Output;

use crate::clients::{assert_same_bytes, assert_success, transcript};
use crate::harness::{TestApp, run_async};
use crate::pop3_clients::{headers, send, strings};

/// Runs curl with `args` (and -sS, a time limit); with `-v` its stderr shows
/// the commands sent (`> …`).
async fn curl(args: &[&str]) -> Output {
    let mut all = strings(&["--silent", "--show-error", "--max-time", "30"]);
    all.extend(strings(args));
    run_async("curl", all, None).await
}

/// curl's output, asserting it succeeded.
fn curl_ok(output: &Output, what: &str) -> Vec<u8> {
    assert_success(output, what);
    output.stdout.clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn curl_lists_and_retrieves_messages() {
    let app = TestApp::spawn().await;
    let first = send(&app, &["bob@example.com"], "curl-first").await;
    let second = send(&app, &["bob@example.com"], "curl-second").await;
    let other = send(&app, &["carol@example.com"], "curl-carol").await;
    let base = format!("pop3://127.0.0.1:{}", app.pop3.port());
    let bob = "bob@example.com:x";

    // `pop3://host/` sends LIST and prints the scan listings.
    let list = curl(&[&format!("{base}/"), "-u", bob]).await;
    assert_eq!(
        String::from_utf8_lossy(&curl_ok(&list, "curl LIST")),
        format!("1 {}\r\n2 {}\r\n", first.raw.len(), second.raw.len())
    );
    // `pop3://host/N` sends RETR N; curl unstuffs and keeps the last CRLF.
    for (n, mail) in [(1, &first), (2, &second)] {
        let retr = curl(&[&format!("{base}/{n}"), "-u", bob]).await;
        assert_same_bytes(
            &curl_ok(&retr, "curl RETR"),
            &mail.raw,
            &format!("curl RETR {n}"),
        );
    }
    let uidl = curl(&[&format!("{base}/"), "-X", "UIDL", "-u", bob]).await;
    assert_eq!(
        String::from_utf8_lossy(&curl_ok(&uidl, "curl UIDL")),
        format!("1 {}\r\n2 {}\r\n", first.id, second.id)
    );
    let top = curl(&[&format!("{base}/"), "-X", "TOP 2 0", "-u", bob]).await;
    assert_same_bytes(
        &curl_ok(&top, "curl TOP"),
        headers(&second.raw),
        "curl TOP 2 0",
    );
    // Carol's message is not in bob's maildrop.
    let missing = curl(&[&format!("{base}/3"), "-u", bob]).await;
    assert!(
        !missing.status.success() && missing.stdout.is_empty(),
        "RETR 3 must fail\n{}",
        transcript(&missing)
    );
    // The catch-all lists everything.
    let all = curl(&[&format!("{base}/"), "-u", "catchall:x"]).await;
    assert_eq!(
        String::from_utf8_lossy(&curl_ok(&all, "curl LIST (catch-all)")),
        format!(
            "1 {}\r\n2 {}\r\n3 {}\r\n",
            first.raw.len(),
            second.raw.len(),
            other.raw.len()
        )
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn curl_authenticates_with_sasl_and_apop() {
    let app = TestApp::spawn_with(&["--pop3-auth", "alice@example.com:secret"]).await;
    let mail = send(&app, &["alice@example.com"], "curl-auth").await;
    let url = format!("pop3://127.0.0.1:{}/1", app.pop3.port());
    // curl picks SASL when CAPA offers it; --login-options chooses.
    let methods: [(&[&str], &str); 4] = [
        (&[], "> AUTH PLAIN"),
        (&["--login-options", "AUTH=PLAIN"], "> AUTH PLAIN"),
        (&["--login-options", "AUTH=LOGIN"], "> AUTH LOGIN"),
        (
            &["--login-options", "AUTH=+APOP"],
            "> APOP alice@example.com ",
        ),
    ];
    for (options, command) in methods {
        let mut args = vec![url.as_str(), "-v", "-u", "alice@example.com:secret"];
        args.extend_from_slice(options);
        let output = curl(&args).await;
        assert_same_bytes(&curl_ok(&output, command), &mail.raw, command);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(command),
            "expected {command:?} in\n{stderr}"
        );

        args[3] = "alice@example.com:wrong";
        let refused = curl(&args).await;
        // curl's exit code 67: "the user name, password, or similar was not
        // accepted".
        assert_eq!(
            refused.status.code(),
            Some(67),
            "{command} with a wrong password\n{}",
            transcript(&refused)
        );
        assert!(refused.stdout.is_empty());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn curl_stls_and_pop3s() {
    let app = TestApp::spawn_with(&["--pop3s-addr", "127.0.0.1:0"]).await;
    let pop3s = app.pop3s.expect("POP3S is on");
    let mail = send(&app, &["bob@example.com"], "curl-tls").await;
    let bob = "bob@example.com:x";

    let stls_url = format!("pop3://127.0.0.1:{}/1", app.pop3.port());
    let stls = curl(&[&stls_url, "--ssl-reqd", "-k", "-v", "-u", bob]).await;
    assert_same_bytes(
        &curl_ok(&stls, "curl STLS"),
        &mail.raw,
        "curl RETR over STLS",
    );
    assert!(
        String::from_utf8_lossy(&stls.stderr).contains("> STLS"),
        "curl sent no STLS\n{}",
        transcript(&stls)
    );

    let pop3s_url = format!("pop3s://127.0.0.1:{}/", pop3s.port());
    let list = curl(&[&pop3s_url, "-k", "-u", bob]).await;
    assert_eq!(
        String::from_utf8_lossy(&curl_ok(&list, "curl pop3s LIST")),
        format!("1 {}\r\n", mail.raw.len())
    );
    let retr = curl(&[&format!("{pop3s_url}1"), "-k", "-u", bob]).await;
    assert_same_bytes(
        &curl_ok(&retr, "curl pop3s"),
        &mail.raw,
        "curl RETR over POP3S",
    );
}
