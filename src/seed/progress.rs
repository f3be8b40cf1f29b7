//! The seeder's progress: one bar over every row to write, and a line per table with its rate.
//! On a terminal the bar redraws in place; elsewhere (CI, a log file) only the lines are printed.

use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

pub struct Progress {
    bar: ProgressBar,
    started: Instant,
    phase: Instant,
}

impl Progress {
    pub fn new(rows: u64) -> Progress {
        let bar = ProgressBar::new(rows);
        if let Ok(style) =
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} rows {per_sec} · {msg}")
        {
            bar.set_style(style);
        }
        Progress { bar, started: Instant::now(), phase: Instant::now() }
    }

    pub fn start(&mut self, table: &str) {
        self.phase = Instant::now();
        self.bar.set_message(table.to_owned());
    }

    pub fn add(&self, rows: usize) {
        self.bar.inc(rows as u64);
    }

    pub fn done(&self, table: &str, rows: usize) {
        let secs = self.phase.elapsed().as_secs_f64();
        self.say(&format!("{table}: {rows} in {secs:.1} s ({:.0}/s)", rows as f64 / secs.max(1e-9)));
    }

    pub fn say(&self, line: &str) {
        if self.bar.is_hidden() {
            eprintln!("{line}");
        } else {
            self.bar.println(line);
        }
    }

    pub fn finish(&self) -> f64 {
        self.bar.finish_and_clear();
        self.started.elapsed().as_secs_f64()
    }
}
