//! Progress and leaderboard latency of a big segment project on SQLite.
//!
//! Starts the real server in-process on an embedded database, builds a sub-branch with a manager
//! and N account managers, creates a project over HTTP (90 days of period behind today, 30 ahead,
//! targets for all nine metrics split per member, points for the five actions), seeds visits,
//! leads and the matching points ledger through the store layer, plus as many visits again that do
//! not belong to the project (another project's or none), then times
//! `GET /projects/{id}/progress` and `GET /projects/{id}/leaderboard` (day, week, month) over HTTP.
//! Prints count, p50, p95, p99, max and errors per endpoint, and the seeding time.
//!
//!     cargo bench --bench projects -- [--visits 50000] [--leads 20000] [--members 30]
//!                                     [--requests 200] [--concurrency 1] [--keep 1]
//!
//! `--keep 1` leaves the database directory in place (its path is printed) for `sqlite3` and
//! `EXPLAIN QUERY PLAN`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{arg, ms, percentile};
use std::collections::HashMap;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::RunQueryDsl;
use outreach::app::startup::Application;
use outreach::context::config::Settings;
use outreach::context::state::AppState;
use outreach::domain::common::calendar::Clock;
use outreach::domain::common::create::Created;
use outreach::domain::org::org_units::{self, NewOrgUnit, OrgUnit, OrgUnitKind};
use outreach::domain::org::users::User;
use outreach::domain::{Actor, Role};
use outreach::fixtures::rows::{self, place};
use outreach::store::events::leads::LeadRow;
use outreach::store::field::partners::PartnerRow;
use outreach::store::field::visits::VisitRow;
use outreach::store::{DbConn, StoreError};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use secrecy::SecretString;
use serde_json::{Value, json};
use uuid::Uuid;

const PASSWORD: &str = "bench password 123";
const ZONE: &str = "Asia/Shanghai";
/// Rows per write transaction while seeding.
const BATCH: usize = 10_000;

async fn unit(state: &AppState, name: &str, kind: OrgUnitKind, parent: Option<Uuid>) -> OrgUnit {
    let input = NewOrgUnit {
        id: None,
        name: name.to_owned(),
        kind,
        parent_id: parent,
        territory: None,
        location: None,
        address: String::new(),
        contact_phone: String::new(),
    };
    match state.db.run(move |c| org_units::create(c, &Actor::system(), input)).await.unwrap() {
        Created::New(u) | Created::Existing(u) => u,
    }
}

async fn user(state: &AppState, phone: &str, name: &str, role: Role, unit: Uuid) -> User {
    outreach::context::bootstrap::create_user(state, phone, name, SecretString::from(PASSWORD), role, Some(unit))
        .await
        .unwrap()
}

/// Everything the seeder needs to know about the org tree and the projects.
struct Plan {
    branch_id: Uuid,
    members: Vec<User>,
    project_id: String,
    other_project_id: String,
    /// The first instant of the project's period (UTC) and a minute ago.
    from: NaiveDateTime,
    until: NaiveDateTime,
    visits: usize,
    leads: usize,
}

struct Seeded {
    partners: usize,
    visits: usize,
    noise_visits: usize,
    leads: usize,
    conversions: usize,
    entries: usize,
}

fn at_random(rng: &mut StdRng, from: NaiveDateTime, until: NaiveDateTime) -> NaiveDateTime {
    let span = (until - from).num_seconds().max(1);
    from + chrono::Duration::seconds(rng.random_range(0..span))
}

/// The project's team owns the partners in turn; they stand in the middle of 蓬江 and 江海.
fn partners(plan: &Plan, rng: &mut StdRng, n: usize, seq: i64, now: NaiveDateTime) -> Vec<PartnerRow> {
    (0..n)
        .map(|i| {
            let owner = &plan.members[i % plan.members.len()];
            let at = place::within(rng, [113.00, 22.50, 113.15, 22.65]);
            rows::partner(rng, owner, plan.branch_id, at, i, seq + i as i64, now)
        })
        .collect()
}

/// One visit to a random partner inside the period, by its owner.
fn visit(plan: &Plan, rng: &mut StdRng, partners: &[PartnerRow], project: Option<&str>, seq: i64) -> VisitRow {
    let partner = &partners[rng.random_range(0..partners.len())];
    let at = at_random(rng, plan.from, plan.until);
    rows::visit(rng, partner, at, project, seq)
}

/// A lead of the project met at a partner inside the period; every fifth of an existing customer.
fn lead(plan: &Plan, rng: &mut StdRng, partners: &[PartnerRow], i: usize) -> LeadRow {
    let created = at_random(rng, plan.from, plan.until);
    let mut lead = rows::lead(rng, &partners[i % partners.len()], i, created, Some(&plan.project_id), plan.until);
    lead.segment = if i.is_multiple_of(5) { "existing" } else { "outreach" }.to_owned();
    lead
}

fn in_batches<T>(conn: &mut DbConn, rows: &[T], insert: fn(&mut DbConn, &[T]) -> Result<(), StoreError>) {
    for chunk in rows.chunks(BATCH) {
        conn.write_tx(|c| insert(c, chunk)).unwrap();
    }
}

/// Seeds through the store layer: partners, project visits, other visits, leads, the ledger.
fn seed(conn: &mut DbConn, plan: &Plan) -> Seeded {
    let mut rng = StdRng::seed_from_u64(42);
    let now = outreach::store::now_utc();
    // Change numbers: taken once, then counted up locally.
    let mut seq = conn.write_tx(outreach::store::sync::next_seq).unwrap();
    let partner_rows = partners(plan, &mut rng, 100, seq, now);
    seq += partner_rows.len() as i64;
    in_batches(conn, &partner_rows, outreach::store::field::partners::insert_many);

    let mut entries = Vec::new();
    let mut visits = Vec::with_capacity(plan.visits);
    for _ in 0..plan.visits {
        let v = visit(plan, &mut rng, &partner_rows, Some(&plan.project_id), seq);
        seq += 1;
        if v.verified {
            let source = ("visit", v.id.as_str());
            entries.push(rows::award(
                &mut rng,
                &plan.project_id,
                &v.user_id,
                "verified_visit",
                source,
                2,
                v.visited_at,
            ));
        }
        visits.push(v);
    }
    in_batches(conn, &visits, outreach::store::field::visits::insert_many);
    drop(visits);

    // As many visits again outside the project: half for another project, half for none.
    let mut noise = Vec::with_capacity(plan.visits);
    let mut noise_entries = Vec::new();
    for i in 0..plan.visits {
        let project = i.is_multiple_of(2).then_some(plan.other_project_id.as_str());
        let v = visit(plan, &mut rng, &partner_rows, project, seq);
        seq += 1;
        if v.verified && project.is_some() {
            let (other, source) = (&plan.other_project_id, ("visit", v.id.as_str()));
            noise_entries.push(rows::award(&mut rng, other, &v.user_id, "verified_visit", source, 2, v.visited_at));
        }
        noise.push(v);
    }
    in_batches(conn, &noise, outreach::store::field::visits::insert_many);
    let noise_visits = noise.len();
    drop(noise);

    let leads: Vec<LeadRow> = (0..plan.leads).map(|i| lead(plan, &mut rng, &partner_rows, i)).collect();
    let mut conversions = 0;
    for l in &leads {
        entries.push(rows::award(
            &mut rng,
            &plan.project_id,
            &l.owner_id,
            "new_lead",
            ("lead", &l.id),
            5,
            l.created_at,
        ));
        if let Some(at) = l.converted_at {
            conversions += 1;
            entries.push(rows::award(&mut rng, &plan.project_id, &l.owner_id, "conversion", ("lead", &l.id), 20, at));
        }
    }
    in_batches(conn, &leads, outreach::store::events::leads::insert_many);
    let entry_count = entries.len();
    in_batches(conn, &entries, outreach::store::projects::points::insert_many);
    in_batches(conn, &noise_entries, outreach::store::projects::points::insert_many);
    // Visits went in below the domain: bring the projects' day counters in line, as the server's
    // own writes keep them.
    for id in [&plan.project_id, &plan.other_project_id] {
        let id = Uuid::parse_str(id).unwrap();
        conn.write_tx(|c| {
            let project = outreach::domain::projects::projects::get(c, &Actor::system(), id).unwrap();
            outreach::domain::projects::progress::rebuild_visit_days(c, &project)
        })
        .unwrap();
    }
    // Leave the change counter past the numbers used, as real writes would.
    let last = seq - 1;
    let set = diesel::sql_query(format!("UPDATE sync_counter SET value = {last} WHERE id = 1"));
    match conn {
        DbConn::Sqlite(c) => set.execute(c).unwrap(),
        DbConn::Postgres(c) => set.execute(c).unwrap(),
    };
    Seeded {
        partners: partner_rows.len(),
        visits: plan.visits,
        noise_visits,
        leads: leads.len(),
        conversions,
        entries: entry_count + noise_entries.len(),
    }
}

struct Stats {
    name: String,
    latencies: Vec<Duration>,
    errors: u64,
}

impl Stats {
    fn line(&self) -> String {
        let l = &self.latencies;
        format!(
            "{:<34} n={:<4} p50 {:>7.1} ms  p95 {:>7.1} ms  p99 {:>7.1} ms  max {:>7.1} ms  errors {}",
            self.name,
            l.len(),
            ms(percentile(l, 50.0)),
            ms(percentile(l, 95.0)),
            ms(percentile(l, 99.0)),
            ms(l.last().copied().unwrap_or_default()),
            self.errors,
        )
    }

    fn row(&self) -> String {
        let l = &self.latencies;
        format!(
            "| {} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {} |",
            self.name,
            ms(percentile(l, 50.0)),
            ms(percentile(l, 95.0)),
            ms(percentile(l, 99.0)),
            ms(l.last().copied().unwrap_or_default()),
            self.errors,
        )
    }
}

/// `requests` GETs of `url` after `warmup` untimed ones, from `concurrency` clients.
async fn measure(
    client: &reqwest::Client,
    name: &str,
    url: &str,
    token: &str,
    requests: usize,
    warmup: usize,
    concurrency: usize,
) -> Stats {
    for _ in 0..warmup {
        let r = client.get(url).bearer_auth(token).send().await.unwrap();
        assert_eq!(r.status(), 200, "{name}: {}", r.text().await.unwrap_or_default());
        r.bytes().await.unwrap();
    }
    let workers: Vec<_> = (0..concurrency)
        .map(|w| {
            let (client, url, token) = (client.clone(), url.to_owned(), token.to_owned());
            let n = requests / concurrency + usize::from(w < requests % concurrency);
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(n);
                let mut errors = 0u64;
                for _ in 0..n {
                    let t = Instant::now();
                    match client.get(&url).bearer_auth(&token).send().await {
                        Ok(r) if r.status() == 200 => {
                            // The whole body counts: the time until the client has the answer.
                            if r.bytes().await.is_ok() {
                                latencies.push(t.elapsed());
                            } else {
                                errors += 1;
                            }
                        }
                        _ => errors += 1,
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut stats = Stats { name: name.to_owned(), latencies: Vec::with_capacity(requests), errors: 0 };
    for w in workers {
        let (l, e) = w.await.unwrap();
        stats.latencies.extend(l);
        stats.errors += e;
    }
    stats.latencies.sort();
    stats
}

fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

#[tokio::main]
async fn main() {
    let visits = arg("--visits", 50_000) as usize;
    let leads = arg("--leads", 20_000) as usize;
    let member_count = arg("--members", 30).max(1) as usize;
    let requests = arg("--requests", 200).max(1) as usize;
    let concurrency = arg("--concurrency", 1).max(1) as usize;
    let keep = arg("--keep", 0) != 0;

    let dir = tempfile::tempdir().unwrap();
    let env = HashMap::from([
        ("OUTREACH_DATA_DIR".to_owned(), dir.path().to_string_lossy().into_owned()),
        ("OUTREACH_ACCESS_TOKEN_TTL_SECS".to_owned(), "86400".to_owned()),
    ]);
    let settings = Settings::load(&env).unwrap();
    let app = Application::build_with_listener(settings, TcpListener::bind("127.0.0.1:0").unwrap()).await.unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped());

    // The org tree: a branch, a sub-branch with three outlets, its manager, the account managers.
    let branch = unit(&state, "江门分行", OrgUnitKind::Branch, None).await;
    let sub = unit(&state, "蓬江支行", OrgUnitKind::SubBranch, Some(branch.id)).await;
    let mut outlets = Vec::new();
    for name in ["建设路网点", "港口路网点", "白沙网点"] {
        outlets.push(unit(&state, name, OrgUnitKind::Outlet, Some(sub.id)).await);
    }
    user(&state, "13600000000", "支行行长", Role::SubBranchManager, sub.id).await;
    let mut members = Vec::new();
    for n in 0..member_count {
        let outlet = outlets[n % outlets.len()].id;
        members
            .push(user(&state, &format!("1370000{n:04}"), &format!("客户经理{n}"), Role::AccountManager, outlet).await);
    }

    let client = reqwest::Client::new();
    let login: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"phone": "13600000000", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["access_token"].as_str().expect("access token").to_owned();

    // The project: 90 days up to today (local), 30 days still to come.
    let clock = Clock::new(ZONE);
    let today = clock.today();
    let starts_on = today - chrono::Duration::days(89);
    let ends_on = today + chrono::Duration::days(30);
    let ids: Vec<String> = members.iter().map(|m| m.id.to_string()).collect();
    let split = |total: f64| -> serde_json::Map<String, Value> {
        let share = (total / member_count as f64).floor();
        ids.iter().map(|id| (id.clone(), json!(share))).collect()
    };
    let totals = [
        ("visits", visits as f64 * 1.3),
        ("verified_visits", visits as f64),
        ("events_held", 60.0),
        ("registrations", 3000.0),
        ("checkins", 2000.0),
        ("new_leads", leads as f64 * 1.3),
        ("conversions", leads as f64 * 0.15),
        ("new_customers", leads as f64 * 0.12),
        ("converted_amount", 50_000_000.0),
    ];
    let targets: Vec<Value> = totals
        .iter()
        .map(|(metric, total)| json!({"metric": metric, "total": total.round(), "split": split(total.round())}))
        .collect();
    let rules = json!([
        {"action": "verified_visit", "points": 2, "daily_cap": null},
        {"action": "event_step_completed", "points": 10, "daily_cap": null},
        {"action": "checkin", "points": 1, "daily_cap": null},
        {"action": "new_lead", "points": 5, "daily_cap": null},
        {"action": "conversion", "points": 20, "daily_cap": null},
    ]);
    let create = |name: &str, targets: Value| {
        json!({
            "name": name,
            "segment": "outreach",
            "portrait_tags": ["批发市场档主"],
            "product_package": ["商户收单", "经营贷"],
            "service_package": ["上门开户"],
            "starts_on": day(starts_on),
            "ends_on": day(ends_on),
            "org_unit_id": sub.id,
            "lead_id": ids[0],
            "member_ids": ids,
            "targets": targets,
            "points_rules": rules,
        })
    };
    let mut project_ids = Vec::new();
    for (name, targets) in [("水产批发市场摊主外拓", json!(targets)), ("社区老年客群", json!([]))] {
        let r = client
            .post(format!("{base}/api/v1/projects"))
            .bearer_auth(&token)
            .json(&create(name, targets))
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body: Value = r.json().await.unwrap();
        assert_eq!(status, 201, "create project: {body}");
        project_ids.push(body["id"].as_str().unwrap().to_owned());
    }
    let project = project_ids[0].clone();

    let plan = Plan {
        branch_id: branch.branch_id,
        members,
        project_id: project.clone(),
        other_project_id: project_ids[1].clone(),
        from: clock.start_of(starts_on),
        until: outreach::store::now_utc() - chrono::Duration::minutes(1),
        visits,
        leads,
    };
    let started = Instant::now();
    let db = state.db.clone();
    let seeded = tokio::task::spawn_blocking(move || {
        let mut conn = db.get().unwrap();
        seed(&mut conn, &plan)
    })
    .await
    .unwrap();
    let seeding = started.elapsed();
    println!(
        "seeded in {:.1} s: {} partners, {} project visits (+{} outside it), {} leads ({} converted), {} points entries",
        seeding.as_secs_f64(),
        seeded.partners,
        seeded.visits,
        seeded.noise_visits,
        seeded.leads,
        seeded.conversions,
        seeded.entries,
    );

    // What the endpoints answer, once, as a sanity check of the seed.
    let today_s = day(today);
    let progress_url = format!("{base}/api/v1/projects/{project}/progress?date={today_s}");
    let body: Value = client.get(&progress_url).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    let actual = |metric: &str| {
        body["metrics"].as_array().and_then(|m| m.iter().find(|x| x["metric"] == metric)).map(|x| x["actual"].clone())
    };
    println!(
        "progress on {today_s}: visits {:?}, verified {:?}, new leads {:?}, conversions {:?}, amount {:?}",
        actual("visits"),
        actual("verified_visits"),
        actual("new_leads"),
        actual("conversions"),
        actual("converted_amount"),
    );

    let mut results = Vec::new();
    results.push(measure(&client, "progress", &progress_url, &token, requests, 10, concurrency).await);
    for period in ["day", "week", "month"] {
        let url = format!("{base}/api/v1/projects/{project}/leaderboard?period={period}&date={today_s}");
        results.push(
            measure(&client, &format!("leaderboard period={period}"), &url, &token, requests, 10, concurrency).await,
        );
    }
    let info = [
        ("stars period=day (info)", format!("{base}/api/v1/projects/{project}/stars?period=day")),
        ("report.xlsx (info)", format!("{base}/api/v1/projects/{project}/report.xlsx?date={today_s}")),
    ];
    for (name, url) in info {
        results.push(measure(&client, name, &url, &token, 10, 1, 1).await);
    }

    println!(
        "\n{member_count} members, {visits} project visits + {visits} others, {leads} leads; concurrency {concurrency}"
    );
    for s in &results {
        println!("{}", s.line());
    }
    println!("\n| endpoint | p50 | p95 | p99 | max | errors |\n| --- | --- | --- | --- | --- | --- |");
    for s in &results {
        println!("{}", s.row());
    }
    if keep {
        let path = dir.keep();
        println!("\ndatabase kept in {}", path.display());
    }
}
