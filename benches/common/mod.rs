//! What every HTTP benchmark here needs: its command line, percentiles, the machine's load.
//! Each bench uses part of it.
#![allow(dead_code)]

use std::time::Duration;

/// The value after `name` on the command line; anything else on it (`--bench`, …) is ignored.
pub fn text_arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

pub fn arg(name: &str, default: u64) -> u64 {
    text_arg(name).and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The `p`-th percentile of sorted latencies (nearest rank).
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn num_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}
