//! The report: a row per scenario and a header about the run, as Markdown and as JSON.

use std::process::Command;

use outreach::fixtures::seed::manifest::Counts;
use serde::Serialize;
use serde_json::Value;

use crate::common::{ms, percentile};
use crate::scenarios::{Measured, Stop};

#[derive(Serialize)]
pub struct Row {
    pub scenario: String,
    pub concurrency: usize,
    pub requests: u64,
    pub seconds: f64,
    pub req_per_s: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub errors: u64,
    pub kib_per_request: f64,
    pub peak_rss_mib: Option<f64>,
    /// The private part of it (RssAnon).
    pub peak_anon_mib: Option<f64>,
    pub notes: String,
    pub first_errors: Vec<String>,
}

impl Row {
    pub fn of(scenario: &str, mut m: Measured, peak: Option<(f64, f64)>) -> Row {
        m.rec.latencies.sort();
        let l = &m.rec.latencies;
        let requests = m.rec.requests;
        Row {
            scenario: scenario.to_owned(),
            concurrency: m.concurrency,
            requests,
            seconds: m.seconds,
            req_per_s: if m.seconds > 0.0 { requests as f64 / m.seconds } else { 0.0 },
            p50_ms: ms(percentile(l, 50.0)),
            p95_ms: ms(percentile(l, 95.0)),
            p99_ms: ms(percentile(l, 99.0)),
            max_ms: ms(l.last().copied().unwrap_or_default()),
            errors: m.rec.errors,
            kib_per_request: m.rec.bytes as f64 / l.len().max(1) as f64 / 1024.0,
            peak_rss_mib: peak.map(|p| p.0),
            peak_anon_mib: peak.map(|p| p.1),
            notes: m.notes,
            first_errors: m.rec.first_errors,
        }
    }

    /// A scenario that measured nothing; a failure counts as one error.
    pub fn stopped(scenario: &str, stop: Stop) -> Row {
        let (errors, notes, first_errors) = match stop {
            Stop::Skip(why) => (0, format!("skipped: {why}"), Vec::new()),
            Stop::Failed(e) => (1, format!("failed: {e}"), vec![e]),
        };
        Row {
            scenario: scenario.to_owned(),
            concurrency: 0,
            requests: 0,
            seconds: 0.0,
            req_per_s: 0.0,
            p50_ms: 0.0,
            p95_ms: 0.0,
            p99_ms: 0.0,
            max_ms: 0.0,
            errors,
            kib_per_request: 0.0,
            peak_rss_mib: None,
            peak_anon_mib: None,
            notes,
            first_errors,
        }
    }

    pub fn markdown(&self) -> String {
        let rss = match (self.peak_rss_mib, self.peak_anon_mib) {
            (Some(all), Some(anon)) => format!("{all:.0} ({anon:.0})"),
            _ => "-".to_owned(),
        };
        format!(
            "| {} | {} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {} | {:.1} | {rss} | {} |",
            self.scenario,
            self.concurrency,
            self.requests,
            self.seconds,
            self.req_per_s,
            self.p50_ms,
            self.p95_ms,
            self.p99_ms,
            self.max_ms,
            self.errors,
            self.kib_per_request,
            self.notes
        )
    }
}

pub const TABLE_HEAD: &str = "| scenario | conc | requests | s | req/s | p50 ms | p95 ms | p99 ms | max ms | errors | KiB/req | peak RSS (anon) MiB | notes |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|";

/// Everything about the run but the rows.
#[derive(Serialize)]
pub struct Header {
    pub backend: String,
    pub scale: f64,
    pub seed: u64,
    /// Of each timed scenario, after 1 s of warm-up.
    pub duration_s: u64,
    pub cpus: usize,
    pub load_start: String,
    pub load_end: String,
    pub commit: String,
    pub ready_s: Option<f64>,
    pub map_ready_s: f64,
    /// When the map index had loaded, before any load.
    pub server_rss_ready_mib: Option<f64>,
    pub server_anon_ready_mib: Option<f64>,
    /// The highest RssAnon seen in any scenario.
    pub server_peak_anon_mib: Option<f64>,
    pub server_vmhwm_mib: Option<f64>,
    pub capacity_respected: Option<bool>,
    pub counts: Counts,
}

/// A count as it is, a fraction to one decimal.
fn number(v: &Value) -> String {
    match v.as_f64() {
        Some(f) if !v.is_u64() && !v.is_i64() => format!("{f:.1}"),
        _ => v.to_string(),
    }
}

impl Header {
    pub fn markdown(&self) -> String {
        let counts = serde_json::to_value(&self.counts).unwrap();
        let counts = counts
            .as_object()
            .map(|o| o.iter().map(|(k, v)| format!("{k} {}", number(v))).collect::<Vec<_>>().join(", "))
            .unwrap_or_default();
        let mib = |m: Option<f64>| m.map_or("-".to_owned(), |m| format!("{m:.0} MiB"));
        let ready = self.ready_s.map_or(String::new(), |s| format!("ready after {s:.1} s, "));
        format!(
            "## Outreach load: {}, scale {} (seed {})\n\n\
             machine: {} CPUs, load average {} at start, {} at end; commit {}\n\
             server {ready}map index ready after {:.1} s; VmRSS then {} (RssAnon {}), VmHWM at the end {}, \
             peak RssAnon {}\n\
             seeded: {counts}\n\
             timed scenarios: {} s each after 1 s of warm-up\n",
            self.backend,
            self.scale,
            self.seed,
            self.cpus,
            self.load_start,
            self.load_end,
            self.commit,
            self.map_ready_s,
            mib(self.server_rss_ready_mib),
            mib(self.server_anon_ready_mib),
            mib(self.server_vmhwm_mib),
            mib(self.server_peak_anon_mib),
            self.duration_s
        )
    }
}

/// The commit the driver was built from.
pub fn git_commit() -> String {
    Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned())
}
