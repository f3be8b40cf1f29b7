//! The driver's command line from the outside: an unknown or malformed argument is refused with
//! clap's error and exit status 2 before anything is seeded or started, and `--help` names every
//! option. (args.rs holds the finer cases; this one is also why cargo builds the driver's binary
//! with the tests, for CI's load runs.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

const LOAD: &str = env!("CARGO_BIN_EXE_outreach-load");

/// Exit code, stdout and stderr of the driver run with `args`.
fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(LOAD).args(args).output().expect("run outreach-load");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn unknown_and_malformed_arguments_are_refused_before_anything_starts() {
    let refused: [&[&str]; 6] = [
        &["--bogus"],
        &["--bench"],
        &["--duration", "ten"],
        &["--scenarios", "map_z12,map_z13"],
        &["--keep", "2"],
        &["--url", "http://127.0.0.1:9"],
    ];
    for args in refused {
        let (code, out, err) = run(args);
        assert_eq!(code, Some(2), "{args:?} exited {code:?}: {err}");
        assert!(err.starts_with("error: "), "{args:?}: clap's error expected, got: {err}");
        assert!(out.is_empty() && !err.contains("seeded") && !err.contains("data directory"), "{args:?}: {out}{err}");
    }
}

#[test]
fn help_names_every_option() {
    let (code, out, _) = run(&["--help"]);
    assert_eq!(code, Some(0));
    for option in [
        "--url",
        "--manifest",
        "--dir",
        "--db",
        "--keep",
        "--scale",
        "--seed",
        "--scenarios",
        "--duration",
        "--concurrency",
        "--login-concurrency",
        "--map-concurrency",
        "--photo-concurrency",
        "--photo-requests",
        "--sync-repeats",
        "--json",
        "--allow-errors",
        "--server-bin",
    ] {
        assert!(out.contains(&format!(" {option} ")), "--help lacks {option}:\n{out}");
    }
}
