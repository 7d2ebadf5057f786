//! The Docker image, built from the real Dockerfile with podman and run: mail
//! sent over SMTP to the published port is read back through the API, the
//! HEALTHCHECK passes, `podman stop` ends it gracefully within a second, the
//! process is not root, `/data` keeps mail across containers, and Mailpit's
//! and MailHog's variables work inside it.
//!
//! No registry is reachable here, so the `build` stage (which compiles inside
//! the official Rust image) is replaced by the same layout built outside:
//! the same static binary (`+crt-static`, built with the `container`
//! profile) laid out by the same scripts/container-rootfs, passed with
//! `--build-context build=DIR`. Every instruction of the final stage is the
//! Dockerfile's own. Podman must work: these tests fail, they never skip.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::harness::{Raw, deliver};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const TAG: &str = "localhost/mailsink-test:latest";

fn text(output: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Where the tests keep their podman configuration and the image layout.
fn work_dir() -> PathBuf {
    let dir = Path::new(ROOT).join("target/container-test");
    std::fs::create_dir_all(&dir).expect("create target/container-test");
    dir
}

/// Runs podman with the runtime that works here (runc; crun fails) and
/// returns its output, panicking with it when podman cannot be started.
fn podman(args: &[&str]) -> Output {
    let conf = work_dir().join("containers.conf");
    if !conf.exists() {
        std::fs::write(
            &conf,
            "[engine]\nruntime = \"runc\"\n\n[containers]\n\
             default_ulimits = [\"nofile=20000:20000\", \"nproc=32768:32768\"]\n",
        )
        .expect("write containers.conf");
    }
    Command::new("podman")
        .args(args)
        .env("CONTAINERS_CONF", &conf)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "podman is needed for the image tests (apt-get install podman buildah runc): {e}"
            )
        })
}

fn podman_ok(args: &[&str]) -> String {
    let output = podman(args);
    assert!(
        output.status.success(),
        "podman {args:?}: {}",
        text(&output)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// Builds the static binary and the image once per test run.
fn image() -> &'static str {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let binary = static_binary();
        // The build stage's file system: the Dockerfile copies its /rootfs/.
        let stage = work_dir().join("stage");
        let rootfs = stage.join("rootfs");
        let status = Command::new(Path::new(ROOT).join("scripts/container-rootfs"))
            .arg(&binary)
            .arg(&rootfs)
            .status()
            .expect("run scripts/container-rootfs");
        assert!(status.success(), "scripts/container-rootfs failed");
        let old = podman(&["image", "inspect", "--format", "{{.Id}}", TAG]);
        let context = format!("build={}", stage.display());
        podman_ok(&[
            "build",
            // The OCI format has no HEALTHCHECK; Docker's keeps it.
            "--format",
            "docker",
            "--isolation",
            "chroot",
            "--build-context",
            &context,
            "--tag",
            TAG,
            ROOT,
        ]);
        // Rebuilding moves the tag: the image it left behind goes.
        let new = podman_ok(&["image", "inspect", "--format", "{{.Id}}", TAG]);
        let old = String::from_utf8_lossy(&old.stdout).trim().to_owned();
        if old.len() > 10 && old != new {
            let _ = podman(&["rmi", &old]);
        }
    });
    TAG
}

/// `cargo build --profile container` of a statically linked binary, as the
/// Dockerfile builds it with `--release` (the profile only saves build time).
fn static_binary() -> PathBuf {
    let target = format!("{}-unknown-linux-gnu", std::env::consts::ARCH);
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = Command::new(cargo);
    // The variables cargo sets for tests (CARGO_PKG_NAME…) would make this
    // build differ from scripts/test's: ring's build script watches them.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let set_for_tests = [
            "CARGO_PKG_",
            "CARGO_MANIFEST_",
            "CARGO_BIN_",
            "CARGO_CRATE_",
        ]
        .iter()
        .any(|prefix| name.starts_with(prefix))
            || [
                "CARGO_PRIMARY_PACKAGE",
                "CARGO_TARGET_TMPDIR",
                "CARGO_RUSTC_CURRENT_DIR",
            ]
            .contains(&name.as_ref());
        if set_for_tests {
            command.env_remove(name.as_ref());
        }
    }
    let output = command
        .args([
            "build",
            "--locked",
            "--profile",
            "container",
            "--bin",
            "mailsink",
            "--target",
            &target,
        ])
        .current_dir(ROOT)
        .env("RUSTFLAGS", "-C target-feature=+crt-static")
        .output()
        .expect("run cargo");
    assert!(output.status.success(), "static build: {}", text(&output));
    let binary = Path::new(ROOT).join(format!("target/{target}/container/mailsink"));
    assert!(binary.exists(), "{} built", binary.display());
    binary
}

/// A running container, removed on drop.
struct Container {
    name: String,
}

/// A free loopback port (bound, then released for the container to take).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

impl Container {
    /// `podman run -d` of the test image with `args` before the image name.
    fn run(args: &[&str]) -> Self {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "mailsink-test-{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        );
        let image = image();
        // slirp4netns forwards the published ports in user space: the default
        // bridge network rewrites the host's firewall, which disturbs this
        // machine's own network set-up.
        let mut all = vec!["run", "-d", "--network", "slirp4netns", "--name", &name];
        all.extend_from_slice(args);
        all.push(image);
        podman_ok(&all);
        Self { name }
    }

    /// Runs the image's HEALTHCHECK once; true when it passes.
    fn healthy(&self) -> bool {
        let output = podman(&["healthcheck", "run", &self.name]);
        output.status.success()
    }

    /// Waits, polling the HEALTHCHECK, until the server inside is ready.
    fn wait_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.healthy() {
            assert!(
                Instant::now() < deadline,
                "the container never became healthy; logs:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn logs(&self) -> String {
        let output = podman(&["logs", &self.name]);
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    }

    fn inspect(&self, format: &str) -> String {
        podman_ok(&["inspect", "--format", format, &self.name])
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = podman(&["rm", "--force", "--volumes", "--time", "0", &self.name]);
    }
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

async fn messages(http: SocketAddr) -> serde_json::Value {
    reqwest::get(format!("http://{http}/api/v1/messages"))
        .await
        .expect("GET /api/v1/messages")
        .json()
        .await
        .expect("JSON")
}

/// Polls the API until it lists `n` messages.
async fn wait_for_total(http: SocketAddr, n: u64) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let list = messages(http).await;
        if list["total"] == n {
            return list;
        }
        assert!(Instant::now() < deadline, "expected {n} messages: {list}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn publish(host: u16, container: u16) -> String {
    format!("127.0.0.1:{host}:{container}")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_image_serves_smtp_and_the_api_as_an_unprivileged_user() {
    let (smtp, http) = (free_port(), free_port());
    let container = tokio::task::spawn_blocking(move || {
        let c = Container::run(&["-p", &publish(smtp, 1025), "-p", &publish(http, 8025)]);
        c.wait_healthy();
        c
    })
    .await
    .expect("start the container");

    let message = "From: app@example.com\r\nTo: ann@example.com\r\nSubject: from the host\r\n\r\nHello from outside the container.\r\n";
    let id = deliver(
        loopback(smtp),
        "app@example.com",
        &["ann@example.com"],
        message,
    )
    .await;
    let list = wait_for_total(loopback(http), 1).await;
    assert_eq!(list["messages"][0]["ID"], id.to_string());
    assert_eq!(list["messages"][0]["Subject"], "from the host");
    assert_eq!(list["messages"][0]["To"][0]["Address"], "ann@example.com");

    // The server process runs as 65534, not root (rootful podman: the same
    // uid on the host).
    let pid = container.inspect("{{.State.Pid}}");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read status");
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .expect("a Uid line");
    let uids: Vec<&str> = uid.split_whitespace().collect();
    assert_eq!(uids, ["65534"; 4], "real, effective, saved and fs uid");
    assert_eq!(container.inspect("{{.Config.User}}"), "65534:65534");
    assert!(container.healthy(), "HEALTHCHECK passes");

    // `podman stop --time 1` sends SIGTERM and kills after one second; an
    // exit status of 0 (not 137) means Mailsink stopped by itself in time.
    let name = container.name.clone();
    let (stop, took) = tokio::task::spawn_blocking(move || {
        let start = Instant::now();
        let output = podman(&["stop", "--time", "1", &name]);
        (output, start.elapsed())
    })
    .await
    .expect("stop");
    assert!(stop.status.success(), "{}", text(&stop));
    assert_eq!(
        container.inspect("{{.State.ExitCode}}"),
        "0",
        "{}",
        container.logs()
    );
    eprintln!("podman stop took {took:?}");
    assert!(
        container.logs().contains("shutting down"),
        "{}",
        container.logs()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_data_volume_keeps_mail_across_containers() {
    let volume = Volume::create();
    let mount = format!("{}:/data", volume.0);
    for round in 1..=2u64 {
        let (smtp, http) = (free_port(), free_port());
        let mount = mount.clone();
        let container = tokio::task::spawn_blocking(move || {
            let c = Container::run(&[
                "-v",
                &mount,
                "-e",
                "MAILSINK_DB=/data/mailsink.db",
                "-p",
                &publish(smtp, 1025),
                "-p",
                &publish(http, 8025),
            ]);
            c.wait_healthy();
            c
        })
        .await
        .expect("start the container");
        let message = format!("To: keep@example.com\r\nSubject: round {round}\r\n\r\nkept\r\n");
        deliver(
            loopback(smtp),
            "a@example.com",
            &["keep@example.com"],
            &message,
        )
        .await;
        let list = wait_for_total(loopback(http), round).await;
        assert_eq!(list["messages"][0]["Subject"], format!("round {round}"));
        drop(container);
    }
}

/// A named volume, removed on drop.
struct Volume(String);

impl Volume {
    fn create() -> Self {
        let name = format!("mailsink-test-{}", std::process::id());
        podman_ok(&["volume", "create", &name]);
        Self(name)
    }
}

impl Drop for Volume {
    fn drop(&mut self) {
        let _ = podman(&["volume", "rm", "--force", &self.0]);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn mailpit_and_mailhog_variables_work_in_the_image() {
    // Mailpit's names: a listener moved from the image's default, a
    // message limit and the database directory.
    let (smtp, http) = (free_port(), free_port());
    let container = tokio::task::spawn_blocking(move || {
        let c = Container::run(&[
            "-e",
            "MP_SMTP_BIND_ADDR=0.0.0.0:2525",
            "-e",
            "MP_UI_BIND_ADDR=0.0.0.0:9025",
            "-e",
            "MP_MAX_MESSAGES=1",
            "-e",
            "MP_DATABASE=/data",
            "-e",
            "MP_SMTP_AUTH_ACCEPT_ANY=1",
            "-p",
            &publish(smtp, 2525),
            "-p",
            &publish(http, 9025),
        ]);
        c.wait_healthy();
        c
    })
    .await
    .expect("start the container");
    for n in 1..=3 {
        let message = format!("To: a@example.com\r\nSubject: n{n}\r\n\r\nbody\r\n");
        deliver(
            loopback(smtp),
            "a@example.com",
            &["a@example.com"],
            &message,
        )
        .await;
    }
    let list = wait_for_total(loopback(http), 1).await;
    assert_eq!(list["messages"][0]["Subject"], "n3", "pruned to the newest");
    let logs = container.logs();
    assert!(logs.contains("/data/mailsink.db"), "{logs}");
    assert!(
        logs.contains("MP_SMTP_AUTH_ACCEPT_ANY changes nothing"),
        "{logs}"
    );
    drop(container);

    // MailHog's names.
    let (smtp, http) = (free_port(), free_port());
    let container = tokio::task::spawn_blocking(move || {
        let c = Container::run(&[
            "-e",
            "MH_SMTP_BIND_ADDR=0.0.0.0:3025",
            "-e",
            "MH_API_BIND_ADDR=0.0.0.0:3080",
            "-e",
            "MH_UI_BIND_ADDR=0.0.0.0:3080",
            "-e",
            "MH_HOSTNAME=mailhog.example",
            "-p",
            &publish(smtp, 3025),
            "-p",
            &publish(http, 3080),
        ]);
        c.wait_healthy();
        c
    })
    .await
    .expect("start the container");
    let mut raw = Raw::connect_silent(loopback(smtp)).await;
    let greeting = raw.reply().await;
    assert!(greeting.starts_with("220 mailhog.example "), "{greeting:?}");
    raw.expect("QUIT", "221 ").await;
    assert_eq!(messages(loopback(http)).await["total"], 0);
    drop(container);

    // A bad value stops the container at start, naming the variable.
    let output = tokio::task::spawn_blocking(|| {
        podman(&[
            "run",
            "--rm",
            "--network",
            "slirp4netns",
            "-e",
            "MP_MAX_AGE=forever",
            image(),
        ])
    })
    .await
    .expect("run");
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("MP_MAX_AGE"),
        "{}",
        text(&output)
    );
}
