//! `--ui-auth user:pass`: every UI and API route asks for basic auth, the
//! health checks stay open, and every bad form of the header is refused.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use reqwest::{Client, StatusCode, header};

use crate::harness::{TestApp, run_async};
use crate::process::run_mailsink;
use crate::ui_mail::send_plain;

const PROTECTED: &[&str] = &[
    "/",
    "/search?q=hello",
    "/view/AAAAAAAAAAAAAAAAAAAAAA",
    "/view/latest",
    "/static/mailsink.js",
    "/api/v1/messages",
    "/api/v1/info",
    "/api/v1/swagger.json",
    "/api/events",
    "/no/such/route",
];

#[tokio::test(flavor = "multi_thread")]
async fn every_route_but_health_checks_asks_for_basic_auth() {
    let app = TestApp::spawn_with(&["--ui-auth", "admin:s3cret:with:colons"]).await;
    send_plain(app.smtp, "private").await;
    let client = Client::new();
    let url = |path: &str| format!("http://{}{path}", app.http);
    let basic = |pair: &str| format!("Basic {}", BASE64.encode(pair));

    for path in ["/livez", "/readyz"] {
        let response = client.get(url(path)).send().await.expect("request");
        assert_eq!(response.status(), StatusCode::OK, "{path} stays open");
    }

    let bad_forms: Vec<(&str, Option<String>)> = vec![
        ("no header", None),
        ("wrong password", Some(basic("admin:wrong"))),
        ("wrong user", Some(basic("root:s3cret:with:colons"))),
        ("password cut at a colon", Some(basic("admin:s3cret"))),
        ("no colon", Some(basic("admins3cret"))),
        ("not base64", Some("Basic ***".to_owned())),
        ("no credentials", Some("Basic".to_owned())),
        (
            "another scheme",
            Some(format!(
                "Bearer {}",
                BASE64.encode("admin:s3cret:with:colons")
            )),
        ),
        ("empty", Some(String::new())),
    ];
    for path in PROTECTED {
        for (what, value) in &bad_forms {
            let mut request = client.get(url(path));
            if let Some(value) = value {
                request = request.header(header::AUTHORIZATION, value);
            }
            let response = request.send().await.expect("request");
            assert_eq!(
                response.status(),
                StatusCode::UNAUTHORIZED,
                "{path} with {what}"
            );
            assert_eq!(
                response.headers()[header::WWW_AUTHENTICATE],
                "Basic realm=\"Mailsink\", charset=\"UTF-8\"",
                "{path} with {what}"
            );
            let body = response.text().await.expect("body");
            assert!(!body.contains("private"), "{path} with {what}: {body}");
        }
    }
    // Mutations are refused too, and change nothing.
    let response = client
        .delete(url("/api/v1/messages"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.messages().await.len(), 1);

    let good = basic("admin:s3cret:with:colons");
    let inbox = client
        .get(url("/"))
        .header(header::AUTHORIZATION, &good)
        .send()
        .await
        .expect("request");
    assert_eq!(inbox.status(), StatusCode::OK);
    assert!(inbox.text().await.expect("body").contains("private"));
    let lower = client
        .get(url("/api/v1/messages"))
        .header(header::AUTHORIZATION, good.replace("Basic", "basic"))
        .send()
        .await
        .expect("request");
    assert_eq!(lower.status(), StatusCode::OK);

    // curl as a person would use it.
    let output = run_async(
        "curl",
        vec![
            "-s".into(),
            "-o".into(),
            "/dev/null".into(),
            "-w".into(),
            "%{http_code}".into(),
            "-u".into(),
            "admin:s3cret:with:colons".into(),
            url("/api/v1/messages"),
        ],
        None,
    )
    .await;
    assert_eq!(String::from_utf8_lossy(&output.stdout), "200");
    let output = run_async(
        "curl",
        vec![
            "-s".into(),
            "-o".into(),
            "/dev/null".into(),
            "-w".into(),
            "%{http_code}".into(),
            "-u".into(),
            "admin:nope".into(),
            url("/"),
        ],
        None,
    )
    .await;
    assert_eq!(String::from_utf8_lossy(&output.stdout), "401");
}

#[test]
fn a_value_without_a_colon_is_refused_naming_the_option() {
    for (args, env) in [
        (&["--ui-auth", "admin"][..], &[][..]),
        (&["--ui-auth", ":pass"][..], &[][..]),
        (&[][..], &[("MAILSINK_UI_AUTH", "admin")][..]),
    ] {
        let mut all = vec!["--http-addr", "127.0.0.1:0", "--smtp-addr", "127.0.0.1:0"];
        all.extend_from_slice(args);
        let output = run_mailsink(&all, env);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} {env:?} refused");
        assert!(stderr.contains("--ui-auth"), "{args:?} {env:?}: {stderr}");
        assert!(stderr.contains("user:password"), "{stderr}");
    }
}
