//! Outreach under load over HTTP: the real server binary, a seeded bank network, many clients.
//!
//! Unless `--url URL --manifest FILE` points it at a running server, it makes a data directory
//! (`--dir DIR`, or a temporary one), seeds it with `outreach bench seed` (skipped when
//! `DIR/manifest.json` exists and no `--db` is given), starts `outreach serve` on a free port with
//! the rate limits raised (the whole load comes from one address, where real bursts come from
//! many phones), waits for `/readyz` and for the map index, and samples the server's resident
//! memory every 50 ms. `--db postgres://user@host:port/anydb` runs on a fresh PostgreSQL database
//! `load_xxxxxxxx` made on that server (dropped afterwards unless `--keep 1`) instead of SQLite.
//!
//! Scenarios, in this order (`--scenarios a,b,c` picks some):
//!
//! - `login`: password logins, rotating account managers (argon2-bound; at most 5 s or 200);
//! - `create_visit`: visits at the account manager's own partners, from within 30 m;
//! - `nearby`: partners within 1 km of a spot near one of the account manager's partners;
//! - `map_z12`, `map_z16`: the branch manager's map, 1280×800 px at the city (zoom 12) and the
//!   densest street (zoom 16), the centre moved a little per request;
//! - `sync_first`: a phone's full first sync (every page), `--sync-repeats` times;
//! - `sync_incremental`: 50 pulls from the last cursor, a new visit before every fifth;
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
//! Errors are non-2xx answers and transport failures; the first three of a scenario go to stderr.
//! The report (stdout, and `--json FILE`) has per scenario the requests, req/s, p50/p95/p99/max,
//! errors and the server's peak VmRSS, and the server's VmHWM over the run.
//! The process exits non-zero when any scenario had errors or the registration check failed,
//! unless `--allow-errors 1`.
//!
//!     cargo bench --bench load -- [--scale 1] [--seed 42] [--dir DIR] [--keep 0|1]
//!         [--db postgres://user@host:port/db] [--url URL --manifest FILE]
//!         [--scenarios login,create_visit,…] [--duration 10] [--concurrency 64]
//!         [--login-concurrency 8] [--map-concurrency 4] [--photo-concurrency 4]
//!         [--photo-requests 40] [--sync-repeats 20] [--json FILE] [--allow-errors 0|1]
//!
//! A run of everything in seconds after the build, for CI (the debug profile and server):
//!
//!     cargo test --bench load -- --scale 0.002 --duration 1 --photo-requests 2 --sync-repeats 2
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{arg, load_average, ms, num_cpus, percentile, text_arg};
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::future::Future;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{SecondsFormat, Utc};
use diesel::{Connection, PgConnection, RunQueryDsl};
use outreach::fixtures::seed::Manifest;
use outreach::fixtures::seed::manifest::{Counts, PartnerRef};
use outreach::geo::LatLon;
use outreach::geo::mercator::{project, unproject_f};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use serde::de::IgnoredAny;
use serde_json::{Value, json};
use uuid::Uuid;

const SCENARIOS: [&str; 13] = [
    "login",
    "create_visit",
    "nearby",
    "map_z12",
    "map_z16",
    "sync_first",
    "sync_incremental",
    "sync_incremental_16",
    "registration_burst",
    "checkin_burst",
    "photo_upload",
    "project_progress",
    "leaderboard",
];
const WARMUP: Duration = Duration::from_secs(1);
const JWT_SECRET: &str = "load-driver-secret-0123456789abcdefghijk";
/// Logins hash a password each (argon2): a few at a time, or the server only queues them.
const LOGIN_PARALLEL: usize = 4;
const BURST: usize = 1000;
/// Door staff scanning tickets at once.
const CHECKIN_CONCURRENCY: usize = 64;
/// Managers reading project figures at once.
const PROJECT_CONCURRENCY: usize = 16;
const INCREMENTAL_PULLS: u64 = 50;

// ---------------------------------------------------------------------------------------------
// Options

/// The command line; anything else on it (`--bench` from `cargo bench`, …) is ignored.
#[derive(Clone)]
struct Opts {
    url: Option<String>,
    manifest: Option<PathBuf>,
    dir: Option<PathBuf>,
    db: Option<String>,
    keep: bool,
    scale: String,
    seed: u64,
    scenarios: Vec<String>,
    duration: Duration,
    concurrency: usize,
    login_concurrency: usize,
    map_concurrency: usize,
    photo_concurrency: usize,
    photo_requests: u64,
    sync_repeats: u64,
    json: Option<PathBuf>,
    allow_errors: bool,
}

impl Opts {
    fn parse() -> Opts {
        let scenarios: Vec<String> = match text_arg("--scenarios") {
            Some(list) => list.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect(),
            None => SCENARIOS.iter().map(|s| (*s).to_owned()).collect(),
        };
        if let Some(bad) = scenarios.iter().find(|s| !SCENARIOS.contains(&s.as_str())) {
            panic!("unknown scenario `{bad}`; known: {}", SCENARIOS.join(","));
        }
        let count = |name: &str, default: u64| arg(name, default).max(1) as usize;
        Opts {
            url: text_arg("--url").map(|u| u.trim_end_matches('/').to_owned()),
            manifest: text_arg("--manifest").map(PathBuf::from),
            dir: text_arg("--dir").map(PathBuf::from),
            db: text_arg("--db"),
            keep: arg("--keep", 0) != 0,
            scale: text_arg("--scale").unwrap_or_else(|| "1".to_owned()),
            seed: arg("--seed", 42),
            scenarios,
            duration: Duration::from_secs(arg("--duration", 10).max(1)),
            concurrency: count("--concurrency", 64),
            login_concurrency: count("--login-concurrency", 8),
            map_concurrency: count("--map-concurrency", 4),
            photo_concurrency: count("--photo-concurrency", 4),
            photo_requests: arg("--photo-requests", 40).max(1),
            sync_repeats: arg("--sync-repeats", 20).max(1),
            json: text_arg("--json").map(PathBuf::from),
            allow_errors: arg("--allow-errors", 0) != 0,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Numbers and the machine

fn git_commit() -> String {
    Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// A field of `/proc/<pid>/status` in KiB (`VmRSS:`, `VmHWM:`).
fn proc_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find(|l| l.starts_with(field))?.split_whitespace().nth(1)?.parse().ok()
}

/// Whether the process still runs (an exited child stays a zombie until waited for).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .is_ok_and(|s| s.lines().any(|l| l.starts_with("State:") && !l.contains('Z')))
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// The server's peak resident memory since the last `reset`, sampled every 50 ms: all of it
/// (VmRSS) and its private part (RssAnon). The difference is file pages: SQLite maps the database
/// into each pooled connection, and the same cached page counts once per mapping in VmRSS.
#[derive(Clone)]
struct Rss {
    pid: Option<u32>,
    peak_kib: Arc<AtomicU64>,
    peak_anon_kib: Arc<AtomicU64>,
}

impl Rss {
    fn start(pid: Option<u32>) -> Rss {
        let rss = Rss { pid, peak_kib: Arc::default(), peak_anon_kib: Arc::default() };
        if let Some(pid) = pid {
            let (peak, anon) = (rss.peak_kib.clone(), rss.peak_anon_kib.clone());
            tokio::spawn(async move {
                loop {
                    if let Some(kib) = proc_kib(pid, "VmRSS:") {
                        peak.fetch_max(kib, Ordering::Relaxed);
                    }
                    if let Some(kib) = proc_kib(pid, "RssAnon:") {
                        anon.fetch_max(kib, Ordering::Relaxed);
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            });
        }
        rss
    }

    fn reset(&self) {
        let now = |field| self.pid.and_then(|pid| proc_kib(pid, field)).unwrap_or(0);
        self.peak_kib.store(now("VmRSS:"), Ordering::Relaxed);
        self.peak_anon_kib.store(now("RssAnon:"), Ordering::Relaxed);
    }

    /// Peak VmRSS and peak RssAnon since the last reset.
    fn peak_mib(&self) -> Option<(f64, f64)> {
        self.pid.map(|_| (mib(self.peak_kib.load(Ordering::Relaxed)), mib(self.peak_anon_kib.load(Ordering::Relaxed))))
    }

    fn hwm_mib(&self) -> Option<f64> {
        self.pid.and_then(|pid| proc_kib(pid, "VmHWM:")).map(mib)
    }
}

// ---------------------------------------------------------------------------------------------
// The manifest (what `outreach bench seed` writes)

fn read_manifest(path: &Path) -> Manifest {
    let text = std::fs::read(path).unwrap_or_else(|e| panic!("reading the manifest {}: {e}", path.display()));
    serde_json::from_slice(&text).unwrap_or_else(|e| panic!("the manifest {} does not parse: {e}", path.display()))
}

// ---------------------------------------------------------------------------------------------
// The server under test: its data directory, database and process

/// A PostgreSQL database made for this run on the server of `--db`; dropped unless kept.
struct PgDb {
    server_url: String,
    name: String,
    keep: bool,
}

impl PgDb {
    fn create(server_url: &str, keep: bool) -> (PgDb, String) {
        let name = format!("load_{}", &Uuid::new_v4().simple().to_string()[..8]);
        let mut conn = PgConnection::establish(server_url)
            .unwrap_or_else(|e| panic!("PostgreSQL at {server_url} is unreachable: {e}"));
        diesel::sql_query(format!("CREATE DATABASE \"{name}\"")).execute(&mut conn).expect("create database");
        let base = server_url.rsplit_once('/').map_or(server_url, |(base, _)| base);
        let url = format!("{base}/{name}");
        eprintln!("database {url}");
        (PgDb { server_url: server_url.to_owned(), name, keep }, url)
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        if self.keep {
            eprintln!("database {} kept", self.name);
            return;
        }
        let dropped = PgConnection::establish(&self.server_url).and_then(|mut conn| {
            diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name))
                .execute(&mut conn)
                .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))
        });
        if let Err(e) = dropped {
            eprintln!("could not drop database {}: {e}", self.name);
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `outreach bench seed` into `dir` (and the database at `database_url`, if any).
fn seed(opts: &Opts, dir: &Path, manifest: &Path, database_url: Option<&str>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_outreach"));
    cmd.args(["bench", "seed", "--scale", &opts.scale, "--seed", &opts.seed.to_string(), "--manifest"])
        .arg(manifest)
        .env("OUTREACH_DATA_DIR", dir)
        .env("OUTREACH_JWT_SECRET", JWT_SECRET);
    if let Some(url) = database_url {
        cmd.env("DATABASE_URL", url);
    }
    let started = Instant::now();
    let status = cmd.status().expect("run outreach bench seed");
    assert!(status.success(), "outreach bench seed failed: {status}");
    eprintln!("seeded in {:.1} s", started.elapsed().as_secs_f64());
}

/// A running `outreach serve`; stopped (SIGTERM, then SIGKILL) when dropped.
struct Server {
    child: Child,
    base: String,
    started: Instant,
    log: PathBuf,
}

impl Server {
    fn start(dir: &Path, database_url: Option<&str>) -> Server {
        let port = free_port();
        let log = dir.join("server.log");
        let out = File::create(&log).unwrap();
        let err = out.try_clone().unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_outreach"));
        cmd.arg("serve")
            .env("OUTREACH_DATA_DIR", dir)
            .env("OUTREACH_BIND", format!("127.0.0.1:{port}"))
            .env("OUTREACH_ACCESS_TOKEN_TTL_SECS", "86400")
            .env("OUTREACH_JWT_SECRET", JWT_SECRET)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        // All the load comes from 127.0.0.1; real bursts come from many phones.
        for (key, value) in [
            ("OUTREACH_REGISTER_IP_BURST", "1000000"),
            ("OUTREACH_REGISTER_IP_PER_MINUTE", "1000000"),
            ("OUTREACH_REGISTER_EVENT_BURST", "1000000"),
            ("OUTREACH_REGISTER_EVENT_PER_MINUTE", "1000000"),
            ("OUTREACH_LOGIN_IP_BURST", "1000000"),
            ("OUTREACH_LOGIN_IP_PER_MINUTE", "1000000"),
            ("OUTREACH_LOGIN_ACCOUNT_BURST", "1000"),
            ("OUTREACH_LOGIN_ACCOUNT_PER_MINUTE", "100000"),
        ] {
            cmd.env(key, value);
        }
        if let Some(url) = database_url {
            cmd.env("DATABASE_URL", url);
        }
        let child = cmd.spawn().expect("start outreach serve");
        eprintln!("server pid {} on port {port}, log {}", child.id(), log.display());
        Server { child, base: format!("http://127.0.0.1:{port}"), started: Instant::now(), log }
    }

    fn stop(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        // SIGTERM first: the server drains its connections and closes the database cleanly.
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                eprintln!("server stopped ({status})");
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("server did not stop within 15 s: killing it");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Where the load goes. Fields drop in order: the server stops before its database and data
/// directory go.
struct Target {
    base: String,
    manifest: PathBuf,
    backend: String,
    server: Option<Server>,
    _pg: Option<PgDb>,
    temp: Option<tempfile::TempDir>,
    keep: bool,
}

impl Target {
    fn prepare(opts: &Opts) -> Target {
        if let (Some(url), Some(manifest)) = (&opts.url, &opts.manifest) {
            return Target {
                base: url.clone(),
                manifest: manifest.clone(),
                backend: "a running server (--url)".to_owned(),
                server: None,
                _pg: None,
                temp: None,
                keep: true,
            };
        }
        let (dir, temp) = match &opts.dir {
            Some(dir) => {
                std::fs::create_dir_all(dir).unwrap();
                (dir.clone(), None)
            }
            None => {
                let t = tempfile::Builder::new().prefix("outreach-load-").tempdir().unwrap();
                (t.path().to_owned(), Some(t))
            }
        };
        eprintln!("data directory {}", dir.display());
        let manifest = dir.join("manifest.json");
        let (pg, database_url) = match &opts.db {
            Some(server_url) => {
                let (pg, url) = PgDb::create(server_url, opts.keep);
                (Some(pg), Some(url))
            }
            None => (None, None),
        };
        if database_url.is_none() && manifest.exists() {
            eprintln!("reusing the seeded data in {} (not seeding)", dir.display());
        } else {
            seed(opts, &dir, &manifest, database_url.as_deref());
        }
        let server = Server::start(&dir, database_url.as_deref());
        let backend = if pg.is_some() { "PostgreSQL" } else { "SQLite" };
        Target {
            base: server.base.clone(),
            manifest,
            backend: backend.to_owned(),
            server: Some(server),
            _pg: pg,
            temp,
            keep: opts.keep,
        }
    }

    /// Stops the server; keeps or removes the data directory (the database goes on drop).
    fn finish(mut self) {
        if let Some(mut server) = self.server.take() {
            server.stop();
        }
        if let Some(temp) = self.temp.take() {
            if self.keep {
                eprintln!("data directory kept in {}", temp.keep().display());
            } else {
                drop(temp);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP

/// One client shared by `connections` tasks: as many keep-alive connections as tasks.
fn client(connections: usize) -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(300))
        .build()
        .unwrap()
}

/// Sends a request; a 2xx answer gives its status and body, anything else a short description.
async fn call(req: reqwest::RequestBuilder) -> Result<(u16, Vec<u8>), String> {
    let r = req.send().await.map_err(|e| format!("transport: {e}"))?;
    let status = r.status().as_u16();
    let body = r.bytes().await.map_err(|e| format!("{status}, reading the body: {e}"))?;
    if (200..300).contains(&status) {
        Ok((status, body.to_vec()))
    } else {
        let text: String = String::from_utf8_lossy(&body).chars().take(400).collect();
        Err(format!("{status}: {text}"))
    }
}

async fn login(client: &reqwest::Client, base: &str, phone: &str, password: &str) -> Result<String, String> {
    let req = client.post(format!("{base}/api/v1/auth/login")).json(&json!({"phone": phone, "password": password}));
    let (_, body) = call(req).await?;
    let body: Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    body["access_token"].as_str().map(str::to_owned).ok_or_else(|| format!("no access_token in {body}"))
}

/// Logs every phone in once, a few at a time; phone → access token.
async fn login_all(base: &str, phones: Vec<String>, password: &str) -> HashMap<String, String> {
    let started = Instant::now();
    let client = client(LOGIN_PARALLEL);
    let queue = Arc::new(Mutex::new(phones));
    let workers: Vec<_> = (0..LOGIN_PARALLEL)
        .map(|_| {
            let (client, queue, base, password) = (client.clone(), queue.clone(), base.to_owned(), password.to_owned());
            tokio::spawn(async move {
                let mut tokens = Vec::new();
                loop {
                    let Some(phone) = queue.lock().unwrap().pop() else { break };
                    let token =
                        login(&client, &base, &phone, &password).await.unwrap_or_else(|e| panic!("login {phone}: {e}"));
                    tokens.push((phone, token));
                }
                tokens
            })
        })
        .collect();
    let mut tokens = HashMap::new();
    for w in workers {
        tokens.extend(w.await.unwrap());
    }
    eprintln!("logged in {} users in {:.1} s", tokens.len(), started.elapsed().as_secs_f64());
    tokens
}

/// Seconds from the server's start until `/readyz` answers 200 (polled every 100 ms, ≤ 120 s).
async fn wait_ready(base: &str, since: Instant, pid: Option<u32>, log: Option<&Path>) -> f64 {
    let client = client(1);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(r) = client.get(format!("{base}/readyz")).timeout(Duration::from_secs(5)).send().await
            && r.status() == 200
        {
            return since.elapsed().as_secs_f64();
        }
        if pid.is_some_and(|pid| !alive(pid)) {
            let tail = log.and_then(|l| std::fs::read_to_string(l).ok()).unwrap_or_default();
            panic!("the server exited before it was ready:\n{tail}");
        }
        assert!(Instant::now() < deadline, "{base}/readyz did not answer 200 within 120 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Seconds from the server's start until a map request answers: the index loads in the
/// background, and the first request waits for it.
async fn wait_map(base: &str, token: &str, [lat, lon]: [f64; 2], since: Instant) -> f64 {
    let client = client(1);
    let url = format!("{base}/api/v1/map/features?bbox={}&zoom=12", viewport(lat, lon, 12));
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        match call(client.get(&url).bearer_auth(token)).await {
            Ok(_) => return since.elapsed().as_secs_f64(),
            Err(e) => {
                assert!(Instant::now() < deadline, "the map did not answer within 600 s: {e}");
                eprintln!("map not ready yet: {e}");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Geography

/// A spot within `radius_m` metres of a place.
fn near(rng: &mut StdRng, lat: f64, lon: f64, radius_m: f64) -> (f64, f64) {
    let r = radius_m * rng.random_range(0.0f64..1.0).sqrt();
    let angle = rng.random_range(0.0..std::f64::consts::TAU);
    let dlat = r * angle.sin() / 111_320.0;
    let dlon = r * angle.cos() / (111_320.0 * lat.to_radians().cos());
    (lat + dlat, lon + dlon)
}

/// `minLon,minLat,maxLon,maxLat` of a 1280×800 px screen centred at `(lat, lon)` at `zoom`.
fn viewport(lat: f64, lon: f64, zoom: u8) -> String {
    let c = project(LatLon { lat, lon });
    // The world is 2^32 units and 256 × 2^zoom pixels wide.
    let units_per_px = 2f64.powi(24 - i32::from(zoom));
    let (half_w, half_h) = (640.0 * units_per_px, 400.0 * units_per_px);
    let nw = unproject_f(f64::from(c.x) - half_w, f64::from(c.y) - half_h);
    let se = unproject_f(f64::from(c.x) + half_w, f64::from(c.y) + half_h);
    format!("{:.6},{:.6},{:.6},{:.6}", nw.lon, se.lat, se.lon, nw.lat)
}

/// The centre moved by up to a tenth of the screen (128 × 80 px) at `zoom`.
fn jitter(rng: &mut StdRng, lat: f64, lon: f64, zoom: u8) -> (f64, f64) {
    let deg_per_px = 360.0 / (256.0 * 2f64.powi(i32::from(zoom)));
    let dlon = rng.random_range(-128.0..128.0) * deg_per_px;
    let dlat = rng.random_range(-80.0..80.0) * deg_per_px * lat.to_radians().cos();
    (lat + dlat, lon + dlon)
}

// ---------------------------------------------------------------------------------------------
// Driving load

/// What was measured of one scenario: requests, successes' latencies, errors and bytes received.
#[derive(Default)]
struct Recorder {
    requests: u64,
    latencies: Vec<Duration>,
    errors: u64,
    bytes: u64,
    first_errors: Vec<String>,
}

impl Recorder {
    /// One request's outcome.
    fn record(&mut self, took: Duration, outcome: Result<u64, String>) {
        self.requests += 1;
        match outcome {
            Ok(bytes) => {
                self.latencies.push(took);
                self.bytes += bytes;
            }
            Err(e) => self.error(e),
        }
    }

    /// An error that is no request of its own (a failed check).
    fn error(&mut self, e: String) {
        self.errors += 1;
        if self.first_errors.len() < 3 {
            self.first_errors.push(e);
        }
    }

    fn merge(&mut self, other: Recorder) {
        self.requests += other.requests;
        self.latencies.extend(other.latencies);
        self.bytes += other.bytes;
        for e in other.first_errors {
            if self.first_errors.len() < 3 {
                self.first_errors.push(e);
            }
        }
        self.errors += other.errors;
    }
}

/// How long a scenario runs: `concurrency` tasks until `duration` after `warmup` has passed, or
/// until `requests` have been sent, whichever comes first.
#[derive(Clone, Copy)]
struct Plan {
    concurrency: usize,
    warmup: Duration,
    duration: Option<Duration>,
    requests: Option<u64>,
}

impl Plan {
    fn timed(concurrency: usize, duration: Duration) -> Plan {
        Plan { concurrency, warmup: WARMUP, duration: Some(duration), requests: None }
    }

    fn count(concurrency: usize, requests: u64) -> Plan {
        Plan { concurrency, warmup: Duration::ZERO, duration: None, requests: Some(requests) }
    }
}

/// Runs `job(task, n)` back to back in `plan.concurrency` tasks (`n` numbers the requests across
/// tasks); a job answers the bytes it received or an error. Gives what was measured after the
/// warm-up and the seconds from the end of the warm-up until the last request came back.
async fn drive<F, Fut>(plan: Plan, job: F) -> (Recorder, f64)
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<u64, String>> + Send + 'static,
{
    let job = Arc::new(job);
    let counter = Arc::new(AtomicU64::new(0));
    let measure_from = Instant::now() + plan.warmup;
    let deadline = plan.duration.map(|d| measure_from + d);
    let tasks: Vec<_> = (0..plan.concurrency)
        .map(|task| {
            let (job, counter) = (job.clone(), counter.clone());
            tokio::spawn(async move {
                let mut rec = Recorder::default();
                loop {
                    let t = Instant::now();
                    if deadline.is_some_and(|d| t >= d) {
                        break;
                    }
                    let n = counter.fetch_add(1, Ordering::Relaxed);
                    if plan.requests.is_some_and(|limit| n >= limit) {
                        break;
                    }
                    let outcome = job(task, n).await;
                    if t >= measure_from {
                        rec.record(t.elapsed(), outcome);
                    }
                }
                (rec, Instant::now())
            })
        })
        .collect();
    let mut total = Recorder::default();
    let mut end = measure_from;
    for task in tasks {
        let (rec, done) = task.await.unwrap();
        total.merge(rec);
        end = end.max(done);
    }
    (total, end.saturating_duration_since(measure_from).as_secs_f64())
}

// ---------------------------------------------------------------------------------------------
// Scenarios

/// An account manager the load runs as.
struct Am {
    phone: String,
    token: String,
    partners: Vec<PartnerRef>,
}

/// What the scenarios share: the server, who is logged in, and what earlier scenarios made.
struct Ctx {
    base: String,
    m: Manifest,
    opts: Opts,
    tokens: HashMap<String, String>,
    /// Account managers with partners, at most as many as the largest concurrency.
    ams: Arc<Vec<Am>>,
    /// Visits made by `create_visit`, for photos: (the maker's token, visit id).
    visits: Arc<Mutex<Vec<(String, String)>>>,
    /// The cursor after the last full sync of the sync account manager.
    sync_cursor: Option<String>,
    /// Registered (not waitlisted) tickets of the registration burst.
    tickets: Vec<String>,
    capacity_respected: Option<bool>,
}

/// Why a scenario gave no measurement: nothing to do (not an error), or a failure on the way.
enum Stop {
    Skip(String),
    Failed(String),
}

impl From<String> for Stop {
    fn from(e: String) -> Stop {
        Stop::Failed(e)
    }
}

impl From<&str> for Stop {
    fn from(e: &str) -> Stop {
        Stop::Failed(e.to_owned())
    }
}

/// One scenario's outcome, before the memory figure is added.
struct Measured {
    concurrency: usize,
    rec: Recorder,
    seconds: f64,
    notes: String,
}

impl Ctx {
    fn token(&self, phone: &str) -> String {
        self.tokens.get(phone).cloned().unwrap_or_else(|| panic!("{phone} is not logged in"))
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

fn now_minus_minute() -> String {
    (Utc::now() - chrono::TimeDelta::minutes(1)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A visit a minute ago within 30 m of `partner`, or a market sweep near `centre` without one.
fn visit_body(rng: &mut StdRng, partner: Option<&PartnerRef>, centre: [f64; 2]) -> Value {
    let (lat, lon, partner_id, purpose) = match partner {
        Some(p) => {
            let (lat, lon) = near(rng, p.lat, p.lon, 30.0);
            (lat, lon, Some(p.id), "relationship")
        }
        None => {
            let (lat, lon) = near(rng, centre[0], centre[1], 500.0);
            (lat, lon, None, "market_sweep")
        }
    };
    json!({
        "partner_id": partner_id,
        "location": {"lat": lat, "lon": lon, "accuracy_m": 10},
        "visited_at": now_minus_minute(),
        "purpose": purpose,
        "notes": "了解商户收单需求",
    })
}

fn id_of(body: &[u8]) -> Option<String> {
    serde_json::from_slice::<Value>(body).ok()?["id"].as_str().map(str::to_owned)
}

async fn login_scenario(cx: &mut Ctx) -> Result<Measured, Stop> {
    let phones: Arc<Vec<String>> = Arc::new(cx.m.account_managers.iter().map(|a| a.phone.clone()).collect());
    if phones.is_empty() {
        return Err(Stop::Skip("no account managers".to_owned()));
    }
    let concurrency = cx.opts.login_concurrency;
    let client = client(concurrency);
    let (url, password) = (cx.url("/api/v1/auth/login"), cx.m.password.clone());
    let plan = Plan {
        concurrency,
        warmup: Duration::ZERO,
        duration: Some(cx.opts.duration.min(Duration::from_secs(5))),
        requests: Some(200),
    };
    let (rec, seconds) = drive(plan, move |_, n| {
        let phone = &phones[n as usize % phones.len()];
        let req = client.post(&url).json(&json!({"phone": phone, "password": password}));
        async move { call(req).await.map(|(_, body)| body.len() as u64) }
    })
    .await;
    Ok(Measured { concurrency, rec, seconds, notes: "argon2-bound".to_owned() })
}

async fn create_visit(cx: &mut Ctx) -> Result<Measured, Stop> {
    let concurrency = cx.opts.concurrency;
    let client = client(concurrency);
    let (ams, kept, url) = (cx.ams.clone(), cx.visits.clone(), cx.url("/api/v1/visits"));
    let centre = cx.m.city_centre;
    // Enough visits for the photo scenario, each photo on a visit of its own.
    let keep = cx.opts.photo_requests as usize;
    let (rec, seconds) = drive(Plan::timed(concurrency, cx.opts.duration), move |task, n| {
        let am = &ams[task % ams.len()];
        let mut rng = StdRng::seed_from_u64(n);
        let partner = &am.partners[rng.random_range(0..am.partners.len())];
        let req = client.post(&url).bearer_auth(&am.token).json(&visit_body(&mut rng, Some(partner), centre));
        let (token, kept) = (am.token.clone(), kept.clone());
        async move {
            let (status, body) = call(req).await?;
            if status != 201 {
                return Err(format!("{status} (expected 201): {}", String::from_utf8_lossy(&body)));
            }
            let mut kept = kept.lock().unwrap();
            if kept.len() < keep
                && let Some(id) = id_of(&body)
            {
                kept.push((token, id));
            }
            Ok(body.len() as u64)
        }
    })
    .await;
    Ok(Measured { concurrency, rec, seconds, notes: String::new() })
}

async fn nearby(cx: &mut Ctx) -> Result<Measured, Stop> {
    let concurrency = cx.opts.concurrency;
    let client = client(concurrency);
    let (ams, base) = (cx.ams.clone(), cx.base.clone());
    let (rec, seconds) = drive(Plan::timed(concurrency, cx.opts.duration), move |task, n| {
        let am = &ams[task % ams.len()];
        let mut rng = StdRng::seed_from_u64(n);
        let p = &am.partners[rng.random_range(0..am.partners.len())];
        let (lat, lon) = near(&mut rng, p.lat, p.lon, 300.0);
        let url = format!("{base}/api/v1/partners/nearby?lat={lat:.6}&lon={lon:.6}&radius_m=1000&limit=50");
        let req = client.get(url).bearer_auth(&am.token);
        async move { call(req).await.map(|(_, body)| body.len() as u64) }
    })
    .await;
    Ok(Measured { concurrency, rec, seconds, notes: String::new() })
}

async fn map_view(cx: &mut Ctx, [lat, lon]: [f64; 2], zoom: u8) -> Result<Measured, Stop> {
    let concurrency = cx.opts.map_concurrency;
    let client = client(concurrency);
    let (token, base) = (cx.token(&cx.m.branch_manager), cx.base.clone());
    let (rec, seconds) = drive(Plan::timed(concurrency, cx.opts.duration), move |_, n| {
        let mut rng = StdRng::seed_from_u64(n);
        let (la, lo) = jitter(&mut rng, lat, lon, zoom);
        let url = format!("{base}/api/v1/map/features?bbox={}&zoom={zoom}", viewport(la, lo, zoom));
        let req = client.get(url).bearer_auth(&token);
        async move { call(req).await.map(|(_, body)| body.len() as u64) }
    })
    .await;
    Ok(Measured { concurrency, rec, seconds, notes: "branch manager, 1280×800 px".to_owned() })
}

/// Only how many records a pull page holds, not the records themselves.
#[derive(serde::Deserialize)]
struct Page {
    changes: HashMap<String, TableChanges>,
    cursor: String,
    has_more: bool,
}

#[derive(serde::Deserialize)]
struct TableChanges {
    created: Vec<IgnoredAny>,
    updated: Vec<IgnoredAny>,
    deleted: Vec<IgnoredAny>,
}

/// What one sync brought: records, bytes, pages and the cursor to pull from next.
struct Synced {
    records: u64,
    bytes: u64,
    pages: u64,
    cursor: String,
}

/// Pulls from `cursor` (none: a first sync) until `has_more` is false, as the phone does.
async fn sync_all(client: &reqwest::Client, base: &str, token: &str, cursor: Option<String>) -> Result<Synced, String> {
    let mut synced = Synced { records: 0, bytes: 0, pages: 0, cursor: cursor.unwrap_or_default() };
    loop {
        // Cursors are URL-safe base64: no escaping needed.
        let url = if synced.cursor.is_empty() {
            format!("{base}/api/v1/sync/pull")
        } else {
            format!("{base}/api/v1/sync/pull?cursor={}", synced.cursor)
        };
        let req = client.get(url).bearer_auth(token);
        let (_, body) = call(req).await?;
        let page: Page = serde_json::from_slice(&body).map_err(|e| format!("pull page: {e}"))?;
        synced.pages += 1;
        synced.bytes += body.len() as u64;
        synced.records +=
            page.changes.values().map(|t| (t.created.len() + t.updated.len() + t.deleted.len()) as u64).sum::<u64>();
        synced.cursor = page.cursor;
        if !page.has_more {
            return Ok(synced);
        }
    }
}

async fn sync_first(cx: &mut Ctx) -> Result<Measured, Stop> {
    let client = client(1);
    let (token, base) = (cx.token(&cx.m.sync_account_manager), cx.base.clone());
    let last: Arc<Mutex<Option<Synced>>> = Arc::default();
    let out = last.clone();
    let (rec, seconds) = drive(Plan::count(1, cx.opts.sync_repeats), move |_, _| {
        let (client, base, token, last) = (client.clone(), base.clone(), token.clone(), last.clone());
        async move {
            let synced = sync_all(&client, &base, &token, None).await?;
            let bytes = synced.bytes;
            *last.lock().unwrap() = Some(synced);
            Ok(bytes)
        }
    })
    .await;
    let notes = match out.lock().unwrap().take() {
        Some(s) => {
            cx.sync_cursor = Some(s.cursor);
            format!("{} records, {} pages, {:.2} MiB per sync", s.records, s.pages, s.bytes as f64 / 1_048_576.0)
        }
        None => String::new(),
    };
    Ok(Measured { concurrency: 1, rec, seconds, notes })
}

async fn sync_incremental(cx: &mut Ctx) -> Result<Measured, Stop> {
    let client = client(1);
    let phone = cx.m.sync_account_manager.clone();
    let token = cx.token(&phone);
    let mut cursor = match cx.sync_cursor.take() {
        Some(c) => c,
        None => sync_all(&client, &cx.base, &token, None).await?.cursor,
    };
    let partners: Vec<PartnerRef> =
        cx.m.account_managers.iter().find(|a| a.phone == phone).map(|a| a.partners.clone()).unwrap_or_default();
    let mut rng = StdRng::seed_from_u64(cx.opts.seed);
    let (mut rec, mut records, mut non_empty) = (Recorder::default(), 0, 0);
    let started = Instant::now();
    for i in 0..INCREMENTAL_PULLS {
        // A new visit before every fifth pull (not timed), so some pulls carry a change.
        if i % 5 == 0 {
            let partner = (!partners.is_empty()).then(|| &partners[rng.random_range(0..partners.len())]);
            let body = visit_body(&mut rng, partner, cx.m.city_centre);
            call(client.post(cx.url("/api/v1/visits")).bearer_auth(&token).json(&body)).await?;
        }
        let t = Instant::now();
        match sync_all(&client, &cx.base, &token, Some(cursor.clone())).await {
            Ok(s) => {
                rec.record(t.elapsed(), Ok(s.bytes));
                records += s.records;
                non_empty += u64::from(s.records > 0);
                cursor = s.cursor;
            }
            Err(e) => rec.record(t.elapsed(), Err(e)),
        }
    }
    // The seconds the pulls took, not the visits in between.
    let seconds = rec.latencies.iter().sum::<Duration>().as_secs_f64().min(started.elapsed().as_secs_f64());
    cx.sync_cursor = Some(cursor);
    let notes = format!("{records} records in {non_empty} non-empty pulls; a visit before every 5th");
    Ok(Measured { concurrency: 1, rec, seconds, notes })
}

async fn sync_incremental_16(cx: &mut Ctx) -> Result<Measured, Stop> {
    let concurrency = cx.ams.len().min(16);
    let client = client(concurrency);
    // Each task is a phone of its own, so each first needs a full sync (not timed).
    let mut cursors = Vec::new();
    for am in cx.ams.iter().take(concurrency) {
        cursors.push(Mutex::new(sync_all(&client, &cx.base, &am.token, None).await?.cursor));
    }
    let (ams, base, cursors) = (cx.ams.clone(), cx.base.clone(), Arc::new(cursors));
    let (rec, seconds) = drive(Plan::timed(concurrency, cx.opts.duration), move |task, _| {
        let (client, base, ams, cursors) = (client.clone(), base.clone(), ams.clone(), cursors.clone());
        async move {
            let cursor = cursors[task].lock().unwrap().clone();
            let synced = sync_all(&client, &base, &ams[task].token, Some(cursor)).await?;
            *cursors[task].lock().unwrap() = synced.cursor;
            Ok(synced.bytes)
        }
    })
    .await;
    Ok(Measured { concurrency, rec, seconds, notes: "one account manager per task".to_owned() })
}

/// A burst registration's answer.
struct Ticket {
    phone: String,
    took: Duration,
    outcome: Result<(u16, Vec<u8>), String>,
}

async fn spots_left(client: &reqwest::Client, base: &str, code: &str) -> Result<i64, String> {
    let (_, body) = call(client.get(format!("{base}/api/v1/public/events/{code}")))
        .await
        .map_err(|e| format!("the public event page: {e}"))?;
    let body: Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    body["spots_left"].as_i64().ok_or_else(|| format!("no spots_left in {body}"))
}

/// Fires `BURST` registrations at once; gives them with the wall time from the start signal.
async fn fire_registrations(base: &str, code: &str, phones: &[String]) -> (Vec<Ticket>, f64) {
    let client = client(phones.len());
    let url = format!("{base}/api/v1/public/events/{code}/registrations");
    let barrier = Arc::new(tokio::sync::Barrier::new(phones.len() + 1));
    let tasks: Vec<_> = phones
        .iter()
        .map(|phone| {
            let body = json!({"name": "黄先生", "phone": phone, "consent": true});
            let (req, barrier, phone) = (client.post(&url).json(&body), barrier.clone(), phone.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                let t = Instant::now();
                let outcome = call(req).await;
                (Ticket { phone, took: t.elapsed(), outcome }, Instant::now())
            })
        })
        .collect();
    barrier.wait().await;
    let start = Instant::now();
    let mut tickets = Vec::new();
    let mut end = start;
    for task in tasks {
        let (ticket, done) = task.await.unwrap();
        tickets.push(ticket);
        end = end.max(done);
    }
    (tickets, (end - start).as_secs_f64())
}

/// The event's attendees by phone (as the owner sees them: unmasked), with their statuses.
async fn attendees(cx: &Ctx, client: &reqwest::Client) -> Result<Vec<(String, String)>, String> {
    let ev = &cx.m.burst_event;
    let req = client.get(cx.url(&format!("/api/v1/events/{}/attendees", ev.id))).bearer_auth(cx.token(&ev.owner_phone));
    let (_, body) = call(req).await.map_err(|e| format!("the attendee list: {e}"))?;
    let body: Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    Ok(body["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|a| (a["phone"].as_str().unwrap_or("").to_owned(), a["status"].as_str().unwrap_or("").to_owned()))
                .collect()
        })
        .unwrap_or_default())
}

async fn registration_burst(cx: &mut Ctx) -> Result<Measured, Stop> {
    let ev = cx.m.burst_event.clone();
    let probe = client(1);
    let before = spots_left(&probe, &cx.base, &ev.code).await?;
    // Phones of a block of their own, so a reused database still sees new attendees.
    let block: u32 = rand::rng().random_range(0..10_000);
    let phones: Vec<String> = (0..BURST).map(|i| format!("139{block:04}{i:04}")).collect();
    let (answers, seconds) = fire_registrations(&cx.base, &ev.code, &phones).await;

    let mut rec = Recorder::default();
    let (mut registered, mut waitlisted) = (Vec::new(), 0u64);
    let mut codes = HashSet::new();
    for t in answers {
        let ticket = t.outcome.and_then(|(status, body)| {
            let body: Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
            if status != 201 {
                return Err(format!("{} got {status} (expected 201): {body}", t.phone));
            }
            Ok((
                body["ticket_code"].as_str().unwrap_or("").to_owned(),
                body["status"].as_str().unwrap_or("").to_owned(),
                body.to_string().len(),
            ))
        });
        match ticket {
            Ok((code, status, bytes)) => {
                rec.record(t.took, Ok(bytes as u64));
                if !codes.insert(code.clone()) {
                    rec.error(format!("ticket {code} given twice"));
                }
                match status.as_str() {
                    "registered" => registered.push(code),
                    "waitlisted" => waitlisted += 1,
                    other => rec.error(format!("{} got status {other}", t.phone)),
                }
            }
            Err(e) => rec.record(t.took, Err(e)),
        }
    }

    // The places given must be exactly the places there were, never more than the capacity.
    let expected = before.clamp(0, BURST as i64);
    let given = registered.len() as i64;
    let after = spots_left(&probe, &cx.base, &ev.code).await?;
    let mut violations = Vec::new();
    if given != expected {
        violations.push(format!("{given} registered, expected min({BURST}, {before} places left) = {expected}"));
    }
    if given > ev.capacity {
        violations.push(format!("{given} registered over a capacity of {}", ev.capacity));
    }
    if after != before - given {
        violations.push(format!("spots_left went {before} → {after} with {given} registered"));
    }
    // Every phone has exactly one ticket, as the server has it.
    let listed = attendees(cx, &probe).await?;
    let total_registered = listed.iter().filter(|(_, s)| s == "registered").count() as i64;
    if total_registered > ev.capacity {
        violations.push(format!("{total_registered} registered attendees in all over a capacity of {}", ev.capacity));
    }
    let mut per_phone: HashMap<&str, u32> = HashMap::new();
    for (phone, _) in &listed {
        *per_phone.entry(phone.as_str()).or_default() += 1;
    }
    let wrong = phones.iter().filter(|p| per_phone.get(p.as_str()).copied().unwrap_or(0) != 1).count();
    if wrong > 0 {
        violations.push(format!("{wrong} phones without exactly one ticket in the attendee list"));
    }
    let respected = violations.is_empty();
    for v in violations {
        eprintln!("registration_burst: VIOLATION: {v}");
        rec.error(v);
    }
    cx.capacity_respected = Some(respected);
    cx.tickets = registered;
    let notes = format!(
        "capacity {}, {before} places left → {given} registered, {waitlisted} waitlisted; capacity respected: {}",
        ev.capacity,
        if respected { "yes" } else { "no" }
    );
    Ok(Measured { concurrency: BURST, rec, seconds, notes })
}

async fn checkin_burst(cx: &mut Ctx) -> Result<Measured, Stop> {
    if cx.tickets.is_empty() {
        return Err(Stop::Skip("no registered tickets (run registration_burst first)".to_owned()));
    }
    let concurrency = CHECKIN_CONCURRENCY.min(cx.tickets.len());
    let http = client(concurrency);
    let ev = &cx.m.burst_event;
    let (token, url) = (cx.token(&ev.owner_phone), cx.url(&format!("/api/v1/events/{}/checkins", ev.id)));
    let tickets = Arc::new(cx.tickets.clone());
    let already = Arc::new(AtomicU64::new(0));
    let (job_tickets, job_already, job_url, job_token) = (tickets.clone(), already.clone(), url.clone(), token.clone());
    let (mut rec, seconds) = drive(Plan::count(concurrency, tickets.len() as u64), move |_, n| {
        let req = http.post(&job_url).bearer_auth(&job_token).json(&json!({"ticket_code": job_tickets[n as usize]}));
        let already = job_already.clone();
        async move {
            let (_, body) = call(req).await?;
            let answer: Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
            if answer["already_checked_in"] == true {
                already.fetch_add(1, Ordering::Relaxed);
            }
            Ok(body.len() as u64)
        }
    })
    .await;
    // A second scan of a few must say so, and is not timed.
    let again = client(1);
    let mut second = 0;
    for code in tickets.iter().take(5) {
        let answer = call(again.post(&url).bearer_auth(&token).json(&json!({"ticket_code": code}))).await;
        match answer.and_then(|(_, b)| serde_json::from_slice::<Value>(&b).map_err(|e| e.to_string())) {
            Ok(body) if body["already_checked_in"] == true => second += 1,
            Ok(body) => rec.error(format!("second scan of {code} not already_checked_in: {body}")),
            Err(e) => rec.error(format!("second scan of {code}: {e}")),
        }
    }
    let notes = format!(
        "{} tickets, {} already checked in on the first scan; second scan: {second}/{} already_checked_in",
        tickets.len(),
        already.load(Ordering::Relaxed),
        tickets.len().min(5)
    );
    Ok(Measured { concurrency, rec, seconds, notes })
}

/// A 4000×3000 photo with texture (a gradient, waves and noise), as a phone's JPEG of 2–5 MB:
/// a flat image would compress to almost nothing and spare the server's decoder.
fn photo_jpeg() -> Vec<u8> {
    let (w, h) = (4000u32, 3000u32);
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let image = image::RgbImage::from_fn(w, h, |x, y| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let noise = (state % 13) as f32 - 6.0;
        let wave = 24.0 * ((x as f32 / 37.0).sin() * (y as f32 / 53.0).cos());
        let base = [x * 200 / w, y * 200 / h, (x + y) * 120 / (w + h)];
        image::Rgb(base.map(|b| (b as f32 + 30.0 + wave + noise).clamp(0.0, 255.0) as u8))
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90).encode_image(&image).unwrap();
    out
}

/// Visits for `n` photos, one each: those `create_visit` made, topped up with new ones.
async fn visits_for_photos(cx: &Ctx, client: &reqwest::Client, n: usize) -> Result<Vec<(String, String)>, String> {
    let mut visits = cx.visits.lock().unwrap().clone();
    let mut rng = StdRng::seed_from_u64(cx.opts.seed ^ 0x9607);
    let mut i = 0;
    while visits.len() < n {
        let am = &cx.ams[i % cx.ams.len()];
        let partner = &am.partners[rng.random_range(0..am.partners.len())];
        let body = visit_body(&mut rng, Some(partner), cx.m.city_centre);
        let (_, created) = call(client.post(cx.url("/api/v1/visits")).bearer_auth(&am.token).json(&body)).await?;
        visits.push((am.token.clone(), id_of(&created).ok_or("a created visit without id")?));
        i += 1;
    }
    visits.truncate(n);
    Ok(visits)
}

async fn photo_upload(cx: &mut Ctx) -> Result<Measured, Stop> {
    let requests = cx.opts.photo_requests;
    let concurrency = cx.opts.photo_concurrency.min(requests as usize);
    let client = client(concurrency);
    let visits = Arc::new(visits_for_photos(cx, &client, requests as usize).await?);
    // Made once and shared by every request without copies.
    let jpeg: &'static [u8] = tokio::task::spawn_blocking(photo_jpeg).await.unwrap().leak();
    let repeated = Arc::new(AtomicU64::new(0));
    let (base, seen) = (cx.base.clone(), repeated.clone());
    let (rec, seconds) = drive(Plan::count(concurrency, requests), move |_, n| {
        let (token, visit) = &visits[n as usize];
        let req = client
            .post(format!("{base}/api/v1/visits/{visit}/photos"))
            .bearer_auth(token)
            .header("content-type", "image/jpeg")
            .body(jpeg);
        let seen = seen.clone();
        async move {
            let (status, body) = call(req).await?;
            // 200: the image was on the visit already (a retry), which this driver never means.
            if status != 201 {
                seen.fetch_add(1, Ordering::Relaxed);
            }
            Ok(body.len() as u64)
        }
    })
    .await;
    let notes = format!(
        "JPEG 4000×3000, {:.2} MiB; {} answered 200 (already on the visit)",
        jpeg.len() as f64 / 1_048_576.0,
        repeated.load(Ordering::Relaxed)
    );
    Ok(Measured { concurrency, rec, seconds, notes })
}

/// GETs `/api/v1/projects/{id}/{what}` for each project in turn, as its manager.
async fn project_reads(cx: &mut Ctx, what: &'static str) -> Result<Measured, Stop> {
    if cx.m.projects.is_empty() {
        return Err(Stop::Skip("the manifest has no projects".to_owned()));
    }
    let concurrency = PROJECT_CONCURRENCY;
    let client = client(concurrency);
    let projects: Arc<Vec<(String, String)>> = Arc::new(
        cx.m.projects
            .iter()
            .map(|p| (cx.url(&format!("/api/v1/projects/{}/{what}", p.id)), cx.token(&p.manager_phone)))
            .collect(),
    );
    let count = projects.len();
    let (rec, seconds) = drive(Plan::timed(concurrency, cx.opts.duration), move |_, n| {
        let (url, token) = &projects[n as usize % projects.len()];
        let req = client.get(url).bearer_auth(token);
        async move { call(req).await.map(|(_, body)| body.len() as u64) }
    })
    .await;
    Ok(Measured { concurrency, rec, seconds, notes: format!("{count} projects in turn") })
}

// ---------------------------------------------------------------------------------------------
// Report

#[derive(Serialize)]
struct Row {
    scenario: String,
    concurrency: usize,
    requests: u64,
    seconds: f64,
    req_per_s: f64,
    p50_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    errors: u64,
    kib_per_request: f64,
    peak_rss_mib: Option<f64>,
    /// The private part of it (RssAnon).
    peak_anon_mib: Option<f64>,
    notes: String,
    first_errors: Vec<String>,
}

impl Row {
    fn of(scenario: &str, mut m: Measured, peak: Option<(f64, f64)>) -> Row {
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
    fn stopped(scenario: &str, stop: Stop) -> Row {
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

    fn markdown(&self) -> String {
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

const TABLE_HEAD: &str = "| scenario | conc | requests | s | req/s | p50 ms | p95 ms | p99 ms | max ms | errors | KiB/req | peak RSS (anon) MiB | notes |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|";

/// Everything about the run but the rows.
#[derive(Serialize)]
struct Header {
    backend: String,
    scale: f64,
    seed: u64,
    /// Of each timed scenario, after 1 s of warm-up.
    duration_s: u64,
    cpus: usize,
    load_start: String,
    load_end: String,
    commit: String,
    ready_s: Option<f64>,
    map_ready_s: f64,
    /// When the map index had loaded, before any load.
    server_rss_ready_mib: Option<f64>,
    server_anon_ready_mib: Option<f64>,
    /// The highest RssAnon seen in any scenario.
    server_peak_anon_mib: Option<f64>,
    server_vmhwm_mib: Option<f64>,
    capacity_respected: Option<bool>,
    counts: Counts,
}

/// A count as it is, a fraction to one decimal.
fn number(v: &Value) -> String {
    match v.as_f64() {
        Some(f) if !v.is_u64() && !v.is_i64() => format!("{f:.1}"),
        _ => v.to_string(),
    }
}

impl Header {
    fn markdown(&self) -> String {
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

// ---------------------------------------------------------------------------------------------
// The run

/// Account managers the tasks take turns as: those with partners, as many as the largest
/// concurrency needs.
fn chosen_ams(m: &Manifest, opts: &Opts) -> Vec<(String, Vec<PartnerRef>)> {
    let wanted = opts.concurrency.max(16);
    m.account_managers
        .iter()
        .filter(|a| !a.partners.is_empty())
        .take(wanted)
        .map(|a| (a.phone.clone(), a.partners.clone()))
        .collect()
}

async fn run_scenario(cx: &mut Ctx, name: &str) -> Result<Measured, Stop> {
    if cx.ams.is_empty() && ["create_visit", "nearby", "sync_incremental_16", "photo_upload"].contains(&name) {
        return Err(Stop::Skip("no account manager has partners".to_owned()));
    }
    let (city, street) = (cx.m.city_centre, cx.m.street_centre);
    match name {
        "login" => login_scenario(cx).await,
        "create_visit" => create_visit(cx).await,
        "nearby" => nearby(cx).await,
        "map_z12" => map_view(cx, city, 12).await,
        "map_z16" => map_view(cx, street, 16).await,
        "sync_first" => sync_first(cx).await,
        "sync_incremental" => sync_incremental(cx).await,
        "sync_incremental_16" => sync_incremental_16(cx).await,
        "registration_burst" => registration_burst(cx).await,
        "checkin_burst" => checkin_burst(cx).await,
        "photo_upload" => photo_upload(cx).await,
        "project_progress" => project_reads(cx, "progress").await,
        "leaderboard" => project_reads(cx, "leaderboard?period=week").await,
        other => Err(Stop::Failed(format!("unknown scenario {other}"))),
    }
}

/// Measures every chosen scenario against `base`; prints the report, gives whether it passed.
async fn run(opts: &Opts, target: &Target) -> bool {
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
    let rss_ready_mib = pid.and_then(|pid| proc_kib(pid, "VmRSS:")).map(mib);
    let anon_ready_mib = pid.and_then(|pid| proc_kib(pid, "RssAnon:")).map(mib);
    eprintln!("server ready after {ready_s:.1} s, map index ready after {map_ready_s:.1} s");

    let ams = chosen_ams(&m, opts);
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
        opts: opts.clone(),
        tokens,
        ams: Arc::new(ams),
        visits: Arc::default(),
        sync_cursor: None,
        tickets: Vec::new(),
        capacity_respected: None,
    };
    let mut rows = Vec::new();
    for name in &opts.scenarios {
        eprintln!("… {name}");
        rss.reset();
        let row = match run_scenario(&mut cx, name).await {
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
        duration_s: opts.duration.as_secs(),
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
    if let Some(path) = &opts.json {
        let doc = json!({"header": header, "results": rows});
        std::fs::write(path, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
        eprintln!("results written to {}", path.display());
    }
    let errors: u64 = rows.iter().map(|r| r.errors).sum();
    errors == 0 && cx.capacity_respected != Some(false)
}

fn main() {
    let opts = Opts::parse();
    let target = Target::prepare(&opts);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let passed = runtime.block_on(run(&opts, &target));
    drop(runtime);
    target.finish();
    if !passed {
        if opts.allow_errors {
            eprintln!("there were errors (allowed by --allow-errors 1)");
        } else {
            eprintln!("there were errors: failing (pass --allow-errors 1 to accept them)");
            std::process::exit(1);
        }
    }
}
