//! The server under test: its data directory, its database, its process and its memory.

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use diesel::{Connection, PgConnection, RunQueryDsl};
use outreach::fixtures::seed::Manifest;
use uuid::Uuid;

use crate::args::Args;

const JWT_SECRET: &str = "load-driver-secret-0123456789abcdefghijk";

/// A field of `/proc/<pid>/status` in KiB (`VmRSS:`, `VmHWM:`).
pub fn proc_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find(|l| l.starts_with(field))?.split_whitespace().nth(1)?.parse().ok()
}

/// Whether the process still runs (an exited child stays a zombie until waited for).
pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .is_ok_and(|s| s.lines().any(|l| l.starts_with("State:") && !l.contains('Z')))
}

pub fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// The server's peak resident memory since the last `reset`, sampled every 50 ms: all of it
/// (VmRSS) and its private part (RssAnon). The difference is file pages: SQLite maps the database
/// into each pooled connection, and the same cached page counts once per mapping in VmRSS.
#[derive(Clone)]
pub struct Rss {
    pid: Option<u32>,
    peak_kib: Arc<AtomicU64>,
    peak_anon_kib: Arc<AtomicU64>,
}

impl Rss {
    pub fn start(pid: Option<u32>) -> Rss {
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

    pub fn reset(&self) {
        let now = |field| self.pid.and_then(|pid| proc_kib(pid, field)).unwrap_or(0);
        self.peak_kib.store(now("VmRSS:"), Ordering::Relaxed);
        self.peak_anon_kib.store(now("RssAnon:"), Ordering::Relaxed);
    }

    /// Peak VmRSS and peak RssAnon since the last reset.
    pub fn peak_mib(&self) -> Option<(f64, f64)> {
        self.pid.map(|_| (mib(self.peak_kib.load(Ordering::Relaxed)), mib(self.peak_anon_kib.load(Ordering::Relaxed))))
    }

    pub fn hwm_mib(&self) -> Option<f64> {
        self.pid.and_then(|pid| proc_kib(pid, "VmHWM:")).map(mib)
    }
}

pub fn read_manifest(path: &Path) -> Manifest {
    let text = std::fs::read(path).unwrap_or_else(|e| panic!("reading the manifest {}: {e}", path.display()));
    serde_json::from_slice(&text).unwrap_or_else(|e| panic!("the manifest {} does not parse: {e}", path.display()))
}

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
fn seed(bin: &Path, args: &Args, dir: &Path, manifest: &Path, database_url: Option<&str>) {
    let mut cmd = Command::new(bin);
    cmd.args(["bench", "seed", "--scale", &args.scale.to_string(), "--seed", &args.seed.to_string(), "--manifest"])
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
pub struct Server {
    pub child: Child,
    base: String,
    pub started: Instant,
    pub log: PathBuf,
}

impl Server {
    fn start(bin: &Path, dir: &Path, database_url: Option<&str>, log_name: &str) -> Server {
        let port = free_port();
        let log = dir.join(log_name);
        let out = File::create(&log).unwrap();
        let err = out.try_clone().unwrap();
        let mut cmd = Command::new(bin);
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
pub struct Target {
    pub base: String,
    pub manifest: PathBuf,
    pub backend: String,
    pub server: Option<Server>,
    /// With `--replicas N`: the other N − 1 app processes (`server` is the first).
    replicas: Vec<Server>,
    /// The base URL of each replica itself, behind the round robin (empty with one process).
    pub replica_bases: Vec<String>,
    _pg: Option<PgDb>,
    temp: Option<tempfile::TempDir>,
    keep: bool,
}

impl Target {
    /// A running server (`--url`), or the server binary `bin` started on seeded data.
    pub fn prepare(args: &Args, bin: &Path) -> Target {
        if let (Some(url), Some(manifest)) = (&args.url, &args.manifest) {
            return Target {
                base: url.clone(),
                manifest: manifest.clone(),
                backend: "a running server (--url)".to_owned(),
                server: None,
                replicas: Vec::new(),
                replica_bases: Vec::new(),
                _pg: None,
                temp: None,
                keep: true,
            };
        }
        let (dir, temp) = match &args.dir {
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
        let (pg, database_url) = match &args.db {
            Some(server_url) => {
                let (pg, url) = PgDb::create(server_url, args.keep);
                (Some(pg), Some(url))
            }
            None => (None, None),
        };
        if database_url.is_none() && manifest.exists() {
            eprintln!("reusing the seeded data in {} (not seeding)", dir.display());
        } else {
            seed(bin, args, &dir, &manifest, database_url.as_deref());
        }
        let server = Server::start(bin, &dir, database_url.as_deref(), "server.log");
        let mut backend = if pg.is_some() { "PostgreSQL" } else { "SQLite" }.to_owned();
        let mut base = server.base.clone();
        let mut replicas = Vec::new();
        let mut replica_bases: Vec<String> = Vec::new();
        if args.replicas > 1 {
            // The first has migrated the database once it answers; each further replica gets a
            // data directory of its own (one server per directory) and the same database.
            wait_answering(&server);
            for k in 2..=args.replicas {
                let own = dir.join(format!("replica-{k}"));
                std::fs::create_dir_all(&own).unwrap();
                let replica = Server::start(bin, &own, database_url.as_deref(), "server.log");
                wait_answering(&replica);
                replicas.push(replica);
            }
            replica_bases = std::iter::once(&server).chain(&replicas).map(|s| s.base.clone()).collect();
            let backends = replica_bases.iter().map(|b| b.replace("http://", "")).collect();
            base = crate::round_robin::start(backends);
            backend = format!("{backend}, {} replicas behind a round robin of connections", args.replicas);
            eprintln!("round robin {base} over {} replicas (memory: the first replica's)", args.replicas);
        }
        Target {
            base,
            manifest,
            backend,
            server: Some(server),
            replicas,
            replica_bases,
            _pg: pg,
            temp,
            keep: args.keep,
        }
    }

    /// Stops the server; keeps or removes the data directory (the database goes on drop).
    pub fn finish(mut self) {
        for mut replica in self.replicas.drain(..) {
            replica.stop();
        }
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

/// Waits until `server` answers `/readyz` (before the next replica starts, so that only one
/// runs the migrations).
fn wait_answering(server: &Server) {
    use std::io::{Read, Write};
    let addr = server.base.replace("http://", "");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let answer = std::net::TcpStream::connect(&addr).and_then(|mut s| {
            s.write_all(b"GET /readyz HTTP/1.0\r\nHost: localhost\r\n\r\n")?;
            let mut head = [0u8; 12];
            s.read_exact(&mut head)?;
            Ok(head)
        });
        if answer.is_ok_and(|head| head.ends_with(b" 200")) {
            return;
        }
        assert!(alive(server.child.id()), "a replica exited before it was ready: see {}", server.log.display());
        assert!(Instant::now() < deadline, "{addr}/readyz did not answer 200 within 120 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The server binary: `--server-bin`, or `outreach` next to this program (where cargo builds both).
/// Refused when missing; a warning when older than a source file of the server's next to it, as
/// after an edit that was not built (`cargo build -p outreach-load` builds the driver alone).
pub fn server_bin(args: &Args) -> Result<PathBuf, String> {
    let bin = match &args.server_bin {
        Some(bin) => bin.clone(),
        None => std::env::current_exe().map_err(|e| format!("where this program is: {e}"))?.with_file_name("outreach"),
    };
    let built = std::fs::metadata(&bin)
        .and_then(|m| m.modified())
        .map_err(|e| format!("the server binary {}: {e} (build it: cargo build [--release])", bin.display()))?;
    // This package sits in the server's: its sources are one folder up.
    let sources = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap_or(Path::new(".."));
    let newer = ["src", "migrations", "templates", "Cargo.toml"]
        .iter()
        .filter_map(|part| newest(&sources.join(part)))
        .max()
        .is_some_and(|edited| edited > built);
    if newer {
        eprintln!(
            "warning: {} is older than the server's sources in {}: build it first (cargo build [--release])",
            bin.display(),
            sources.display()
        );
    }
    Ok(bin)
}

/// When a file, or any file below a folder, was last changed.
fn newest(path: &Path) -> Option<SystemTime> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_dir() {
        return meta.modified().ok();
    }
    std::fs::read_dir(path).ok()?.filter_map(|e| e.ok()).filter_map(|e| newest(&e.path())).max()
}
