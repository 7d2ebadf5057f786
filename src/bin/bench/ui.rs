//! `--ui`: the web inbox with a full mailbox. Mailsink is filled with
//! `--api-messages` numbered messages of 1 KB (100,000 by default) as for
//! `--api`; then the benchmark weighs the inbox page and everything it links
//! (HTML, stylesheet, script, icon: what a first visit downloads), and times
//! `--api-requests` requests of each kind, one at a time over a keep-alive
//! connection: the newest inbox page `/`, an inbox page near the oldest
//! message (`/?before={ID}`, a keyset page), a search page
//! (`/search?q=to:userN@example.com`) and a message page
//! (`/view/{ID}?peek=1`). For contrast it also times the API's
//! `GET /api/v1/messages?start=…&limit=50` at the same depth, which pages
//! with an OFFSET.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, ensure};
use rand::Rng;
use tokio::time::timeout;

use crate::api::{self, Settings};
use crate::http::Client;
use crate::machine::{self, Machine};
use crate::pipeline::USERS;
use crate::report::{self, mib};
use crate::server;

/// Limit for one request.
const REQUEST_LIMIT: Duration = Duration::from_secs(30);

/// Makes the next request's target.
type Target = Box<dyn Fn(&mut rand::rngs::ThreadRng) -> String>;

/// One kind of timed request.
struct Series {
    label: String,
    bytes: usize,
    times: Vec<Duration>,
}

/// Runs the UI benchmark and returns its Markdown report.
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
    api::wait_for_http(&mut control, &mut mailsink).await?;
    let expected = u64::from(settings.messages);
    eprintln!("ui: filling Mailsink with {expected} messages");
    let fill = api::fill(&mailsink, settings).await;
    mailsink.ensure_running()?;
    ensure!(
        fill.failed == 0,
        "filling failed: {} not accepted",
        fill.failed
    );
    api::wait_for_total(&mut control, &mut mailsink, expected).await?;
    let ids = api::collect_ids(&mut control, expected).await?;
    // The first ID of the last list page: a full page of older mail follows it.
    let deep = ids
        .len()
        .checked_sub(api::ID_PAGE_SIZE as usize)
        .and_then(|at| ids.get(at))
        .or(ids.last())
        .context("no message IDs")?
        .clone();
    let depth = expected.saturating_sub(api::ID_PAGE_SIZE);

    // A first visit: the page, then what it links.
    let mut client = Client::new(http_addr);
    let inbox = get(&mut client, "/").await?;
    let page = String::from_utf8_lossy(&inbox.0).into_owned();
    ensure!(
        page.contains("<li class=\"msg"),
        "the inbox lists no message"
    );
    let mut linked = Vec::new();
    for url in asset_urls(&page) {
        let (body, _) = get(&mut client, &url).await?;
        linked.push((url, body.len()));
    }

    let users = expected.min(USERS);
    let mut rng = rand::rng();
    let mut series: Vec<Series> = Vec::new();
    let requests: Vec<(String, Target)> = vec![
        ("GET / (newest 50)".to_owned(), Box::new(|_| "/".to_owned())),
        (
            format!("GET /?before={{ID}} ({depth} messages deep)"),
            Box::new(move |_| format!("/?before={deep}")),
        ),
        (
            "GET /search?q=to:userN@example.com".to_owned(),
            Box::new(move |rng| {
                format!(
                    "/search?q=to%3Auser{}%40example.com",
                    rng.random_range(0..users)
                )
            }),
        ),
        (
            "GET /view/{ID}?peek=1".to_owned(),
            Box::new({
                let ids = ids.clone();
                move |rng| format!("/view/{}?peek=1", ids[rng.random_range(0..ids.len())])
            }),
        ),
        (
            format!("GET /api/v1/messages?start={depth}&limit=50 (OFFSET, for contrast)"),
            Box::new(move |_| format!("/api/v1/messages?start={depth}&limit=50")),
        ),
    ];
    eprintln!("ui: timing {} requests of each kind", settings.requests);
    for (label, target) in &requests {
        let mut one = Series {
            label: label.clone(),
            bytes: 0,
            times: Vec::with_capacity(settings.requests as usize),
        };
        for _ in 0..settings.requests {
            let target = target(&mut rng);
            let (body, took) = get(&mut client, &target).await?;
            one.bytes = body.len();
            one.times.push(took);
        }
        one.times.sort();
        series.push(one);
    }
    mailsink.ensure_running()?;
    let rss = machine::memory_kib(mailsink.pid(), "VmRSS")?;

    let mut out = String::new();
    write_report(
        &mut out,
        machine,
        expected,
        inbox.0.len(),
        &linked,
        &series,
        rss,
    )
    .context("formatting the report")?;
    Ok(out)
}

/// A 200 answer's body and how long it took.
async fn get(client: &mut Client, target: &str) -> Result<(Vec<u8>, Duration)> {
    let started = Instant::now();
    let response = timeout(REQUEST_LIMIT, client.get(target))
        .await
        .map_err(|_| anyhow!("no answer to {target} within {REQUEST_LIMIT:?}"))??;
    let took = started.elapsed();
    ensure!(
        response.status == 200,
        "GET {target}: HTTP {}",
        response.status
    );
    Ok((response.body, took))
}

/// The `/static/…` URLs a page links, in order.
fn asset_urls(page: &str) -> Vec<String> {
    page.match_indices("\"/static/")
        .filter_map(|(at, _)| {
            let rest = &page[at + 1..];
            rest.find('"').map(|end| rest[..end].replace("&#38;", "&"))
        })
        .collect()
}

fn write_report(
    out: &mut String,
    machine: &Machine,
    messages: u64,
    page_bytes: usize,
    linked: &[(String, usize)],
    series: &[Series],
    rss_kib: u64,
) -> std::fmt::Result {
    writeln!(out, "# Mailsink web UI with {messages} messages\n")?;
    report::machine_lines(out, machine)?;
    writeln!(out, "\n## What a first visit to the inbox downloads\n")?;
    writeln!(out, "| file | bytes |\n| --- | ---: |")?;
    writeln!(out, "| `/` (HTML, 50 rows) | {page_bytes} |")?;
    for (url, bytes) in linked {
        let name = url.split('?').next().unwrap_or(url);
        writeln!(out, "| `{name}` | {bytes} |")?;
    }
    let total = page_bytes + linked.iter().map(|(_, b)| b).sum::<usize>();
    writeln!(out, "| **total** (uncompressed) | **{total}** |")?;
    writeln!(
        out,
        "\n## Latency, one request at a time over keep-alive\n\n\
         | request | bytes | p50 | p90 | p99 | max |\n| --- | ---: | ---: | ---: | ---: | ---: |"
    )?;
    for one in series {
        let at = |p: f64| {
            api::percentile(&one.times, p).map_or("–".to_owned(), |d| {
                format!("{:.2} ms", d.as_secs_f64() * 1000.0)
            })
        };
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            one.label,
            one.bytes,
            at(0.5),
            at(0.9),
            at(0.99),
            at(1.0)
        )?;
    }
    writeln!(
        out,
        "\nMailsink's resident memory afterwards: {}.",
        mib(rss_kib)
    )
}
