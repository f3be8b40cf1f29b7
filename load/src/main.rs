//! Outreach under load over HTTP: the real server binary, a seeded bank network, many clients.
//!
//! Unless `--url URL --manifest FILE` points it at a running server, it makes a data directory
//! (`--dir DIR`, or a temporary one), seeds it with `outreach bench seed` (skipped when
//! `DIR/manifest.json` exists and no `--db` is given), starts `outreach serve` on a free port with
//! the rate limits raised (the whole load comes from one address, where real bursts come from
//! many phones), waits for `/readyz` and for the map index, and samples the server's resident
//! memory every 50 ms. `--db postgres://user@host:port/anydb` runs on a fresh PostgreSQL database
//! `load_xxxxxxxx` made on that server (dropped afterwards unless `--keep 1`) instead of SQLite.
//! The server is the `outreach` binary next to this one (`--server-bin` names another), so build
//! both: `cargo build --release --workspace`.
//!
//! Scenarios, in this order (`--scenarios a,b,c` picks some):
//!
//! - `login`: password logins, rotating account managers (argon2-bound; at most 5 s or 200);
//! - `create_partner`: partners near the account manager's own, each with a name of its own (the
//!   duplicate search and the territory lookup run on each);
//! - `create_visit`: visits at the account manager's own partners, from within 30 m;
//! - `nearby`: partners within 1 km of a spot near one of the account manager's partners;
//! - `map_z12`, `map_z16`: the branch manager's map, 1280×800 px at the city (zoom 12) and the
//!   densest street (zoom 16), the centre moved a little per request;
//! - `sync_first`: a phone's first sync in WatermelonDB's protocol (`GET /api/v1/sync`, one
//!   change set in one answer), `--sync-repeats` times; the notes give the records per table, the
//!   JSON's size and the gzip bytes on the wire (every pull asks for gzip, as the phone does);
//! - `sync_incremental`: 50 pulls, each from the `timestamp` the one before gave (the first from
//!   `sync_first`'s), a new visit before every fifth;
//! - `sync_incremental_16`: incremental pulls by 16 account managers at once;
//! - `registration_burst`: 1,000 public registrations fired at once at the burst event; checks
//!   that the places given equal the places there were and that every phone has one ticket;
//! - `checkin_burst`: every registered ticket of the burst checked in by the event owner, 64 at
//!   once, then a second scan of a few (which must say `already_checked_in`);
//! - `photo_upload`: a 12-megapixel JPEG onto visits made by `create_visit`;
//! - `project_progress`, `leaderboard`: each project's progress and weekly leaderboard as its
//!   manager, 16 at once.
//!
//! Duration-based scenarios run `--duration` seconds after 1 s of warm-up that is not counted.
//! Each of N concurrent tasks sends its requests back to back over one shared client, so there
//! are N keep-alive connections; task i is the i-th account manager with partners (round robin).
//! A sync pull's time runs from sending the request to the body's last byte, as received (the
//! driver inflates and counts it afterwards), except in `sync_incremental_16`, which times the
//! whole job. KiB/req is what came over the wire.
//! Errors are non-2xx answers and transport failures; the first three of a scenario go to stderr.
//! The report (stdout, and `--json FILE`) has per scenario the requests, req/s, p50/p95/p99/max,
//! errors and the server's peak VmRSS, and the server's VmHWM over the run.
//! The process exits non-zero when any scenario had errors or the registration check failed,
//! unless `--allow-errors 1`; an unknown or malformed argument is refused (exit status 2).
//!
//!     outreach-load [--scale 1] [--seed 42] [--dir DIR] [--keep 0|1]
//!         [--db postgres://user@host:port/db [--replicas N]] [--url URL --manifest FILE]
//!         [--scenarios login,create_visit,…] [--duration 10] [--concurrency 64]
//!         [--login-concurrency 8] [--map-concurrency 4] [--photo-concurrency 4]
//!         [--photo-requests 40] [--sync-repeats 20] [--json FILE] [--allow-errors 0|1]
//!         [--server-bin FILE]
//!
//! A run of everything in seconds after a debug build, as CI runs it:
//!
//!     cargo build --workspace && target/debug/outreach-load --scale 0.002 --duration 1 \
//!         --photo-requests 2 --sync-repeats 2
// A measuring tool: a failed step of the set-up (a login, the database, the server) ends the run
// with its message, as a panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod args;
// Percentiles and the machine's load, shared with the benchmarks in `benches/`.
#[path = "../../benches/common/mod.rs"]
mod common;
mod http;
mod report;
mod round_robin;
mod scenarios;
mod server;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use clap::{CommandFactory, Parser};
use outreach::fixtures::seed::Manifest;
use outreach::fixtures::seed::manifest::PartnerRef;
use serde_json::json;

use crate::args::Args;
use crate::common::{load_average, num_cpus};
use crate::http::{client, login, login_all, wait_map, wait_ready};
use crate::report::{Header, Row, TABLE_HEAD, git_commit};
use crate::scenarios::{Am, Ctx};
use crate::server::{Rss, Target, mib, proc_kib, read_manifest};

/// Account managers the tasks take turns as: those with partners, as many as the largest
/// concurrency needs.
fn chosen_ams(m: &Manifest, args: &Args) -> Vec<(String, Vec<PartnerRef>)> {
    let wanted = args.concurrency.max(16);
    m.account_managers
        .iter()
        .filter(|a| !a.partners.is_empty())
        .take(wanted)
        .map(|a| (a.phone.clone(), a.partners.clone()))
        .collect()
}

/// Measures every chosen scenario against `base`; prints the report, gives whether it passed.
async fn run(args: &Args, target: &Target) -> bool {
    let load_start = load_average();
    let base = target.base.as_str();
    let server = target.server.as_ref();
    let pid = server.map(|s| s.child.id());
    let since = server.map_or_else(Instant::now, |s| s.started);
    let ready_s = wait_ready(base, since, pid, server.map(|s| s.log.as_path())).await;
    let rss = Rss::start(pid);
    let m = read_manifest(&target.manifest);

    // The branch manager first, so that the other logins do not count in the map's time.
    let bm_token = login(&client(1), base, &m.branch_manager, &m.password)
        .await
        .unwrap_or_else(|e| panic!("login {}: {e}", m.branch_manager));
    let map_ready_s = wait_map(base, &bm_token, m.city_centre, since).await;
    // Behind the round robin, each replica loads its own index: ask each one directly.
    for replica in &target.replica_bases {
        wait_map(replica, &bm_token, m.city_centre, since).await;
    }
    let rss_ready_mib = pid.and_then(|pid| proc_kib(pid, "VmRSS:")).map(mib);
    let anon_ready_mib = pid.and_then(|pid| proc_kib(pid, "RssAnon:")).map(mib);
    eprintln!("server ready after {ready_s:.1} s, map index ready after {map_ready_s:.1} s");

    let ams = chosen_ams(&m, args);
    let mut phones: Vec<String> = ams.iter().map(|(p, _)| p.clone()).collect();
    phones.extend([m.sync_account_manager.clone(), m.burst_event.owner_phone.clone()]);
    phones.extend(m.projects.iter().map(|p| p.manager_phone.clone()));
    phones.retain(|p| *p != m.branch_manager);
    phones.sort();
    phones.dedup();
    let mut tokens = login_all(base, phones, &m.password).await;
    tokens.insert(m.branch_manager.clone(), bm_token);

    let ams: Vec<Am> =
        ams.into_iter().map(|(phone, partners)| Am { token: tokens[&phone].clone(), phone, partners }).collect();
    eprintln!(
        "{} account managers with partners take turns ({} in the manifest); first {}",
        ams.len(),
        m.account_managers.len(),
        ams.first().map_or("-", |a| a.phone.as_str())
    );
    let mut cx = Ctx {
        base: target.base.clone(),
        m,
        args: args.clone(),
        tokens,
        ams: Arc::new(ams),
        visits: Arc::default(),
        sync_timestamp: None,
        tickets: Vec::new(),
        capacity_respected: None,
    };
    let mut rows = Vec::new();
    for &scenario in &args.scenarios {
        let name = scenario.name();
        eprintln!("… {name}");
        rss.reset();
        let row = match scenarios::run(&mut cx, scenario).await {
            Ok(measured) => Row::of(name, measured, rss.peak_mib()),
            Err(stop) => Row::stopped(name, stop),
        };
        for e in &row.first_errors {
            eprintln!("{name}: error: {e}");
        }
        eprintln!("{}", row.markdown());
        rows.push(row);
    }

    let header = Header {
        backend: target.backend.clone(),
        scale: cx.m.scale,
        duration_s: args.duration.as_secs(),
        seed: cx.m.seed,
        cpus: num_cpus(),
        load_start,
        load_end: load_average(),
        commit: git_commit(),
        ready_s: server.map(|_| ready_s),
        map_ready_s,
        server_rss_ready_mib: rss_ready_mib,
        server_anon_ready_mib: anon_ready_mib,
        server_peak_anon_mib: rows.iter().filter_map(|r| r.peak_anon_mib).reduce(f64::max),
        server_vmhwm_mib: rss.hwm_mib(),
        capacity_respected: cx.capacity_respected,
        counts: cx.m.counts.clone(),
    };
    println!("\n{}\n{TABLE_HEAD}", header.markdown());
    for row in &rows {
        println!("{}", row.markdown());
    }
    if let Some(path) = &args.json {
        let doc = json!({"header": header, "results": rows});
        std::fs::write(path, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
        eprintln!("results written to {}", path.display());
    }
    let errors: u64 = rows.iter().map(|r| r.errors).sum();
    errors == 0 && cx.capacity_respected != Some(false)
}

fn main() {
    let args = Args::parse();
    // Before anything is made: a server to start must be there.
    let bin = match args.url {
        Some(_) => PathBuf::new(),
        None => server::server_bin(&args)
            .unwrap_or_else(|e| Args::command().error(clap::error::ErrorKind::ValueValidation, e).exit()),
    };
    let target = Target::prepare(&args, &bin);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let passed = runtime.block_on(run(&args, &target));
    drop(runtime);
    target.finish();
    if !passed {
        if args.allow_errors {
            eprintln!("there were errors (allowed by --allow-errors 1)");
        } else {
            eprintln!("there were errors: failing (pass --allow-errors 1 to accept them)");
            std::process::exit(1);
        }
    }
}
