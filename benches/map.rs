//! Outreach map latency on SQLite at city scale: one branch in Jiangmen with 20 sub-branches,
//! 60 outlets and 500 account managers; 100k partners around a few town centres plus a uniform
//! background, all seven categories and statuses; 1M visits over the past year at the visiting
//! account manager's own partners (~85% verified); 2k events at partners; 200k leads at their
//! partners.
//!
//! Seeds through the store layer in this process, then starts the real server in a child process
//! (this same binary with `--serve DIR`) so that the first request after start, the index load and
//! the resident memory are those of a fresh server. Over HTTP it times, per scenario, count, p50,
//! p95, p99, max and errors:
//!
//! 1. a branch manager's city view (1280×800 px at zoom 12), all four layers, clustered;
//! 2. the same with a 30-day `from` window;
//! 3. a street view (1280×800 px at zoom 16) at the densest town centre, all layers;
//! 4. the same with `cluster=false`;
//! 5. an account manager's view at zoom 14 around their partners;
//! 6. coverage with 30 days and the zoom 12 heat grid;
//! 7. the first answer after the server starts (and the resident memory before and after the
//!    index is loaded, and the cost of one more index built in-process);
//! 8. catch-up: each map request right after a visit created over HTTP.
//!
//! The viewport centre moves a little per request (a seeded RNG), so no two answers are the same.
//!
//!     cargo bench --bench map -- [--partners 100000] [--visits 1000000] [--events 2000]
//!                                [--leads 200000] [--requests 300] [--concurrency 1] [--keep 1]
//!                                [--db DIR]
//!
//! The database directory is kept (its path is printed; ~1.3 GB at full scale) unless `--keep 0`;
//! `--db DIR` seeds into DIR, or — if DIR already holds a seeded database — skips seeding and
//! measures it again. `--serve DIR` is the child's mode; run it by hand (e.g. under
//! `perf record`) to measure a kept database without the parent. After the HTTP scenarios it also
//! times `MapIndex::current()` alone with and without a new write, and breaks a features request
//! down step by step in-process (scan, category, matching, clustering) for the z12, z16 and
//! account-manager views.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{arg, load_average, ms, num_cpus, percentile, text_arg};
use std::collections::HashMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{SecondsFormat, Utc};
use diesel::connection::SimpleConnection;
use outreach::app::startup::Application;
use outreach::context::config::Settings;
use outreach::domain::Actor;
use outreach::domain::map::coverage::{self, CoverageQuery};
use outreach::domain::map::features::{self, FeatureQuery};
use outreach::domain::map::index::{Layers, NONE, Pt};
use outreach::domain::map::scope::{Filters, Matcher};
use outreach::domain::map::{Layer, MapIndex};
use outreach::fixtures::rows::{self, place};
use outreach::fixtures::seed::{self, network, network::Network};
use outreach::geo::cluster::{Gather, Grid};
use outreach::geo::point_index::Entry;
use outreach::geo::{BBox, WorldBox};
use outreach::store::events::events::EventRow;
use outreach::store::events::leads::LeadRow;
use outreach::store::field::partners::PartnerRow;
use outreach::store::field::visits::VisitRow;
use outreach::store::{DbConn, StoreError};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use secrecy::SecretString;
use serde_json::{Value, json};

/// Rows per write transaction while seeding.
const BATCH: usize = 50_000;
const PLAN_FILE: &str = "map-bench.json";

// ---------------------------------------------------------------------------------------------
// Arguments, numbers, memory

/// Resident memory of this process from `/proc/self/status`, in MiB.
#[derive(Debug, Clone, Copy, Default)]
struct Mem {
    rss: f64,
    anon: f64,
    file: f64,
}

impl Mem {
    fn now() -> Mem {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
                .map_or(0.0, |kb| kb / 1024.0)
        };
        Mem { rss: field("VmRSS:"), anon: field("RssAnon:"), file: field("RssFile:") }
    }

    fn show(&self) -> String {
        format!("VmRSS {:.1} MiB (RssAnon {:.1}, RssFile {:.1})", self.rss, self.anon, self.file)
    }
}

// ---------------------------------------------------------------------------------------------
// Seeding (the parent)

struct Counts {
    partners: usize,
    visits: usize,
    verified: usize,
    events: usize,
    leads: usize,
}

fn sql(conn: &mut DbConn, text: &str) {
    match conn {
        DbConn::Sqlite(c) => c.batch_execute(text).unwrap(),
        DbConn::Postgres(c) => c.batch_execute(text).unwrap(),
    }
}

fn insert_batches<T>(conn: &mut DbConn, rows: &[T], insert: fn(&mut DbConn, &[T]) -> Result<(), StoreError>) {
    for chunk in rows.chunks(BATCH) {
        conn.write_tx(|c| insert(c, chunk)).unwrap();
    }
}

/// Seeds partners, visits, events and leads through the store layer. Returns the counts and, for
/// the child, the partners of one account manager in the densest town.
fn seed(conn: &mut DbConn, net: &Network, n: &Counts) -> (Counts, Value) {
    let mut rng = StdRng::seed_from_u64(42);
    let now = outreach::store::now_utc();
    // A big page cache for this one connection: index pages of a million rows stay in memory.
    sql(conn, "PRAGMA cache_size = -262144;");
    // Change numbers: one taken, then counted up locally; the counter is set past them below.
    let mut seq = conn.write_tx(outreach::store::sync::next_seq).unwrap();

    let t = Instant::now();
    let partners: Vec<PartnerRow> = (0..n.partners)
        .map(|i| {
            seq += 1;
            net.partner(&mut rng, i, seq, now)
        })
        .collect();
    insert_batches(conn, &partners, outreach::store::field::partners::insert_many);
    println!("  partners: {} in {:.1} s", partners.len(), t.elapsed().as_secs_f64());

    let t = Instant::now();
    let mut verified = 0;
    let mut done = 0;
    while done < n.visits {
        let size = BATCH.min(n.visits - done);
        let rows: Vec<VisitRow> = (0..size)
            .map(|_| {
                seq += 1;
                // A partner at random, visited by its own account manager.
                let (p, at, _) = rows::occasion(&mut rng, &partners, now, |_, _, _| None);
                rows::visit(&mut rng, p, at, None, seq)
            })
            .collect();
        verified += rows.iter().filter(|v| v.verified).count();
        conn.write_tx(|c| outreach::store::field::visits::insert_many(c, &rows)).unwrap();
        done += size;
    }
    println!("  visits: {done} in {:.1} s", t.elapsed().as_secs_f64());

    let t = Instant::now();
    let events: Vec<EventRow> = (0..n.events)
        .map(|_| {
            seq += 1;
            let p = &partners[rng.random_range(0..partners.len())];
            rows::event(&mut rng, p, 50, seq, now)
        })
        .collect();
    conn.write_tx(|c| {
        for e in &events {
            outreach::store::events::events::insert(c, e, &[])?;
        }
        Ok::<(), StoreError>(())
    })
    .unwrap();
    // The counter past every number used; leads take theirs from it.
    let set = format!("UPDATE sync_counter SET value = {seq} WHERE id = 1");
    conn.write_tx(|c| {
        sql(c, &set);
        Ok::<(), StoreError>(())
    })
    .unwrap();
    println!("  events: {} in {:.1} s", events.len(), t.elapsed().as_secs_f64());

    let t = Instant::now();
    let mut done = 0;
    while done < n.leads {
        let size = BATCH.min(n.leads - done);
        let rows: Vec<LeadRow> = (done..done + size)
            .map(|i| {
                let (p, created, _) = rows::occasion(&mut rng, &partners, now, |_, _, _| None);
                rows::lead(&mut rng, p, i, created, None, now)
            })
            .collect();
        conn.write_tx(|c| outreach::store::events::leads::insert_many(c, &rows)).unwrap();
        done += size;
    }
    println!("  leads: {done} in {:.1} s", t.elapsed().as_secs_f64());
    sql(conn, "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA cache_size = -2000;");

    // The account manager for scenario 5: the one with most partners in the densest town.
    let [town_lat, town_lon] = place::densest_town();
    let mut by_owner: HashMap<&str, Vec<&PartnerRow>> = HashMap::new();
    for p in &partners {
        if (p.lat - town_lat).abs() < 0.03 && (p.lon - town_lon).abs() < 0.03 {
            by_owner.entry(p.owner_id.as_str()).or_default().push(p);
        }
    }
    let (owner, own) = by_owner.into_iter().max_by_key(|(id, ps)| (ps.len(), *id)).unwrap();
    let owner_user = net.account_managers().find(|u| u.id.to_string() == owner).unwrap();
    let all_own: Vec<&PartnerRow> = partners.iter().filter(|p| p.owner_id == owner).collect();
    let centre = (
        own.iter().map(|p| p.lat).sum::<f64>() / own.len() as f64,
        own.iter().map(|p| p.lon).sum::<f64>() / own.len() as f64,
    );
    let am = json!({
        "phone": owner_user.phone,
        "partners_total": all_own.len(),
        "centre": [centre.0, centre.1],
        "partners": all_own.iter().take(50).map(|p| json!({"id": p.id, "lat": p.lat, "lon": p.lon})).collect::<Vec<_>>(),
    });
    let counts = Counts { partners: partners.len(), visits: n.visits, verified, events: events.len(), leads: n.leads };
    (counts, am)
}

async fn parent(partners: usize, visits: usize, events: usize, leads: usize) {
    let requests = arg("--requests", 300).max(1);
    let concurrency = arg("--concurrency", 1).max(1);
    let keep = arg("--keep", 1) != 0;
    let (dir, temp) = match text_arg("--db") {
        Some(d) => (PathBuf::from(d), None),
        None => {
            let t = tempfile::Builder::new().prefix("map-bench-").tempdir().unwrap();
            (t.path().to_owned(), Some(t))
        }
    };
    if dir.join(PLAN_FILE).exists() {
        println!("reusing the database in {} (not seeding)", dir.display());
    } else {
        std::fs::create_dir_all(&dir).unwrap();
        let settings = Settings::load(&env_of(&dir)).unwrap();
        let state = outreach::app::startup::open_state(settings).await.unwrap();
        let started = Instant::now();
        // The org tree of `bench seed` (20 sub-branches, 60 outlets), with 500 account managers.
        let hash = state.auth.hasher.hash(SecretString::from(seed::PASSWORD)).await.unwrap();
        let db = state.db.clone();
        let wanted = Counts { partners: partners.max(1), visits, verified: 0, events, leads };
        let (counts, am, started) = tokio::task::spawn_blocking(move || {
            let mut conn = db.get().unwrap();
            let net = network::build(&mut conn, 1, 20, 500, &hash).unwrap();
            println!(
                "org: 1 branch, {} sub-branches, {} outlets, {} account managers in {:.1} s",
                net.sub_branches.len(),
                net.outlets.len(),
                net.account_managers().count(),
                started.elapsed().as_secs_f64()
            );
            let started = Instant::now();
            let (counts, am) = seed(&mut conn, &net, &wanted);
            (counts, am, started)
        })
        .await
        .unwrap();
        let seeding = started.elapsed();
        println!(
            "seeded in {:.1} s: {} partners, {} visits ({} verified), {} events, {} leads",
            seeding.as_secs_f64(),
            counts.partners,
            counts.visits,
            counts.verified,
            counts.events,
            counts.leads,
        );
        let db_file = dir.join("outreach.db");
        let size = std::fs::metadata(&db_file).map(|m| m.len()).unwrap_or(0);
        println!("database file {:.0} MiB", size as f64 / 1_048_576.0);
        let plan = json!({
            "am": am,
            "counts": {"partners": counts.partners, "visits": counts.visits, "verified": counts.verified,
                       "events": counts.events, "leads": counts.leads},
            "seeding_s": seeding.as_secs_f64(),
        });
        std::fs::write(dir.join(PLAN_FILE), serde_json::to_vec_pretty(&plan).unwrap()).unwrap();
        drop(state);
    }

    // A fresh server process on the seeded database: this same binary in `--serve` mode.
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .arg("--serve")
        .arg(&dir)
        .args(["--requests", &requests.to_string(), "--concurrency", &concurrency.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "the measuring child failed: {status}");
    match temp {
        Some(t) if keep => println!("\ndatabase kept in {}", t.keep().display()),
        Some(_) => {}
        None => println!("\ndatabase in {}", dir.display()),
    }
}

fn env_of(dir: &Path) -> HashMap<String, String> {
    HashMap::from([
        ("OUTREACH_DATA_DIR".to_owned(), dir.to_string_lossy().into_owned()),
        ("OUTREACH_ACCESS_TOKEN_TTL_SECS".to_owned(), "86400".to_owned()),
    ])
}

// ---------------------------------------------------------------------------------------------
// Measuring (the child)

struct Stats {
    name: String,
    latencies: Vec<Duration>,
    errors: u64,
    bytes: u64,
    /// What the first answer held, for the record.
    sample: String,
}

impl Stats {
    fn line(&self) -> String {
        let l = &self.latencies;
        format!(
            "{:<40} n={:<4} p50 {:>7.1} ms  p95 {:>7.1} ms  p99 {:>7.1} ms  max {:>7.1} ms  errors {}  ~{:.0} KiB",
            self.name,
            l.len(),
            ms(percentile(l, 50.0)),
            ms(percentile(l, 95.0)),
            ms(percentile(l, 99.0)),
            ms(l.last().copied().unwrap_or_default()),
            self.errors,
            self.bytes as f64 / l.len().max(1) as f64 / 1024.0,
        )
    }

    fn row(&self) -> String {
        let l = &self.latencies;
        format!(
            "| {} | {} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {} |",
            self.name,
            l.len(),
            ms(percentile(l, 50.0)),
            ms(percentile(l, 95.0)),
            ms(percentile(l, 99.0)),
            ms(l.last().copied().unwrap_or_default()),
            self.errors,
        )
    }

    fn p95(&self) -> f64 {
        ms(percentile(&self.latencies, 95.0))
    }
}

/// A short account of an answer: features (clusters among them) and totals, or coverage figures.
fn summary(body: &Value) -> String {
    if let Some(features) = body["features"].as_array() {
        let clusters = features.iter().filter(|f| f["properties"]["cluster"] == true).count();
        format!(
            "{} features ({} clusters), totals {}, truncated {}",
            features.len(),
            clusters,
            body["totals"],
            body["truncated"]
        )
    } else {
        format!(
            "overdue_total {}, territories {}, heat cells {}, totals {}",
            body["overdue_total"],
            body["territories"].as_array().map_or(0, Vec::len),
            body["heat"]["cells"].as_array().map_or(0, Vec::len),
            body["totals"]
        )
    }
}

async fn get(client: &reqwest::Client, url: &str, token: &str) -> Result<Vec<u8>, String> {
    let r = client.get(url).bearer_auth(token).send().await.map_err(|e| e.to_string())?;
    let status = r.status();
    let body = r.bytes().await.map_err(|e| e.to_string())?;
    if status == 200 { Ok(body.to_vec()) } else { Err(format!("{status}: {}", String::from_utf8_lossy(&body))) }
}

/// GETs every url in turn (spread over `concurrency` clients) after `warmup` untimed ones.
async fn measure(
    client: &reqwest::Client,
    name: &str,
    urls: Vec<String>,
    token: &str,
    warmup: usize,
    concurrency: usize,
) -> Stats {
    eprintln!("  … {name}");
    let mut sample = String::new();
    for (i, url) in urls.iter().take(warmup).enumerate() {
        let body = get(client, url, token).await.unwrap_or_else(|e| panic!("{name}: {e}"));
        if i == 0 {
            sample = summary(&serde_json::from_slice(&body).unwrap());
        }
    }
    let urls: Vec<String> = urls.into_iter().skip(warmup).collect();
    let workers: Vec<_> = (0..concurrency)
        .map(|w| {
            let (client, token) = (client.clone(), token.to_owned());
            let mine: Vec<String> = urls.iter().skip(w).step_by(concurrency).cloned().collect();
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(mine.len());
                let (mut errors, mut bytes) = (0u64, 0u64);
                for url in mine {
                    let t = Instant::now();
                    // The whole body counts: the time until the client has the answer.
                    match get(&client, &url, &token).await {
                        Ok(body) => {
                            latencies.push(t.elapsed());
                            bytes += body.len() as u64;
                        }
                        Err(_) => errors += 1,
                    }
                }
                (latencies, errors, bytes)
            })
        })
        .collect();
    let mut stats = Stats { name: name.to_owned(), latencies: Vec::new(), errors: 0, bytes: 0, sample };
    for w in workers {
        let (l, e, b) = w.await.unwrap();
        stats.latencies.extend(l);
        stats.errors += e;
        stats.bytes += b;
    }
    stats.latencies.sort();
    stats
}

async fn login(client: &reqwest::Client, base: &str, phone: &str) -> String {
    let r: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"phone": phone, "password": seed::PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["access_token"].as_str().unwrap_or_else(|| panic!("login {phone}: {r}")).to_owned()
}

/// Creates a visit over HTTP by the account manager at one of their partners, a moment ago.
async fn post_visit(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    partners: &[Value],
    rng: &mut StdRng,
) -> Result<(), String> {
    let p = &partners[rng.random_range(0..partners.len())];
    let (lat, lon) = place::near(rng, p["lat"].as_f64().unwrap(), p["lon"].as_f64().unwrap(), 30.0);
    let visited = (Utc::now() - chrono::Duration::seconds(30)).to_rfc3339_opts(SecondsFormat::Millis, true);
    let body = json!({
        "partner_id": p["id"],
        "location": {"lat": lat, "lon": lon, "accuracy_m": 10.0},
        "visited_at": visited,
        "purpose": "follow_up",
        "notes": "回访",
        "outcome": "positive",
        "mock_location": false,
        "location_age_s": 3.0,
    });
    let r = client.post(format!("{base}/api/v1/visits")).bearer_auth(token).json(&body).send().await;
    let r = r.map_err(|e| e.to_string())?;
    let status = r.status();
    let text = r.text().await.unwrap_or_default();
    if status == 201 { Ok(()) } else { Err(format!("{status}: {text}")) }
}

const ALL_LAYERS: &str = "layers=partners,visits,events,leads";

/// `n` feature urls around `(lat, lon)` at `zoom`, each centre moved a little.
fn feature_urls(base: &str, seed: u64, n: usize, (lat, lon): (f64, f64), zoom: u8, extra: &str) -> Vec<String> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let (la, lo) = place::jitter(&mut rng, lat, lon, zoom);
            format!("{base}/api/v1/map/features?bbox={}&zoom={zoom}&{ALL_LAYERS}{extra}", place::viewport(la, lo, zoom))
        })
        .collect()
}

async fn child(dir: PathBuf) {
    let requests = arg("--requests", 300).max(1) as usize;
    let concurrency = arg("--concurrency", 1).max(1) as usize;
    let plan: Value = serde_json::from_slice(&std::fs::read(dir.join(PLAN_FILE)).unwrap()).unwrap();
    let counts = &plan["counts"];
    println!(
        "\n{} partners, {} visits ({} verified), {} events, {} leads; seeded in {:.1} s; {} requests per scenario, concurrency {}",
        counts["partners"],
        counts["visits"],
        counts["verified"],
        counts["events"],
        counts["leads"],
        plan["seeding_s"].as_f64().unwrap_or_default(),
        requests,
        concurrency
    );
    println!("machine: {} CPUs, load average at start {}", num_cpus(), load_average());
    let client = reqwest::Client::new();

    // 7. From start to the first answer; the index loads in the background from the start.
    let before = Mem::now();
    let t0 = Instant::now();
    let settings = Settings::load(&env_of(&dir)).unwrap();
    let app = Application::build_with_listener(settings, TcpListener::bind("127.0.0.1:0").unwrap()).await.unwrap();
    let built = t0.elapsed();
    let base = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped());
    let token = login(&client, &base, network::BRANCH_MANAGER).await;
    let logged_in = t0.elapsed();
    let city: (f64, f64) = place::city_centre().into();
    let first_url = feature_urls(&base, 0, 1, city, 12, "").remove(0);
    let t1 = Instant::now();
    let first = get(&client, &first_url, &token).await.unwrap();
    let first_latency = t1.elapsed();
    let first_answer = t0.elapsed();
    let after = Mem::now();
    let t2 = Instant::now();
    get(&client, &first_url, &token).await.unwrap();
    let second_latency = t2.elapsed();
    println!("\nstart-up (the server process, index loading in the background from build):");
    println!("  Application::build_with_listener returned  {:>8.1} ms", ms(built));
    println!("  branch manager logged in                    {:>8.1} ms", ms(logged_in));
    println!(
        "  first map answer (z12, all layers)          {:>8.1} ms from start; that request took {:.1} ms",
        ms(first_answer),
        ms(first_latency)
    );
    println!("  the same request again                      {:>8.1} ms", ms(second_latency));
    println!("  first answer: {}", summary(&serde_json::from_slice(&first).unwrap()));
    println!("  memory before build:        {}", before.show());
    println!("  memory after first answer:  {}", after.show());
    println!(
        "  growth: VmRSS +{:.1} MiB, RssAnon +{:.1} MiB, RssFile +{:.1} MiB",
        after.rss - before.rss,
        after.anon - before.anon,
        after.file - before.file
    );

    let am = &plan["am"];
    let am_token = login(&client, &base, am["phone"].as_str().unwrap()).await;
    let am_centre = (am["centre"][0].as_f64().unwrap(), am["centre"][1].as_f64().unwrap());
    let dense: (f64, f64) = place::densest_town().into();
    let from = (Utc::now() - chrono::Duration::days(30)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let warmup = 5;
    let n = requests + warmup;

    let mut results = Vec::new();
    let scenarios: Vec<(&str, Vec<String>, &str)> = vec![
        ("1 z12 city, all layers", feature_urls(&base, 1, n, city, 12, ""), &token),
        ("2 z12 city, all layers, from 30 d", feature_urls(&base, 2, n, city, 12, &format!("&from={from}")), &token),
        ("3 z16 street, all layers", feature_urls(&base, 3, n, dense, 16, ""), &token),
        ("4 z16 street, cluster=false", feature_urls(&base, 4, n, dense, 16, "&cluster=false"), &token),
        ("5 z14 account manager", feature_urls(&base, 5, n, am_centre, 14, ""), &am_token),
    ];
    for (name, urls, tok) in scenarios {
        results.push(measure(&client, name, urls, tok, warmup, concurrency).await);
    }
    let mut rng = StdRng::seed_from_u64(6);
    let coverage: Vec<String> = (0..n)
        .map(|_| {
            let (la, lo) = place::jitter(&mut rng, city.0, city.1, 12);
            format!("{base}/api/v1/map/coverage?days=30&bbox={}&zoom=12", place::viewport(la, lo, 12))
        })
        .collect();
    results.push(measure(&client, "6 coverage 30 d + heat z12", coverage, &token, warmup, concurrency).await);

    // 8. Catch-up: a visit created over HTTP, then the map request that follows it.
    let partners = am["partners"].as_array().unwrap().clone();
    let mut catch_up: Vec<Stats> =
        ["8 z16 street after a write", "8 z12 city after a write", "  (the writes: POST /visits)"]
            .iter()
            .map(|name| Stats {
                name: (*name).to_owned(),
                latencies: Vec::new(),
                errors: 0,
                bytes: 0,
                sample: String::new(),
            })
            .collect();
    eprintln!("  … 8 catch-up");
    let mut rng = StdRng::seed_from_u64(8);
    let street = feature_urls(&base, 81, requests, dense, 16, "");
    let whole = feature_urls(&base, 82, requests, city, 12, "");
    for i in 0..requests * 2 {
        let t = Instant::now();
        match post_visit(&client, &base, &am_token, &partners, &mut rng).await {
            Ok(()) => catch_up[2].latencies.push(t.elapsed()),
            Err(e) => {
                catch_up[2].errors += 1;
                if catch_up[2].errors == 1 {
                    println!("POST /visits: {e}");
                }
            }
        }
        let (which, url) = if i % 2 == 0 { (0, &street[i / 2]) } else { (1, &whole[i / 2]) };
        let t = Instant::now();
        match get(&client, url, &token).await {
            Ok(body) => {
                catch_up[which].latencies.push(t.elapsed());
                catch_up[which].bytes += body.len() as u64;
            }
            Err(_) => catch_up[which].errors += 1,
        }
    }
    for s in &mut catch_up {
        s.latencies.sort();
    }
    results.extend(catch_up);

    println!("\nlatency over HTTP (client-side, whole body; {warmup} untimed requests first):");
    for s in &results {
        println!("{}", s.line());
    }
    println!();
    for s in &results {
        if !s.sample.is_empty() {
            println!("  {}: {}", s.name, s.sample);
        }
    }
    println!("\n| scenario | n | p50 | p95 | p99 | max | errors |\n| --- | --- | --- | --- | --- | --- | --- |");
    for s in &results {
        println!("{}", s.row());
    }
    let z12 = results[0].p95().max(results[1].p95());
    let z16 = results[2].p95().max(results[3].p95());
    println!("\nload average after the HTTP scenarios: {}", load_average());
    println!(
        "\ntargets: z12 p95 {z12:.1} ms (≤ 50 ms: {}), z16 p95 {z16:.1} ms (≤ 20 ms: {})",
        if z12 <= 50.0 { "met" } else { "MISSED" },
        if z16 <= 20.0 { "met" } else { "MISSED" },
    );

    // The index alone: one more built in this process, everything else steady.
    eprintln!("  … index built in-process");
    let db = state.db.clone();
    let before = Mem::now();
    let (elapsed, index, sizes) = tokio::task::spawn_blocking(move || {
        let mut conn = db.get().unwrap();
        let index = Arc::new(MapIndex::default());
        let t = Instant::now();
        let sizes = {
            let guard = index.current(&mut conn).unwrap();
            let l = guard.as_ref().unwrap();
            [l.partners.len(), l.visits.len(), l.events.len(), l.leads.len()]
        };
        (t.elapsed(), index, sizes)
    })
    .await
    .unwrap();
    let built = Mem::now();
    let points: usize = sizes.iter().sum();
    let entry = std::mem::size_of::<Entry<Pt>>();
    println!(
        "\nindex built in-process: {:.0} ms for {} points (partners {}, visits {}, events {}, leads {})",
        ms(elapsed),
        points,
        sizes[0],
        sizes[1],
        sizes[2],
        sizes[3]
    );

    // Catch-up alone: a visit over HTTP, then this index brought up to date.
    let mut rng = StdRng::seed_from_u64(9);
    let (mut idle, mut after_write) = (Vec::new(), Vec::new());
    for i in 0..40 {
        if i % 2 == 1 {
            post_visit(&client, &base, &am_token, &partners, &mut rng).await.unwrap();
        }
        let (db, index) = (state.db.clone(), index.clone());
        let took = tokio::task::spawn_blocking(move || {
            let mut conn = db.get().unwrap();
            let t = Instant::now();
            drop(index.current(&mut conn).unwrap());
            t.elapsed()
        })
        .await
        .unwrap();
        if i % 2 == 1 { after_write.push(took) } else { idle.push(took) }
    }
    idle.sort();
    after_write.sort();
    println!(
        "  MapIndex::current(): nothing new p50 {:.2} ms, max {:.2} ms; one visit new p50 {:.2} ms, max {:.2} ms",
        ms(percentile(&idle, 50.0)),
        ms(idle.last().copied().unwrap_or_default()),
        ms(percentile(&after_write, 50.0)),
        ms(after_write.last().copied().unwrap_or_default()),
    );

    eprintln!("  … breakdown");
    let (db, probe_index) = (state.db.clone(), index.clone());
    let am_phone = am["phone"].as_str().unwrap().to_owned();
    let lines = tokio::task::spawn_blocking(move || {
        let mut conn = db.get().unwrap();
        breakdown(&mut conn, &probe_index, &am_phone, [city, dense, am_centre])
    })
    .await
    .unwrap();
    for line in lines {
        println!("{line}");
    }

    drop(index);
    let dropped = Mem::now();
    println!(
        "\n  memory of the in-process index: RssAnon +{:.1} MiB while it lives (VmRSS +{:.1} MiB), {:.1} MiB given back when dropped; points alone {} × {} B = {:.1} MiB",
        built.anon - before.anon,
        built.rss - before.rss,
        built.anon - dropped.anon,
        points,
        entry,
        (points * entry) as f64 / 1_048_576.0
    );
}

// ---------------------------------------------------------------------------------------------
// Where the time goes: the parts of a features request, timed in-process on the index

#[derive(Clone, Copy, PartialEq)]
enum Step {
    Scan,
    SlotCategory,
    Category,
    Match,
    VisibleFirst,
    Sparse,
    Dense,
}

const STEPS: [(Step, &str); 7] = [
    (Step::Scan, "scan only: every entry of the box's buckets"),
    (Step::SlotCategory, "+ category from partner_slots (before 600adf3)"),
    (Step::Category, "+ category_of (partner_categories)"),
    (Step::Match, "+ matches, category_of first (as features)"),
    (Step::VisibleFirst, "+ matches, visible() before category_of"),
    (Step::Sparse, "+ Gather::new, hash map (before 600adf3)"),
    (Step::Dense, "+ Gather::over, dense table (as features)"),
];

struct Probe<'a> {
    layers: &'a Layers,
    matcher: Matcher,
}

impl Probe<'_> {
    /// One pass over the box doing `step`; returns something of the result so nothing is skipped.
    fn run(&self, step: Step, world: &WorldBox, zoom: u8) -> u64 {
        let (layers, matcher) = (self.layers, &self.matcher);
        let slot_category =
            |p: &Pt| if p.partner == NONE { 6 } else { layers.partner_slots[p.partner as usize].category };
        let mut n = 0u64;
        for &layer in Layer::ALL {
            let index = layers.layer(layer);
            match step {
                Step::Scan => index.within(world, |e| n += u64::from(e.item.status)),
                Step::SlotCategory => index.within(world, |e| n += u64::from(slot_category(&e.item))),
                Step::Category => index.within(world, |e| n += u64::from(layers.category_of(&e.item))),
                Step::Match => index.within(world, |e| {
                    n += u64::from(matcher.matches(layer, &e.item, layers.category_of(&e.item)));
                }),
                Step::VisibleFirst => index.within(world, |e| {
                    n += u64::from(
                        matcher.visible(layer, &e.item) && matcher.matches(layer, &e.item, layers.category_of(&e.item)),
                    );
                }),
                Step::Sparse | Step::Dense => {
                    let grid = Grid::new(zoom, 6);
                    let mut gather: Gather<7, Pt> =
                        if step == Step::Dense { Gather::over(grid, world) } else { Gather::new(grid) };
                    index.within(world, |e| {
                        let c = layers.category_of(&e.item);
                        if matcher.matches(layer, &e.item, c) {
                            gather.add(e.at, c as usize, e.item);
                        }
                    });
                    n += gather.into_clusters().len() as u64;
                }
            }
        }
        n
    }
}

fn actor_of(conn: &mut DbConn, phone: &str) -> Actor {
    let row = outreach::store::org::users::find_by_phone(conn, phone).unwrap().unwrap();
    Actor {
        user_id: row.id.parse().unwrap(),
        role: row.role.parse().unwrap(),
        org_unit_id: row.org_unit_id.map(|u| u.parse().unwrap()),
        org_path: row.org_path,
    }
}

/// Median milliseconds of `f` over `views`.
fn median_ms(views: &[(BBox, WorldBox)], mut f: impl FnMut(&BBox, &WorldBox) -> u64) -> f64 {
    let mut times: Vec<Duration> = views
        .iter()
        .map(|(b, w)| {
            let t = Instant::now();
            std::hint::black_box(f(b, w));
            t.elapsed()
        })
        .collect();
    times.sort();
    ms(percentile(&times, 50.0))
}

/// The parts of the z12 city view, the z16 street view (branch manager) and the z14 account
/// manager's view, each step adding to the one before; and the domain calls themselves.
fn breakdown(conn: &mut DbConn, index: &MapIndex, am_phone: &str, centres: [(f64, f64); 3]) -> Vec<String> {
    let bm = actor_of(conn, network::BRANCH_MANAGER);
    let am = actor_of(conn, am_phone);
    let cases =
        [(&bm, centres[0], 12u8, "z12 city"), (&bm, centres[1], 16, "z16 street"), (&am, centres[2], 14, "z14 AM")];
    let mut rng = StdRng::seed_from_u64(10);
    let views: Vec<Vec<(BBox, WorldBox)>> = cases
        .iter()
        .map(|(_, (lat, lon), zoom, _)| {
            (0..21)
                .map(|_| {
                    let (la, lo) = place::jitter(&mut rng, *lat, *lon, *zoom);
                    let b = BBox::parse(&place::viewport(la, lo, *zoom)).unwrap();
                    (b, WorldBox::of(&b))
                })
                .collect()
        })
        .collect();
    let mut lines = vec![format!(
        "\nwhere the time goes (in-process, median ms over 21 viewports; each step adds to the one before):\n{:<46} {:>10} {:>10} {:>10}",
        "", cases[0].3, cases[1].3, cases[2].3
    )];
    let mut row = |name: &str, values: Vec<f64>| {
        lines.push(format!("{name:<46} {:>10.2} {:>10.2} {:>10.2}", values[0], values[1], values[2]));
    };
    let domain: Vec<f64> = cases
        .iter()
        .zip(&views)
        .map(|((actor, _, zoom, _), views)| {
            median_ms(views, |b, _| {
                let q = FeatureQuery {
                    bbox: *b,
                    zoom: *zoom,
                    layers: Layer::ALL.to_vec(),
                    cluster: true,
                    limit: 2_000,
                    org_unit_id: None,
                    filters: Filters::default(),
                };
                features::features(conn, index, actor, &q).unwrap().features.len() as u64
            })
        })
        .collect();
    row("features::features() (the domain call)", domain);
    let guard = index.current(conn).unwrap();
    let layers = guard.as_ref().unwrap();
    let probes: Vec<Probe> = cases
        .iter()
        .map(|(actor, ..)| Probe { layers, matcher: Matcher::new(layers, actor, None, &Filters::default()) })
        .collect();
    for (step, name) in STEPS {
        let values = probes
            .iter()
            .zip(&views)
            .zip(&cases)
            .map(|((probe, views), (_, _, zoom, _))| median_ms(views, |_, w| probe.run(step, w, *zoom)))
            .collect();
        row(name, values);
    }
    drop(guard);
    let heat = views[0].clone();
    let now = Utc::now();
    let coverage_ms = median_ms(&heat, |b, _| {
        let q = CoverageQuery { days: Some(30), org_unit_id: None, heat: Some((*b, 12)), limit: 200, now };
        coverage::coverage(conn, index, &bm, &q).unwrap().overdue_total
    });
    lines.push(format!("{:<46} {coverage_ms:>10.2}", "coverage::coverage() 30 d + heat z12"));
    lines
}

#[tokio::main]
async fn main() {
    if let Some(dir) = text_arg("--serve") {
        child(PathBuf::from(dir)).await;
        return;
    }
    let partners = arg("--partners", 100_000) as usize;
    let visits = arg("--visits", 1_000_000) as usize;
    let events = arg("--events", 2_000) as usize;
    let leads = arg("--leads", 200_000) as usize;
    parent(partners, visits, events, leads).await;
}
