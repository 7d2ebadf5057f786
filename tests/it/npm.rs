//! The npm `mailpit-api` and `mailhog` clients, unchanged, against a real
//! Mailsink: node's test runner runs `tests/npm/mailpit-api.test.mjs` and
//! `tests/npm/mailhog.test.mjs`, which call every public method of each
//! client and assert on what comes back, and this test checks that both
//! suites ran whole and passed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::harness::TestApp;

/// The tests in the node suites: fewer passing means some did not run.
const NODE_TESTS: u32 = 17;

const SUITES: [&str; 2] = [
    "tests/npm/mailpit-api.test.mjs",
    "tests/npm/mailhog.test.mjs",
];

fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn npm_dir() -> PathBuf {
    repo_root().join("tests/npm")
}

/// Runs `command` to completion off the async threads, so the in-process
/// server keeps serving while it runs.
async fn run(mut command: Command) -> Output {
    let program = command.get_program().to_string_lossy().into_owned();
    tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("the command's thread")
        .unwrap_or_else(|e| panic!("cannot run {program} (is it installed?): {e}"))
}

fn printed(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The number on a TAP summary line such as `# pass 13`.
fn summary(printed: &str, name: &str) -> Option<u32> {
    let prefix = format!("# {name} ");
    printed
        .lines()
        .find_map(|line| line.strip_prefix(prefix.as_str()))
        .and_then(|n| n.trim().parse().ok())
}

#[tokio::test(flavor = "multi_thread")]
async fn mailpit_and_mailhog_clients_work_unchanged() {
    if !npm_dir().join("node_modules/mailpit-api").exists()
        || !npm_dir().join("node_modules/mailhog").exists()
    {
        let mut npm = Command::new("npm");
        npm.args(["ci", "--no-audit", "--no-fund"])
            .current_dir(npm_dir());
        let output = run(npm).await;
        assert!(
            output.status.success(),
            "npm ci in tests/npm failed ({}):\n{}",
            output.status,
            printed(&output)
        );
    }

    let app = TestApp::spawn().await;
    let mut node = Command::new("node");
    node.args(["--test", "--test-reporter=tap"])
        .args(SUITES)
        .current_dir(repo_root())
        .env("MAILSINK_URL", format!("http://{}", app.http))
        .env("MAILSINK_SMTP", app.smtp.to_string());
    let output = run(node).await;
    let printed = printed(&output);
    let (pass, fail) = (summary(&printed, "pass"), summary(&printed, "fail"));
    assert!(
        output.status.success() && pass == Some(NODE_TESTS) && fail == Some(0),
        "node --test {SUITES:?}: {}, pass {pass:?} of {NODE_TESTS}, fail {fail:?}\n{printed}",
        output.status
    );
}
