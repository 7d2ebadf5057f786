//! The Markdown report printed on stdout.

use std::fmt::{self, Write as _};

use crate::machine::Machine;
use crate::throughput::{CpuTally, LoadResult, MAILSINK, SINK, Sample, SideResult};

/// What the throughput report shows besides the table.
pub struct Context<'a> {
    pub machine: &'a Machine,
    pub repeats: u32,
    pub small_messages: u32,
    pub large_messages: u32,
    pub clock_ticks: u64,
    /// Server names and command lines, smtp-sink first.
    pub servers: [(&'a str, &'a str); 2],
    /// The smtp-source command line with placeholders.
    pub source_command: String,
    pub memory: Memory,
}

/// Resident memory after all loads, in KiB.
pub struct Memory {
    pub mailsink_rss: u64,
    pub mailsink_peak: u64,
    pub sink_rss: u64,
}

/// The whole throughput report.
pub fn throughput(ctx: &Context<'_>, results: &[LoadResult]) -> Result<String, fmt::Error> {
    let mut out = String::new();
    writeln!(out, "# Mailsink SMTP ingestion benchmark\n")?;
    machine_lines(&mut out, ctx.machine)?;
    writeln!(
        out,
        "- Runs: each load runs against smtp-sink and then Mailsink, {}; rates are \
         medians. Messages per run: {} of 1 KB, {} of 100 KB (body size; headers come \
         on top). Clients and servers share the machine.\n",
        match ctx.repeats {
            1 => "once".to_owned(),
            repeats => format!("{repeats} times"),
        },
        ctx.small_messages,
        ctx.large_messages
    )?;
    table(&mut out, results)?;
    failures(&mut out, results)?;
    cpu(&mut out, results, ctx.clock_ticks)?;
    let memory = &ctx.memory;
    writeln!(
        out,
        "\nMailsink resident memory after all loads: {} (VmRSS; peak VmHWM {}). \
         smtp-sink: {}.",
        mib(memory.mailsink_rss),
        mib(memory.mailsink_peak),
        mib(memory.sink_rss)
    )?;
    writeln!(out, "\nCommands:\n")?;
    for (name, command) in ctx.servers {
        writeln!(out, "- {name}: `{command}`")?;
    }
    writeln!(out, "- load: `{}`", ctx.source_command)?;
    Ok(out)
}

/// The machine description that every report starts with.
pub fn machine_lines(out: &mut String, machine: &Machine) -> fmt::Result {
    writeln!(
        out,
        "- Machine: {}, {} CPUs, {:.1} GiB memory, Linux {}",
        machine.cpu_model,
        machine.cpus,
        machine.memory_kib as f64 / (1024.0 * 1024.0),
        machine.kernel
    )?;
    writeln!(
        out,
        "- Date: {}",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
    )
}

fn table(out: &mut String, results: &[LoadResult]) -> fmt::Result {
    writeln!(
        out,
        "| load | sessions | size | mode | smtp-sink msg/s | Mailsink msg/s | ratio |"
    )?;
    writeln!(out, "|---|---:|---:|---|---:|---:|---:|")?;
    for result in results {
        let load = &result.load;
        let sink = summarize(&result.sides[SINK]);
        let mailsink = summarize(&result.sides[MAILSINK]);
        let ratio = match (sink.median, mailsink.median) {
            (Some(s), Some(m)) if s > 0.0 => format!("{:.2}", m / s),
            _ => "–".to_owned(),
        };
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {ratio} |",
            load.name(),
            load.sessions(),
            size_label(load.body_bytes()),
            load.mode(),
            sink.text,
            mailsink.text,
        )?;
    }
    writeln!(
        out,
        "\nratio = Mailsink msg/s ÷ smtp-sink msg/s. smtp-sink discards mail, so it \
         shows what this client and machine can push; ⚠ marks a cell with failed runs \
         or messages (listed below)."
    )
}

/// A table cell: the median rate, or why there is none.
struct Summary {
    median: Option<f64>,
    text: String,
}

fn summarize(side: &SideResult) -> Summary {
    let mut rates = Vec::new();
    let mut flagged = false;
    let mut skipped = None;
    for sample in &side.samples {
        match sample {
            Sample::Rate {
                per_second, failed, ..
            } => {
                rates.push(*per_second);
                flagged |= *failed > 0;
            }
            Sample::Failed(_) => flagged = true,
            Sample::Skipped(reason) => skipped = Some(reason.as_str()),
        }
    }
    let median = median(rates);
    let text = match (median, skipped) {
        (Some(rate), _) if flagged => format!("{rate:.0} ⚠"),
        (Some(rate), _) => format!("{rate:.0}"),
        (None, Some(reason)) => format!("n/a ({reason})"),
        (None, None) => "failed ⚠".to_owned(),
    };
    Summary { median, text }
}

/// Lists what went wrong, once per load and server.
fn failures(out: &mut String, results: &[LoadResult]) -> fmt::Result {
    let mut heading = false;
    for result in results {
        for (index, side) in result.sides.iter().enumerate() {
            let Some(reason) = side.samples.iter().find_map(failure_reason) else {
                continue;
            };
            if !heading {
                writeln!(out, "\nFailures:\n")?;
                heading = true;
            }
            let server = if index == SINK {
                "smtp-sink"
            } else {
                "Mailsink"
            };
            writeln!(out, "- {}, {server}: {reason}", result.load.describe())?;
        }
    }
    Ok(())
}

fn failure_reason(sample: &Sample) -> Option<String> {
    match sample {
        Sample::Failed(reason) => Some(reason.clone()),
        Sample::Rate { failed, note, .. } if *failed > 0 => Some(format!(
            "{failed} message(s) failed; first: {}",
            note.as_deref().unwrap_or("no reason recorded")
        )),
        Sample::Rate { .. } | Sample::Skipped(_) => None,
    }
}

fn cpu(out: &mut String, results: &[LoadResult], clock_ticks: u64) -> fmt::Result {
    writeln!(
        out,
        "\nServer CPU time per message (user + system, from /proc, over all runs; \
         resolution 1/{clock_ticks} s per run):\n"
    )?;
    for result in results.iter().filter(|r| r.load.reports_cpu()) {
        writeln!(
            out,
            "- {}: smtp-sink {}, Mailsink {}",
            result.load.describe(),
            cpu_per_message(result.sides[SINK].cpu, clock_ticks),
            cpu_per_message(result.sides[MAILSINK].cpu, clock_ticks),
        )?;
    }
    Ok(())
}

fn cpu_per_message(tally: CpuTally, clock_ticks: u64) -> String {
    if tally.messages == 0 || clock_ticks == 0 {
        return "n/a".to_owned();
    }
    let milliseconds = tally.ticks as f64 * 1000.0 / clock_ticks as f64;
    format!("{:.3} ms", milliseconds / tally.messages as f64)
}

/// The median, averaging the middle pair of an even count.
fn median(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    match values.len() {
        0 => None,
        len if !len.is_multiple_of(2) => Some(values[middle]),
        _ => Some((values[middle - 1] + values[middle]) / 2.0),
    }
}

pub fn size_label(bytes: usize) -> String {
    if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KB", bytes / 1024)
    } else {
        format!("{bytes} B")
    }
}

pub fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// A file size in the unit that keeps it readable, from KiB to GiB.
pub fn file_size(bytes: u64) -> String {
    const KIB: f64 = 1024.0;
    let bytes = bytes as f64;
    if bytes < KIB * KIB {
        format!("{:.1} KiB", bytes / KIB)
    } else if bytes < KIB * KIB * KIB {
        format!("{:.1} MiB", bytes / (KIB * KIB))
    } else {
        format!("{:.2} GiB", bytes / (KIB * KIB * KIB))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), Some(2.5));
    }

    #[test]
    fn labels_sizes() {
        assert_eq!(size_label(1024), "1 KB");
        assert_eq!(size_label(102_400), "100 KB");
        assert_eq!(size_label(1000), "1000 B");
        assert_eq!(file_size(32_768), "32.0 KiB");
        assert_eq!(file_size(5 * 1024 * 1024), "5.0 MiB");
        assert_eq!(file_size(10_506_000_000), "9.78 GiB");
    }

    #[test]
    fn cells_show_failures_and_skips() {
        let side = |samples| SideResult {
            samples,
            cpu: CpuTally::default(),
        };
        let rate = |per_second, failed| Sample::Rate {
            per_second,
            failed,
            note: None,
        };
        let clean = summarize(&side(vec![rate(10.0, 0), rate(30.0, 0), rate(20.0, 0)]));
        assert_eq!((clean.median, clean.text.as_str()), (Some(20.0), "20"));
        let partial = summarize(&side(vec![rate(10.0, 2), Sample::Failed("x".into())]));
        assert_eq!(partial.text, "10 ⚠");
        let skipped = summarize(&side(vec![Sample::Skipped("no CHUNKING".into())]));
        assert_eq!(
            (skipped.median, skipped.text.as_str()),
            (None, "n/a (no CHUNKING)")
        );
    }
}
