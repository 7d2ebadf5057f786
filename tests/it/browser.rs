//! Headless Chromium for the web UI tests: chromedriver on a free port (its
//! own process group, so the browsers it starts go with it), one fresh
//! profile per session, polling with a deadline, and screenshots saved to
//! `target/test-artifacts/` (always one when a browser test fails).

#![allow(dead_code)]

use std::future::Future;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

/// How long a page may take to show what a test waits for.
const DEADLINE: Duration = Duration::from_secs(10);
/// Browser tests that may run at once.
static BROWSERS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);
/// How long a whole browser test may take.
const TEST_LIMIT: Duration = Duration::from_secs(90);

/// A running chromedriver; killed with every browser it started on drop.
pub struct Driver {
    child: Child,
    url: String,
    profiles: Vec<tempfile::TempDir>,
}

/// How a browser session looks at pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Theme {
    Light,
    /// The OS asks for dark: `prefers-color-scheme: dark`.
    Dark,
}

impl Driver {
    /// Starts chromedriver on a free loopback port.
    pub fn start() -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = Command::new("chromedriver")
            // Without --allowed-ips chromedriver listens on loopback only.
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .context("cannot start chromedriver (Debian package chromium-driver)")?;
        Ok(Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            profiles: Vec::new(),
        })
    }

    /// A new browser with a fresh profile, retrying while chromedriver starts.
    pub async fn session(
        &mut self,
        theme: Theme,
        width: u32,
        height: u32,
    ) -> anyhow::Result<Client> {
        let profile = tempfile::tempdir()?;
        let mut args = vec![
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--no-first-run".to_owned(),
            "--hide-scrollbars".to_owned(),
            // Nothing leaves the machine: every host name fails to resolve
            // without a DNS query, and any other address goes to a closed
            // local port. The pages under test are on 127.0.0.1.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1".to_owned(),
            "--proxy-server=127.0.0.1:9".to_owned(),
            "--dns-prefetch-disable".to_owned(),
            "--no-pings".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-extensions".to_owned(),
            "--disable-default-apps".to_owned(),
            "--disable-domain-reliability".to_owned(),
            "--disable-client-side-phishing-detection".to_owned(),
            "--disable-features=MediaRouter,OptimizationHints,Translate,DnsOverHttps".to_owned(),
            format!("--window-size={width},{height}"),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        if theme == Theme::Dark {
            args.push("--force-dark-mode".to_owned());
        }
        self.profiles.push(profile);
        let capabilities = json!({
            "browserName": "chrome",
            // Leave dialogs open so a test can see that one appeared.
            "unhandledPromptBehavior": "ignore",
            "goog:chromeOptions": { "binary": "/usr/bin/chromium", "args": args },
        });
        let Value::Object(capabilities) = capabilities else {
            bail!("capabilities are an object");
        };
        let deadline = Instant::now() + DEADLINE;
        loop {
            let mut builder = ClientBuilder::new(HttpConnector::new());
            builder.capabilities(capabilities.clone());
            match builder.connect(&self.url).await {
                Ok(client) => return Ok(client),
                Err(error) if Instant::now() > deadline => {
                    bail!("no browser session from chromedriver: {error}")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The group holds chromedriver and the browsers it started. The group
        // is named after `--`: procps' kill reads `-KILL -PGID` as `kill(-1)`,
        // every process there is.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-s", "KILL", "--", &group])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where screenshots go.
pub fn artifacts() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts")
}

/// Saves a screenshot of what `client` shows as `{name}.png`.
pub async fn screenshot(client: &Client, name: &str) -> anyhow::Result<PathBuf> {
    let png = client.screenshot().await?;
    std::fs::create_dir_all(artifacts())?;
    let path = artifacts().join(format!("{name}.png"));
    std::fs::write(&path, png)?;
    Ok(path)
}

/// Runs a browser test: a session of `theme`, then the test body. When the
/// body fails (an error or a panic), the page it was on is saved as
/// `{name}-failure.png` before the test fails.
pub async fn run<F, Fut>(name: &str, theme: Theme, test: F)
where
    F: FnOnce(Client) -> Fut,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    if let Err(failure) = try_run(name, theme, test).await {
        panic!(
            "{name} failed: {}\nscreenshot: {:?}",
            failure.message, failure.screenshot
        );
    }
}

/// How a browser test failed.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    /// The page as it was when the test failed.
    pub screenshot: Option<PathBuf>,
}

/// [`run`] without the panic.
pub async fn try_run<F, Fut>(name: &str, theme: Theme, test: F) -> Result<(), Failure>
where
    F: FnOnce(Client) -> Fut,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    // One browser at a time: a Chromium takes most of a core while it starts,
    // and the other tests share the machine.
    let _turn = BROWSERS
        .acquire()
        .await
        .expect("the semaphore is never closed");
    let mut driver = Driver::start().expect("chromedriver starts");
    let client = driver
        .session(theme, 1280, 900)
        .await
        .expect("a browser session");
    let outcome = tokio::time::timeout(TEST_LIMIT, tokio::spawn(test(client.clone()))).await;
    let message = match outcome {
        Ok(Ok(Ok(()))) => None,
        Ok(Ok(Err(error))) => Some(format!("{error:#}")),
        Ok(Err(join)) => Some(format!("panicked: {join}")),
        Err(_) => Some(format!("no result within {TEST_LIMIT:?}")),
    };
    let result = match message {
        None => Ok(()),
        Some(message) => {
            let file = format!("{name}-failure");
            let shot = tokio::time::timeout(DEADLINE, screenshot(&client, &file)).await;
            Err(Failure {
                message,
                screenshot: shot.ok().and_then(Result::ok),
            })
        }
    };
    let _ = tokio::time::timeout(DEADLINE, client.close()).await;
    result
}

/// Polls `condition` (a JavaScript expression) until it is true.
pub async fn wait_for(client: &Client, what: &str, condition: &str) -> anyhow::Result<()> {
    let script = format!("return Boolean({condition});");
    let deadline = Instant::now() + DEADLINE;
    loop {
        if client.execute(&script, vec![]).await? == Value::Bool(true) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("timed out waiting for {what} ({condition})");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Evaluates a JavaScript expression.
pub async fn eval(client: &Client, expression: &str) -> anyhow::Result<Value> {
    Ok(client
        .execute(&format!("return ({expression});"), vec![])
        .await?)
}

/// The text of the first element matching `css`.
pub async fn text(client: &Client, css: &str) -> anyhow::Result<String> {
    Ok(client
        .find(Locator::Css(css))
        .await
        .with_context(|| format!("no element {css}"))?
        .text()
        .await?)
}

/// Whether an alert, confirm or prompt dialog is open.
pub async fn dialog_open(client: &Client) -> anyhow::Result<bool> {
    match client.get_alert_text().await {
        Ok(_) => Ok(true),
        Err(error) if error.is_no_such_alert() => Ok(false),
        Err(error) => Err(error.into()),
    }
}
