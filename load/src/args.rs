//! The command line. Anything unknown or malformed is refused with clap's error (exit status 2);
//! nothing falls back to a default in silence.

use std::path::PathBuf;
use std::time::Duration;

use clap::builder::{PossibleValue, PossibleValuesParser, RangedU64ValueParser, TypedValueParser};
use clap::{ArgAction, Parser, ValueEnum};

/// What a run measures; by default all of them, in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    Login,
    CreatePartner,
    CreateVisit,
    Nearby,
    MapZ12,
    MapZ16,
    SyncFirst,
    SyncIncremental,
    SyncIncremental16,
    RegistrationBurst,
    CheckinBurst,
    PhotoUpload,
    ProjectProgress,
    Leaderboard,
}

impl Scenario {
    pub const ALL: [Scenario; 14] = [
        Scenario::Login,
        Scenario::CreatePartner,
        Scenario::CreateVisit,
        Scenario::Nearby,
        Scenario::MapZ12,
        Scenario::MapZ16,
        Scenario::SyncFirst,
        Scenario::SyncIncremental,
        Scenario::SyncIncremental16,
        Scenario::RegistrationBurst,
        Scenario::CheckinBurst,
        Scenario::PhotoUpload,
        Scenario::ProjectProgress,
        Scenario::Leaderboard,
    ];

    /// The name on the command line and in the report.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Login => "login",
            Scenario::CreatePartner => "create_partner",
            Scenario::CreateVisit => "create_visit",
            Scenario::Nearby => "nearby",
            Scenario::MapZ12 => "map_z12",
            Scenario::MapZ16 => "map_z16",
            Scenario::SyncFirst => "sync_first",
            Scenario::SyncIncremental => "sync_incremental",
            Scenario::SyncIncremental16 => "sync_incremental_16",
            Scenario::RegistrationBurst => "registration_burst",
            Scenario::CheckinBurst => "checkin_burst",
            Scenario::PhotoUpload => "photo_upload",
            Scenario::ProjectProgress => "project_progress",
            Scenario::Leaderboard => "leaderboard",
        }
    }
}

impl std::fmt::Display for Scenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl ValueEnum for Scenario {
    fn value_variants<'a>() -> &'a [Self] {
        &Scenario::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.name()))
    }
}

/// Outreach under load over HTTP: a seeded bank network, the real server, many clients.
///
/// Unless --url and --manifest point it at a running server, it seeds a data directory with
/// `outreach bench seed` (or reuses one seeded before), starts `outreach serve` on a free port and
/// runs the scenarios against it. The report goes to stdout (and --json); the exit status is 1 when
/// any scenario had errors or the registration check failed, unless --allow-errors 1.
#[derive(Debug, Clone, Parser)]
#[command(name = "outreach-load", version)]
pub struct Args {
    /// Load a running server at this base URL instead of starting one (needs --manifest)
    #[arg(long, value_name = "URL", value_parser = base_url, requires = "manifest",
          conflicts_with_all = ["dir", "db", "keep", "scale", "server_bin", "replicas"])]
    pub url: Option<String>,

    /// The manifest `outreach bench seed` wrote for the server of --url
    #[arg(long, value_name = "FILE", requires = "url")]
    pub manifest: Option<PathBuf>,

    /// The data directory: seeded unless it holds a manifest.json already (default: a temporary one)
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Run on a fresh PostgreSQL database `load_xxxxxxxx` made on this server instead of SQLite
    #[arg(long, value_name = "postgres://user@host:port/db", value_parser = postgres_url)]
    pub db: Option<String>,

    /// App processes on the one PostgreSQL database (needs --db), behind a round robin of
    /// connections run by this driver, as a load balancer would spread them
    #[arg(long, default_value = "1", value_parser = clap::value_parser!(u16).range(1..=8), requires = "db")]
    pub replicas: u16,

    /// 1: keep the data directory and the PostgreSQL database after the run
    #[arg(long, value_name = "0|1", default_value = "0", value_parser = zero_or_one(), action = ArgAction::Set)]
    pub keep: bool,

    /// Share of the full network to seed (1 = 100k partners, 1M visits), above 0, at most 10
    #[arg(long, default_value_t = 1.0, value_parser = scale)]
    pub scale: f64,

    /// Seed of the network and of the scenarios' choices
    #[arg(long, default_value_t = 42)]
    pub seed: u64,

    /// The scenarios to run, comma-separated, in the order given (default: all, in the order listed)
    #[arg(long, value_name = "NAME,…", value_delimiter = ',', default_values_t = Scenario::ALL, hide_default_value = true)]
    pub scenarios: Vec<Scenario>,

    /// Seconds each timed scenario runs, after 1 s of warm-up
    #[arg(long, value_name = "SECONDS", default_value = "10", value_parser = seconds)]
    pub duration: Duration,

    /// Connections of the create_partner, create_visit and nearby scenarios
    #[arg(long, default_value = "64", value_parser = at_least_one())]
    pub concurrency: usize,

    /// Connections logging in at once
    #[arg(long, default_value = "8", value_parser = at_least_one())]
    pub login_concurrency: usize,

    /// Managers looking at the map at once
    #[arg(long, default_value = "4", value_parser = at_least_one())]
    pub map_concurrency: usize,

    /// Photos uploaded at once
    #[arg(long, default_value = "4", value_parser = at_least_one())]
    pub photo_concurrency: usize,

    /// Photos uploaded in all
    #[arg(long, default_value = "40", value_parser = clap::value_parser!(u64).range(1..))]
    pub photo_requests: u64,

    /// Full first syncs of the sync account manager
    #[arg(long, default_value = "20", value_parser = clap::value_parser!(u64).range(1..))]
    pub sync_repeats: u64,

    /// Write the report as JSON to this file too
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// 1: exit 0 even when there were errors
    #[arg(long, value_name = "0|1", default_value = "0", value_parser = zero_or_one(), action = ArgAction::Set)]
    pub allow_errors: bool,

    /// The server binary to seed with and start (default: `outreach` next to this program)
    #[arg(long, value_name = "FILE")]
    pub server_bin: Option<PathBuf>,
}

fn zero_or_one() -> impl TypedValueParser<Value = bool> {
    PossibleValuesParser::new(["0", "1"]).map(|v| v == "1")
}

fn at_least_one() -> RangedU64ValueParser<usize> {
    RangedU64ValueParser::new().range(1..)
}

fn seconds(s: &str) -> Result<Duration, String> {
    match s.parse::<u64>() {
        Ok(0) => Err("at least 1 second".to_owned()),
        Ok(n) => Ok(Duration::from_secs(n)),
        Err(e) => Err(format!("a whole number of seconds: {e}")),
    }
}

fn scale(s: &str) -> Result<f64, String> {
    let scale: f64 = s.parse().map_err(|e| format!("a number: {e}"))?;
    // The seeder's own check, so a bad scale is refused before anything is made.
    outreach::fixtures::seed::Options { scale, seed: 0 }.check().map_err(|e| e.to_string())?;
    Ok(scale)
}

fn base_url(s: &str) -> Result<String, String> {
    if s.starts_with("http://") || s.starts_with("https://") {
        Ok(s.trim_end_matches('/').to_owned())
    } else {
        Err("an http:// or https:// URL".to_owned())
    }
}

fn postgres_url(s: &str) -> Result<String, String> {
    if s.starts_with("postgres://") || s.starts_with("postgresql://") {
        Ok(s.to_owned())
    } else {
        Err("a postgres:// URL".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;
    use clap::error::ErrorKind;

    use super::*;

    fn parse(line: &str) -> Result<Args, clap::Error> {
        Args::try_parse_from(std::iter::once("outreach-load").chain(line.split_whitespace()))
    }

    fn refused(line: &str) -> ErrorKind {
        match parse(line) {
            Ok(args) => panic!("`{line}` was accepted: {args:?}"),
            Err(e) => e.kind(),
        }
    }

    #[test]
    fn the_definition_is_consistent() {
        Args::command().debug_assert();
    }

    #[test]
    fn the_defaults_are_the_full_run() {
        let a = parse("").unwrap();
        assert_eq!(a.scenarios, Scenario::ALL);
        assert_eq!((a.scale, a.seed, a.duration), (1.0, 42, Duration::from_secs(10)));
        assert_eq!((a.concurrency, a.login_concurrency, a.map_concurrency, a.photo_concurrency), (64, 8, 4, 4));
        assert_eq!((a.photo_requests, a.sync_repeats), (40, 20));
        assert!(!a.keep && !a.allow_errors);
        assert!(a.url.is_none() && a.dir.is_none() && a.db.is_none() && a.json.is_none());
    }

    #[test]
    fn every_documented_invocation_parses() {
        // .ci/run, docs/PERFORMANCE.md and README.md run it so.
        for line in [
            "--scale 0.002 --duration 1 --photo-requests 2 --sync-repeats 2",
            "--scale 0.002 --duration 1 --photo-requests 2 --sync-repeats 2 --db postgres://postgres@127.0.0.1:5432/test",
            "--dir /tmp/x --keep 1",
            "--db postgres://postgres@127.0.0.1:5432/test",
            "--db postgres://postgres@127.0.0.1:5432/test --replicas 2 --scale 0.1 --scenarios create_visit",
            "--scale 0.1 --scenarios map_z12,map_z16,sync_first,sync_incremental",
            "--url http://host:8080 --manifest DIR/manifest.json",
            "--seed 7 --concurrency 32 --login-concurrency 2 --map-concurrency 1 --photo-concurrency 1 \
             --json out.json --allow-errors 1 --keep 0 --server-bin /opt/outreach",
        ] {
            parse(line).unwrap_or_else(|e| panic!("`{line}`: {e}"));
        }
        let a = parse("--scenarios sync_incremental_16,login,login --url http://h:1/ --manifest m").unwrap();
        assert_eq!(a.scenarios, [Scenario::SyncIncremental16, Scenario::Login, Scenario::Login]);
        assert_eq!(a.url.as_deref(), Some("http://h:1"));
        assert!(parse("--keep 1 --allow-errors 1").is_ok_and(|a| a.keep && a.allow_errors));
    }

    #[test]
    fn unknown_and_malformed_arguments_are_refused() {
        assert_eq!(refused("--bogus 1"), ErrorKind::UnknownArgument);
        assert_eq!(refused("--bench"), ErrorKind::UnknownArgument);
        assert_eq!(refused("stray"), ErrorKind::UnknownArgument);
        for line in [
            "--duration ten",
            "--duration 0",
            "--concurrency 0",
            "--photo-requests 0",
            "--seed x",
            "--scale 0",
            "--scale 11",
            "--scale abc",
            "--keep 2",
            "--allow-errors yes",
            "--scenarios map_z13",
            "--scenarios login,,nearby",
            "--db sqlite://x",
            "--url host:8080 --manifest m",
            "--replicas 0 --db postgres://x/y",
            "--replicas 9 --db postgres://x/y",
        ] {
            assert!(
                matches!(refused(line), ErrorKind::InvalidValue | ErrorKind::ValueValidation),
                "`{line}`: {:?}",
                refused(line)
            );
        }
        assert_eq!(refused("--duration"), ErrorKind::InvalidValue, "a value is missing");
        assert!(parse("--concurrency -4").is_err());
        assert_eq!(refused("--url http://h:1"), ErrorKind::MissingRequiredArgument);
        assert_eq!(refused("--manifest m"), ErrorKind::MissingRequiredArgument);
        assert_eq!(refused("--replicas 2"), ErrorKind::MissingRequiredArgument, "replicas share a PostgreSQL");
        assert_eq!(parse("--db postgres://x/y").map(|a| a.replicas).ok(), Some(1));
        assert_eq!(refused("--url http://h:1 --manifest m --db postgres://x/y"), ErrorKind::ArgumentConflict);
        assert_eq!(refused("--url http://h:1 --manifest m --dir d"), ErrorKind::ArgumentConflict);
    }
}
