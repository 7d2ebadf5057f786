//! `--api`: how fast the REST API answers with a full mailbox while mail
//! keeps arriving.
//!
//! Mailsink is filled with numbered messages (message `n` has subject
//! `order n` and goes to `user{n % 1000}@example.com`) by the pipelining
//! client. Then, while the same client keeps sending in the background from
//! its own thread, three kinds of request are timed one at a time, in turn,
//! each kind over its own keep-alive connection: the first page of the list,
//! a search for one recipient (a different one each time, so the cache is
//! not always hot), and one message by a random ID.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use rand::Rng;
use rand::seq::IndexedRandom;
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::time::{sleep, timeout};

use crate::http::{self, Client};
use crate::machine::{self, Machine};
use crate::pipeline::{self, Addressing, PipelineLoad, PipelineOutcome, USERS};
use crate::report::{self, mib};
use crate::server::{self, Server};
use crate::throughput::per_second;

/// Body size of every message, filled or sent in the background.
const BODY_BYTES: usize = 1024;
/// Items per page in the timed list and search requests.
const PAGE: u32 = 50;
/// Requests of each kind sent before the timed ones, on the same
/// connections, and not timed: they open the connections.
const WARMUP_REQUESTS: u32 = 10;
/// The background load runs this long before the first request, so the
/// requests meet it in its steady state.
const RAMP_UP: Duration = Duration::from_secs(1);
/// IDs for the message requests come from this many list pages of this
/// size, spread over the whole mailbox.
const ID_PAGES: u64 = 20;
pub const ID_PAGE_SIZE: u64 = 500;
/// The p99 latency each kind of request should stay under.
const P99_TARGET: Duration = Duration::from_millis(10);
/// The resident memory Mailsink should stay under, in KiB.
const RSS_TARGET_KIB: u64 = 100 * 1024;
/// How long the HTTP listener may take to answer, and the message count to
/// reach the number of messages sent.
const READY_LIMIT: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(100);
/// Limit for one request; a request that takes longer counts as failed.
const REQUEST_LIMIT: Duration = Duration::from_secs(30);
/// How often progress is printed on stderr while requests are timed.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);
/// Characters of an unexpected body quoted in a failure.
const QUOTE_CHARS: usize = 200;

/// What `--api` was asked to do.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Messages in the mailbox before the requests start.
    pub messages: u32,
    /// Timed requests of each kind.
    pub requests: u32,
    /// Connections of the pipelining client while filling.
    pub fill_connections: u32,
    /// Connections of the background load.
    pub ingest_connections: u32,
    /// Messages per second the background load is paced to, over all its
    /// connections; `None` sends as fast as Mailsink answers.
    pub ingest_rate: Option<u32>,
}

/// The kinds of request timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    List,
    Search,
    Message,
}

impl Kind {
    const ALL: [Self; 3] = [Self::List, Self::Search, Self::Message];

    /// The request as the report shows it.
    fn label(self, ids: usize) -> String {
        match self {
            Self::List => format!("`GET /api/v1/messages?limit={PAGE}`"),
            Self::Search => format!(
                "`GET /api/v1/search?query=to:userN@example.com&limit={PAGE}`, \
                 N random"
            ),
            Self::Message => {
                format!("`GET /api/v1/message/{{ID}}?peek=1`, ID random among {ids}")
            }
        }
    }
}

/// One request to send and what its body must contain.
struct Request {
    target: String,
    expected: Vec<String>,
}

impl Request {
    /// A random request of `kind`. `users` bounds the recipient numbers to
    /// those that have mail.
    fn new(kind: Kind, rng: &mut impl Rng, users: u64, ids: &[String]) -> Self {
        match kind {
            Kind::List => Self {
                target: format!("/api/v1/messages?limit={PAGE}"),
                expected: vec!["\"messages\":[".to_owned(), "\"ID\":\"".to_owned()],
            },
            Kind::Search => {
                let user = pipeline::numbered_recipient(rng.random_range(0..users));
                let query = http::encode_query_value(&format!("to:{user}"));
                Self {
                    target: format!("/api/v1/search?query={query}&limit={PAGE}"),
                    // Every recipient has mail, so the page lists some.
                    expected: vec!["\"messages\":[".to_owned(), user],
                }
            }
            Kind::Message => {
                let id = ids.choose(rng).map_or("", String::as_str);
                Self {
                    target: format!("/api/v1/message/{id}?peek=1"),
                    expected: vec![format!("\"ID\":\"{id}\"")],
                }
            }
        }
    }
}

/// The timings of one kind of request.
struct Series {
    kind: Kind,
    client: Client,
    /// Latencies of the timed requests that succeeded.
    latencies: Vec<Duration>,
    /// Requests (warm-up included) that failed or answered unexpectedly.
    failed: u64,
    first_failure: Option<String>,
}

impl Series {
    fn new(kind: Kind, http_addr: SocketAddr) -> Self {
        Self {
            kind,
            client: Client::new(http_addr),
            latencies: Vec::new(),
            failed: 0,
            first_failure: None,
        }
    }

    /// Sends one request, checks the answer and, if `timed`, records how
    /// long it took.
    async fn send(&mut self, request: &Request, timed: bool) {
        let started = Instant::now();
        let outcome = timeout(REQUEST_LIMIT, self.client.get(&request.target)).await;
        let elapsed = started.elapsed();
        let verdict = match outcome {
            Err(_) => Err(format!("no answer within {REQUEST_LIMIT:?}")),
            Ok(Err(error)) => Err(format!("{error:#}")),
            Ok(Ok(response)) => check(&response, &request.expected),
        };
        match verdict {
            Ok(()) if timed => self.latencies.push(elapsed),
            Ok(()) => {}
            Err(reason) => {
                self.failed += 1;
                self.first_failure
                    .get_or_insert_with(|| format!("{}: {reason}", request.target));
            }
        }
    }
}

/// Fails unless the response is a 200 whose body contains every expected text.
fn check(response: &http::Response, expected: &[String]) -> Result<(), String> {
    let text = response.text();
    let quote = || text.chars().take(QUOTE_CHARS).collect::<String>();
    if response.status != 200 {
        return Err(format!("HTTP {}: {}", response.status, quote()));
    }
    match expected.iter().find(|part| !text.contains(part.as_str())) {
        None => Ok(()),
        Some(missing) => Err(format!("no {missing} in the body: {}", quote())),
    }
}

/// The background load: the pipelining client on a thread of its own, so
/// that its work never delays reading a timed response. Dropping it stops
/// the load.
struct Background {
    stop: oneshot::Sender<()>,
    thread: JoinHandle<Result<PipelineOutcome>>,
}

impl Background {
    fn start(addr: SocketAddr, load: PipelineLoad) -> Result<Self> {
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("bench-ingest".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .context("starting the ingestion thread's runtime")?;
                // A dropped sender stops the load as well as a sent value.
                let stop = async {
                    let _ = stopped.await;
                };
                let (outcome, _) = runtime.block_on(pipeline::run_until(addr, load, stop));
                Ok(outcome)
            })
            .context("starting the ingestion thread")?;
        Ok(Self { stop, thread })
    }

    /// Stops the load and returns how it went.
    async fn finish(self) -> Result<PipelineOutcome> {
        let _ = self.stop.send(());
        let thread = self.thread;
        tokio::task::spawn_blocking(move || thread.join())
            .await
            .context("waiting for the ingestion thread")?
            .map_err(|_| anyhow!("the ingestion thread panicked"))?
    }
}

/// What the report shows.
struct Results {
    series: Vec<Series>,
    ids: usize,
    fill: PipelineOutcome,
    fill_connections: u32,
    ingest: Ingest,
    rss_filled: u64,
    rss_after: u64,
    peak: u64,
}

/// The background load during the timed requests.
struct Ingest {
    load: PipelineLoad,
    rate: Option<u32>,
    /// Messages in the store when the timed requests started and ended.
    totals: [u64; 2],
    window: Duration,
    outcome: PipelineOutcome,
}

/// Runs the API benchmark and returns its Markdown report.
pub async fn run(
    mailsink_binary: &Path,
    machine: &Machine,
    settings: Settings,
    dir: &Path,
) -> Result<String> {
    let mut mailsink = server::start_mailsink_with_http(mailsink_binary, dir).await?;
    let http_addr = mailsink
        .http_addr()
        .context("Mailsink was started without HTTP")?;
    let mut control = Client::new(http_addr);
    wait_for_http(&mut control, &mut mailsink).await?;

    let expected = u64::from(settings.messages);
    eprintln!(
        "api: filling Mailsink with {expected} messages of {} ({} connections)",
        report::size_label(BODY_BYTES),
        settings.fill_connections
    );
    let fill = fill(&mailsink, settings).await;
    mailsink.ensure_running()?;
    ensure!(
        fill.failed == 0,
        "filling failed: {} of {expected} messages not accepted; first error: {}",
        fill.failed,
        fill.first_error.as_deref().unwrap_or("none recorded")
    );
    eprintln!(
        "api: filled in {:.1} s ({:.0} msg/s)",
        fill.elapsed.as_secs_f64(),
        per_second(fill.accepted, fill.elapsed)
    );
    wait_for_total(&mut control, &mut mailsink, expected).await?;
    let rss_filled = machine::memory_kib(mailsink.pid(), "VmRSS")?;

    let ids = collect_ids(&mut control, expected).await?;
    eprintln!("api: collected {} message IDs", ids.len());

    let ingest_load = PipelineLoad {
        connections: settings.ingest_connections,
        // Until stopped.
        messages_per_connection: u32::MAX,
        body_bytes: BODY_BYTES,
        bdat: false,
        addressing: Addressing::Numbered { first: expected },
        pace: settings.ingest_rate.map(|rate| {
            Duration::from_secs_f64(f64::from(settings.ingest_connections) / f64::from(rate))
        }),
    };
    let background = Background::start(mailsink.addr(), ingest_load)?;
    sleep(RAMP_UP).await;
    let users = expected.min(USERS);
    let mut series: Vec<Series> = Kind::ALL
        .iter()
        .map(|&kind| Series::new(kind, http_addr))
        .collect();
    let mut rng = rand::rng();
    for _ in 0..WARMUP_REQUESTS {
        for one in &mut series {
            let request = Request::new(one.kind, &mut rng, users, &ids);
            one.send(&request, false).await;
        }
    }
    let total_before = fetch_total(&mut control).await?;
    eprintln!(
        "api: timing {} requests of each kind while {} connections send mail",
        settings.requests, settings.ingest_connections
    );
    let started = Instant::now();
    let mut last_progress = started;
    for round in 1..=settings.requests {
        for one in &mut series {
            let request = Request::new(one.kind, &mut rng, users, &ids);
            one.send(&request, true).await;
        }
        if last_progress.elapsed() >= PROGRESS_EVERY {
            last_progress = Instant::now();
            eprintln!(
                "  {:>5} s: {round}/{} rounds",
                started.elapsed().as_secs(),
                settings.requests
            );
        }
    }
    let window = started.elapsed();
    let total_after = fetch_total(&mut control).await;
    let outcome = background.finish().await?;
    mailsink.ensure_running()?;
    let total_after = total_after?;
    let rss_after = machine::memory_kib(mailsink.pid(), "VmRSS")?;
    let peak = machine::memory_kib(mailsink.pid(), "VmHWM")?;

    let results = Results {
        series,
        ids: ids.len(),
        fill,
        fill_connections: settings.fill_connections,
        ingest: Ingest {
            load: ingest_load,
            rate: settings.ingest_rate,
            totals: [total_before, total_after],
            window,
            outcome,
        },
        rss_filled,
        rss_after,
        peak,
    };
    let mut out = String::new();
    write_report(&mut out, machine, &mailsink, expected, &results)
        .context("formatting the report")?;
    Ok(out)
}

/// Fills the mailbox with `settings.messages` numbered messages.
pub async fn fill(mailsink: &Server, settings: Settings) -> PipelineOutcome {
    pipeline::fill(
        mailsink.addr(),
        settings.messages,
        settings.fill_connections,
        BODY_BYTES,
        |first| Addressing::Numbered { first },
    )
    .await
}

/// Waits until `GET /readyz` answers 200.
pub async fn wait_for_http(client: &mut Client, mailsink: &mut Server) -> Result<()> {
    let deadline = Instant::now() + READY_LIMIT;
    loop {
        mailsink.ensure_running()?;
        let error = match timeout(REQUEST_LIMIT, client.get("/readyz")).await {
            Ok(Ok(response)) if response.status == 200 => return Ok(()),
            Ok(Ok(response)) => anyhow!("HTTP {}: {}", response.status, response.text()),
            Ok(Err(error)) => error,
            Err(_) => anyhow!("no answer within {REQUEST_LIMIT:?}"),
        };
        ensure!(
            Instant::now() < deadline,
            "Mailsink's HTTP listener did not get ready within {READY_LIMIT:?}: {error:#}"
        );
        sleep(POLL).await;
    }
}

/// Waits until the list reports `expected` messages.
pub async fn wait_for_total(
    client: &mut Client,
    mailsink: &mut Server,
    expected: u64,
) -> Result<()> {
    let deadline = Instant::now() + READY_LIMIT;
    loop {
        mailsink.ensure_running()?;
        let total = fetch_total(client).await?;
        if total == expected {
            return Ok(());
        }
        ensure!(
            total < expected,
            "the list reports {total} messages; only {expected} were sent"
        );
        ensure!(
            Instant::now() < deadline,
            "the list still reports {total} of {expected} messages after {READY_LIMIT:?}"
        );
        sleep(POLL).await;
    }
}

/// `total` from `GET /api/v1/messages?limit=1`.
async fn fetch_total(client: &mut Client) -> Result<u64> {
    let page = fetch_json(client, "/api/v1/messages?limit=1").await?;
    page.get("total")
        .and_then(Value::as_u64)
        .context("no total in the message list")
}

/// A JSON answer, which must come with a 200.
async fn fetch_json(client: &mut Client, target: &str) -> Result<Value> {
    let response = timeout(REQUEST_LIMIT, client.get(target))
        .await
        .map_err(|_| anyhow!("no answer to {target} within {REQUEST_LIMIT:?}"))?
        .with_context(|| format!("GET {target}"))?;
    if response.status != 200 {
        let quote: String = response.text().chars().take(QUOTE_CHARS).collect();
        bail!("GET {target}: HTTP {}: {quote}", response.status);
    }
    serde_json::from_slice(&response.body).with_context(|| format!("GET {target}: not JSON"))
}

/// Message IDs from list pages spread evenly over the mailbox, newest to
/// oldest.
pub async fn collect_ids(client: &mut Client, messages: u64) -> Result<Vec<String>> {
    let last_start = messages.saturating_sub(ID_PAGE_SIZE);
    let mut seen = HashSet::new();
    let mut ids = Vec::new();
    for page in 0..ID_PAGES {
        let start = last_start * page / (ID_PAGES - 1);
        let target = format!("/api/v1/messages?start={start}&limit={ID_PAGE_SIZE}");
        let list = fetch_json(client, &target).await?;
        let items = list
            .get("messages")
            .and_then(Value::as_array)
            .with_context(|| format!("GET {target}: no messages array"))?;
        for item in items {
            let id = item
                .get("ID")
                .and_then(Value::as_str)
                .with_context(|| format!("GET {target}: a message without an ID"))?;
            if seen.insert(id.to_owned()) {
                ids.push(id.to_owned());
            }
        }
    }
    ensure!(!ids.is_empty(), "the message list returned no IDs");
    Ok(ids)
}

/// The nearest-rank percentile `p` (0 < p ≤ 1) of sorted values.
pub fn percentile(sorted: &[Duration], p: f64) -> Option<Duration> {
    let len = sorted.len();
    if len == 0 {
        return None;
    }
    let rank = (p * len as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, len) - 1])
}

fn millis(value: Option<Duration>) -> String {
    value.map_or_else(
        || "–".to_owned(),
        |d| format!("{:.2}", d.as_secs_f64() * 1000.0),
    )
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "NOT met" }
}

fn write_report(
    out: &mut String,
    machine: &Machine,
    mailsink: &Server,
    messages: u64,
    results: &Results,
) -> std::fmt::Result {
    writeln!(out, "# Mailsink API latency benchmark\n")?;
    report::machine_lines(out, machine)?;
    let fill = &results.fill;
    writeln!(
        out,
        "- Mailbox: {messages} messages of {} body (message n: subject `order n`, to \
         `user{{n % {USERS}}}@example.com`), sent by the pipelining client over {} \
         connections in {:.1} s ({:.0} msg/s).",
        report::size_label(BODY_BYTES),
        results.fill_connections,
        fill.elapsed.as_secs_f64(),
        per_second(fill.accepted, fill.elapsed),
    )?;
    writeln!(
        out,
        "- Requests: one at a time over loopback, the three kinds in turn, each kind on \
         its own keep-alive connection, after {WARMUP_REQUESTS} untimed warm-up requests \
         of each kind. Latency runs from sending the request to reading the last byte of \
         the answer. Every answer must be a 200 with the expected JSON; anything else \
         counts as failed. The client, the background load and Mailsink share the \
         machine.\n"
    )?;
    writeln!(
        out,
        "| request | p50 ms | p90 ms | p99 ms | max ms | requests | failed | p99 under {} ms |",
        P99_TARGET.as_millis()
    )?;
    writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---|")?;
    for series in &results.series {
        let mut sorted = series.latencies.clone();
        sorted.sort_unstable();
        let p99 = percentile(&sorted, 0.99);
        let target = match p99 {
            Some(p99) => verdict(p99 < P99_TARGET),
            None => "n/a",
        };
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {target} |",
            series.kind.label(results.ids),
            millis(percentile(&sorted, 0.50)),
            millis(percentile(&sorted, 0.90)),
            millis(p99),
            millis(sorted.last().copied()),
            sorted.len(),
            series.failed,
        )?;
    }
    writeln!(
        out,
        "\n`requests` counts timed requests that succeeded; `failed` counts failures \
         among all requests, warm-up included. Search recipients are drawn from \
         user0–user{}@example.com; each has about {} messages before the load starts.",
        messages.min(USERS) - 1,
        messages.div_ceil(USERS)
    )?;
    let reconnects: Vec<String> = results
        .series
        .iter()
        .filter(|s| s.client.connections() > 1)
        .map(|s| {
            format!(
                "{} connections for {}",
                s.client.connections(),
                s.kind.label(results.ids)
            )
        })
        .collect();
    if !reconnects.is_empty() {
        writeln!(out, "\nKeep-alive did not hold: {}.", reconnects.join("; "))?;
    }
    ingestion(out, &results.ingest)?;
    let [filled, after] = [results.rss_filled, results.rss_after];
    writeln!(
        out,
        "\nMailsink VmRSS: {} after filling, {} after the requests (target under {}: {}); \
         peak VmHWM {}.",
        mib(filled),
        mib(after),
        mib(RSS_TARGET_KIB),
        verdict(filled.max(after) < RSS_TARGET_KIB),
        mib(results.peak)
    )?;
    let failures: Vec<(&Series, &str)> = results
        .series
        .iter()
        .filter_map(|s| s.first_failure.as_deref().map(|f| (s, f)))
        .collect();
    if !failures.is_empty() {
        writeln!(out, "\nFailures (the first of each kind):\n")?;
        for (series, failure) in failures {
            writeln!(
                out,
                "- {}: {} failed; first: {failure}",
                series.kind.label(results.ids),
                series.failed
            )?;
        }
    }
    writeln!(out, "\nMailsink: `{}`", mailsink.command_line())
}

fn ingestion(out: &mut String, ingest: &Ingest) -> std::fmt::Result {
    let [before, after] = ingest.totals;
    let stored = after.saturating_sub(before);
    let pace = match ingest.rate {
        Some(rate) => format!("paced to {rate} msg/s"),
        None => "unpaced".to_owned(),
    };
    writeln!(
        out,
        "\nIngestion while the requests were timed: {stored} messages stored in {:.1} s \
         ({:.0} msg/s; the store went from {before} to {after} messages), from the \
         pipelining client with {} connections, {} bodies, {pace}.",
        ingest.window.as_secs_f64(),
        per_second(stored, ingest.window),
        ingest.load.connections,
        report::size_label(ingest.load.body_bytes),
    )?;
    let outcome = &ingest.outcome;
    if outcome.rejected > 0 || outcome.connection_errors > 0 {
        writeln!(
            out,
            "\nThe background load had trouble: {} message(s) rejected, {} connection(s) \
             broken; first: {}.",
            outcome.rejected,
            outcome.connection_errors,
            outcome.first_error.as_deref().unwrap_or("none recorded")
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let ms = |n: u64| Duration::from_millis(n);
        let sorted: Vec<Duration> = (1..=100).map(ms).collect();
        assert_eq!(percentile(&sorted, 0.50), Some(ms(50)));
        assert_eq!(percentile(&sorted, 0.99), Some(ms(99)));
        assert_eq!(percentile(&sorted, 1.0), Some(ms(100)));
        assert_eq!(percentile(&[ms(7)], 0.99), Some(ms(7)));
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(percentile(&[ms(1), ms(2), ms(3)], 0.5), Some(ms(2)));
    }

    #[test]
    fn checks_status_and_body() {
        let response = |status, body: &str| http::Response {
            status,
            body: body.as_bytes().to_vec(),
        };
        let expected = vec!["\"ID\":\"abc\"".to_owned()];
        assert!(check(&response(200, r#"{"ID":"abc"}"#), &expected).is_ok());
        assert!(check(&response(200, r#"{"ID":"abd"}"#), &expected).is_err());
        assert!(check(&response(404, r#"{"ID":"abc"}"#), &expected).is_err());
    }
}
