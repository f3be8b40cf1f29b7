//! The sizes of a seeded network and the order it is written in.

use std::collections::{BTreeMap, HashMap};

use chrono::{Duration, NaiveDateTime};
use diesel::connection::SimpleConnection;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

use super::geography::{city_centre, densest_town};
use super::manifest::{self, Manifest};
use super::network::{self, BRANCH_MANAGER, Network};
use super::progress::Progress;
use super::rows;
use crate::domain::calendar::Clock;
use crate::domain::calendar::DEFAULT_TIME_ZONE;
use crate::domain::lead_kind::Segment;
use crate::domain::org_units::Created;
use crate::domain::project_kind::{Metric, PointsAction};
use crate::domain::projects::{self, NewProject, RuleInput, TargetInput};
use crate::domain::{Actor, DomainError};
use crate::store::events::EventRow;
use crate::store::partners::PartnerRow;
use crate::store::points::EntryRow;
use crate::store::{DbConn, StoreError};

/// Rows per write transaction.
const BATCH: usize = 20_000;
/// Share of a project member's visits (and leads) in the project's period that are linked to it.
const VISITS_LINKED: f64 = 0.7;
const LEADS_LINKED: f64 = 0.6;
const EVENT_CAPACITY: i32 = 60;
/// The event left open for the registration burst: more seats than most, not enough for all.
const BURST_CAPACITY: i32 = 800;
const MANIFEST_PARTNERS: usize = 20;

#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub scale: f64,
    pub seed: u64,
}

impl Options {
    pub fn check(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.scale.is_finite() && self.scale > 0.0 && self.scale <= 10.0,
            "--scale must be above 0 and at most 10"
        );
        Ok(())
    }
}

/// How many of each the network holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    pub sub_branches: usize,
    pub account_managers: usize,
    pub partners: usize,
    pub visits: usize,
    pub events: usize,
    pub registrations: usize,
    pub leads: usize,
    pub projects: usize,
}

impl Sizes {
    pub fn at(scale: f64) -> Sizes {
        let of = |full: f64, least: usize| ((full * scale).round() as usize).max(least);
        Sizes {
            sub_branches: of(20.0, 2),
            account_managers: of(500.0, 10),
            partners: of(100_000.0, 20),
            visits: of(1_000_000.0, 100),
            events: of(2_000.0, 2),
            registrations: of(100_000.0, 20),
            leads: of(200_000.0, 40),
            projects: 10,
        }
    }
}

/// A project as the seeder links records to it.
struct Linked {
    id: String,
    name: String,
    manager_phone: String,
    /// The first instant of its period, UTC.
    from: NaiveDateTime,
}

pub fn seed(conn: &mut DbConn, options: &Options, hash: &str) -> anyhow::Result<Manifest> {
    let sizes = Sizes::at(options.scale);
    let rows_total = sizes.partners + sizes.visits + sizes.events + sizes.registrations + sizes.leads;
    let mut progress = Progress::new(rows_total as u64);
    let mut rng = StdRng::seed_from_u64(options.seed);
    let now = crate::store::now_utc();

    progress.start("org");
    let net = network::build(conn, options.seed, sizes.sub_branches, sizes.account_managers, hash)?;
    progress.say(&format!(
        "org: 1 branch, {} sub-branches, {} outlets, {} account managers",
        net.sub_branches.len(),
        net.outlets.len(),
        sizes.account_managers
    ));
    let projects = create_projects(conn, &mut rng, &net, &sizes)?;
    let mut member_of: HashMap<String, Vec<usize>> = HashMap::new();
    for (p, (_, members)) in projects.iter().enumerate() {
        for m in members {
            member_of.entry(m.clone()).or_default().push(p);
        }
    }
    // The project a record of `owner` made at `at` is linked to, if any.
    let link = |rng: &mut StdRng, owner: &str, at: NaiveDateTime, share: f64| -> Option<usize> {
        let candidates = member_of.get(owner)?;
        let p = candidates[rng.random_range(0..candidates.len())];
        (at >= projects[p].0.from && at <= now && rng.random_bool(share)).then_some(p)
    };

    // A speedy write path for the bulk: a big page cache on this one connection, so index pages
    // of a million rows stay in memory while they are written.
    if let DbConn::Sqlite(c) = conn {
        c.batch_execute("PRAGMA cache_size = -262144;")?;
    }
    // Change numbers: one taken, then counted up locally; the counter is set past them below.
    let mut seq = conn.write_tx(crate::store::sync::next_seq)?;
    let mut counts = manifest::Counts {
        sub_branches: net.sub_branches.len(),
        outlets: net.outlets.len(),
        account_managers: sizes.account_managers,
        projects: projects.len(),
        ..manifest::Counts::default()
    };

    progress.start("partners");
    let partners: Vec<PartnerRow> = (0..sizes.partners)
        .map(|i| {
            seq += 1;
            rows::partner(&net, &mut rng, i, seq, now)
        })
        .collect();
    for chunk in partners.chunks(BATCH) {
        conn.write_tx(|c| crate::store::partners::insert_many(c, chunk))?;
        progress.add(chunk.len());
    }
    counts.partners = partners.len();
    progress.done("partners", partners.len());

    progress.start("visits");
    let mut ledger: Vec<EntryRow> = Vec::new();
    let mut visits_of: HashMap<String, usize> = HashMap::new();
    let mut written = 0;
    while written < sizes.visits {
        let size = BATCH.min(sizes.visits - written);
        let batch: Vec<_> = (0..size)
            .map(|_| {
                seq += 1;
                // A partner at random, visited by its own account manager.
                let p = &partners[rng.random_range(0..partners.len())];
                let at = rows::ago(&mut rng, now, 365);
                let project = link(&mut rng, &p.owner_id, at, VISITS_LINKED).map(|i| projects[i].0.id.as_str());
                rows::visit(&mut rng, p, at, project, seq)
            })
            .collect();
        for v in &batch {
            *visits_of.entry(v.user_id.clone()).or_default() += 1;
            if let (Some(project), true) = (&v.project_id, v.verified) {
                let action = PointsAction::VerifiedVisit.as_str();
                ledger.push(rows::award(&mut rng, project, &v.user_id, action, ("visit", &v.id), 2, v.visited_at));
            }
        }
        conn.write_tx(|c| crate::store::visits::insert_many(c, &batch))?;
        written += size;
        progress.add(size);
    }
    counts.visits = written;
    progress.done("visits", written);

    progress.start("events");
    let per_event = sizes.registrations / sizes.events;
    let mut extra = sizes.registrations % sizes.events;
    let mut events: Vec<EventRow> = Vec::with_capacity(sizes.events);
    let mut registrations = Vec::with_capacity(sizes.registrations);
    for i in 0..sizes.events {
        seq += 1;
        let p = &partners[rng.random_range(0..partners.len())];
        let mut e = rows::event(&mut rng, p, i, EVENT_CAPACITY, seq, now);
        let n = per_event + usize::from(extra > 0);
        extra = extra.saturating_sub(1);
        for _ in 0..n {
            registrations.push(rows::registration(&mut rng, &e, registrations.len(), now));
        }
        e.registered_count = i32::try_from(n).unwrap_or(i32::MAX);
        e.capacity = e.capacity.max(e.registered_count);
        events.push(e);
    }
    let burst = burst_event(&net, &partners, &mut rng, &mut seq, now)?;
    conn.write_tx(|c| {
        for e in events.iter().chain(std::iter::once(&burst.0)) {
            crate::store::events::insert(c, e, &[])?;
        }
        Ok::<(), StoreError>(())
    })?;
    progress.add(events.len());
    counts.events = events.len() + 1;
    progress.done("events", events.len() + 1);
    progress.start("registrations");
    for chunk in registrations.chunks(BATCH) {
        conn.write_tx(|c| crate::store::registrations::insert_many(c, chunk))?;
        progress.add(chunk.len());
    }
    counts.registrations = registrations.len();
    progress.done("registrations", registrations.len());
    drop(registrations);

    // The counter past every number used; leads take theirs from it as they are written.
    let set = format!("UPDATE sync_counter SET value = {seq} WHERE id = 1");
    conn.write_tx(|c| c.batch_execute(&set).map_err(StoreError::from))?;

    progress.start("leads");
    let mut written = 0;
    while written < sizes.leads {
        let size = BATCH.min(sizes.leads - written);
        let batch: Vec<_> = (written..written + size)
            .map(|i| {
                let p = &partners[rng.random_range(0..partners.len())];
                let created = rows::ago(&mut rng, now, 365);
                let project = link(&mut rng, &p.owner_id, created, LEADS_LINKED).map(|i| projects[i].0.id.as_str());
                rows::lead(&mut rng, p, i, created, project, now)
            })
            .collect();
        for l in &batch {
            let Some(project) = &l.project_id else { continue };
            let new_lead = PointsAction::NewLead.as_str();
            ledger.push(rows::award(&mut rng, project, &l.owner_id, new_lead, ("lead", &l.id), 5, l.created_at));
            if let Some(at) = l.converted_at {
                let action = PointsAction::Conversion.as_str();
                ledger.push(rows::award(&mut rng, project, &l.owner_id, action, ("lead", &l.id), 20, at));
            }
        }
        conn.write_tx(|c| crate::store::leads::insert_many(c, &batch))?;
        written += size;
        progress.add(size);
    }
    counts.leads = written;
    progress.done("leads", written);

    progress.start("points");
    for chunk in ledger.chunks(BATCH) {
        conn.write_tx(|c| crate::store::points::insert_many(c, chunk))?;
    }
    counts.points_entries = ledger.len();
    // Visits went in below the domain: bring the projects' day counters in line, as the server's
    // own writes keep them.
    for (project, _) in &projects {
        let id = Uuid::parse_str(&project.id)?;
        conn.write_tx(|c| {
            let project = projects::get(c, &Actor::system(), id)?;
            crate::domain::progress::rebuild_visit_days(c, &project).map_err(DomainError::from)
        })?;
    }
    progress.done("points and day counters", ledger.len());

    // PostgreSQL's autovacuum would have analysed a database that grew over a year: do it now.
    // SQLite keeps no statistics unless asked, and the server never asks (with STAT4 data every
    // statement whose plan could depend on a bound value is prepared again at each step: a fifth
    // of a visit's write went to it). Its WAL is folded back so the server starts from a compact
    // file.
    progress.start("analyze");
    match conn {
        DbConn::Sqlite(c) => c.batch_execute("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA cache_size = -2000;")?,
        DbConn::Postgres(c) => c.batch_execute("ANALYZE;")?,
    }
    progress.done("analyze", 0);
    counts.seconds = progress.finish();

    Ok(manifest_of(options, &net, &partners, &visits_of, &projects, burst.1, counts))
}

/// Ten segment projects, each run by a sub-branch with its account managers as the team: 60 days
/// behind, 30 ahead, targets for every metric split evenly, points for the five actions.
/// Returns each with the ids of its members.
fn create_projects(
    conn: &mut DbConn,
    rng: &mut StdRng,
    net: &Network,
    sizes: &Sizes,
) -> Result<Vec<(Linked, Vec<String>)>, DomainError> {
    const NAMES: [&str; 10] = [
        "批发市场商户收单",
        "社区银发金融服务",
        "校园代发工资",
        "超市联盟扫码",
        "海鲜市场经营贷",
        "代账公司企业开户",
        "新市民安居",
        "个体工商户贷款",
        "社区反诈宣传",
        "养老金客户回流",
    ];
    let clock = Clock::new(DEFAULT_TIME_ZONE);
    let today = clock.today();
    let starts_on = today - Duration::days(59);
    let ends_on = today + Duration::days(30);
    let from = clock.start_of(starts_on);
    let mut out = Vec::new();
    for (p, name) in NAMES.iter().enumerate().take(sizes.projects) {
        let s = p % net.sub_branches.len();
        let team: Vec<Uuid> = net.team_of_sub_branch(s).iter().map(|u| u.id).collect();
        let Some(&lead_id) = team.first() else { continue };
        let manager = &net.sub_branch_managers[s];
        // What one account manager is asked for over the 90 days.
        let per_member = [
            (Metric::NewCustomers, 16.0),
            (Metric::Conversions, 24.0),
            (Metric::ConvertedAmount, 1_200_000.0),
            (Metric::Visits, 360.0),
            (Metric::VerifiedVisits, 300.0),
            (Metric::EventsHeld, 2.0),
            (Metric::Registrations, 120.0),
            (Metric::Checkins, 80.0),
            (Metric::NewLeads, 200.0),
        ];
        let targets = per_member
            .iter()
            .map(|&(metric, each)| {
                let split: BTreeMap<Uuid, f64> = team.iter().map(|id| (*id, each)).collect();
                TargetInput { metric, total: each * team.len() as f64, split }
            })
            .collect();
        let rules = [
            (PointsAction::VerifiedVisit, 2),
            (PointsAction::EventStepCompleted, 10),
            (PointsAction::Checkin, 1),
            (PointsAction::NewLead, 5),
            (PointsAction::Conversion, 20),
        ]
        .into_iter()
        .map(|(action, points)| RuleInput { action, points, daily_cap: None })
        .collect();
        let input = NewProject {
            id: Some(uuid::Builder::from_random_bytes(rng.random()).into_uuid()),
            name: (*name).to_owned(),
            segment: Segment::Outreach,
            portrait_tags: Some(vec!["批发市场档主".to_owned()]),
            product_package: Some(vec!["商户收单".to_owned(), "经营贷".to_owned()]),
            service_package: Some(vec!["上门开户".to_owned()]),
            starts_on,
            ends_on,
            status: None,
            org_unit_id: Some(net.sub_branches[s].id),
            lead_id,
            supervisor_id: None,
            member_ids: Some(team.clone()),
            targets: Some(targets),
            points_rules: Some(rules),
            milestones: None,
        };
        let project = match projects::create(conn, &network::actor_of(manager), input)? {
            Created::New(p) | Created::Existing(p) => p,
        };
        let members = team.iter().map(Uuid::to_string).collect();
        let linked =
            Linked { id: project.id.to_string(), name: project.name, from, manager_phone: manager.phone.clone() };
        out.push((linked, members));
    }
    Ok(out)
}

/// An event a week ahead with its registration open and nobody registered: the burst scenarios'
/// target. Owned by the account manager with most partners, at one of them.
fn burst_event(
    net: &Network,
    partners: &[PartnerRow],
    rng: &mut StdRng,
    seq: &mut i64,
    now: NaiveDateTime,
) -> anyhow::Result<(EventRow, manifest::BurstEvent)> {
    let owner = net.account_managers().next().context_less("no account managers")?;
    let owner_id = owner.id.to_string();
    let at = partners.iter().find(|p| p.owner_id == owner_id).or(partners.first()).context_less("no partners")?;
    *seq += 1;
    let mut e = rows::event(rng, at, 0, BURST_CAPACITY, *seq, now);
    e.title = "社区金融知识讲座（报名高峰）".to_owned();
    e.owner_id = at.owner_id.clone();
    e.starts_at = now + Duration::days(7);
    e.ends_at = e.starts_at + Duration::hours(2);
    e.registration_deadline = e.starts_at - Duration::hours(2);
    e.status = "planned".to_owned();
    let owner_phone =
        net.account_managers().find(|u| u.id.to_string() == at.owner_id).map(|u| u.phone.clone()).unwrap_or_default();
    let summary = manifest::BurstEvent {
        id: Uuid::parse_str(&e.id)?,
        code: e.registration_code.clone(),
        capacity: i64::from(e.capacity),
        owner_phone,
    };
    Ok((e, summary))
}

trait OrFail<T> {
    fn context_less(self, what: &str) -> anyhow::Result<T>;
}

impl<T> OrFail<T> for Option<T> {
    fn context_less(self, what: &str) -> anyhow::Result<T> {
        self.ok_or_else(|| anyhow::anyhow!("cannot seed: {what}"))
    }
}

fn manifest_of(
    options: &Options,
    net: &Network,
    partners: &[PartnerRow],
    visits_of: &HashMap<String, usize>,
    projects: &[(Linked, Vec<String>)],
    burst_event: manifest::BurstEvent,
    counts: manifest::Counts,
) -> Manifest {
    let mut own: HashMap<&str, Vec<&PartnerRow>> = HashMap::new();
    for p in partners {
        own.entry(p.owner_id.as_str()).or_default().push(p);
    }
    let account_managers: Vec<manifest::AccountManager> = net
        .account_managers()
        .map(|u| {
            let id = u.id.to_string();
            let mine = own.get(id.as_str()).map(Vec::as_slice).unwrap_or_default();
            manifest::AccountManager {
                phone: u.phone.clone(),
                user_id: u.id,
                partners: mine
                    .iter()
                    .take(MANIFEST_PARTNERS)
                    .filter_map(|p| {
                        Some(manifest::PartnerRef { id: Uuid::parse_str(&p.id).ok()?, lat: p.lat, lon: p.lon })
                    })
                    .collect(),
                partners_total: mine.len(),
                visits_total: visits_of.get(&id).copied().unwrap_or(0),
            }
        })
        .collect();
    // The typical account manager: closest to the mean in both partners and visits.
    let n = account_managers.len().max(1) as f64;
    let mean_p = account_managers.iter().map(|a| a.partners_total).sum::<usize>() as f64 / n;
    let mean_v = account_managers.iter().map(|a| a.visits_total).sum::<usize>() as f64 / n;
    let off = |a: &manifest::AccountManager| {
        (a.partners_total as f64 - mean_p).abs() / mean_p.max(1.0)
            + (a.visits_total as f64 - mean_v).abs() / mean_v.max(1.0)
    };
    let sync_account_manager =
        account_managers.iter().min_by(|a, b| off(a).total_cmp(&off(b))).map(|a| a.phone.clone()).unwrap_or_default();
    Manifest {
        scale: options.scale,
        seed: options.seed,
        password: super::PASSWORD.to_owned(),
        branch_manager: BRANCH_MANAGER.to_owned(),
        sub_branch_managers: net.sub_branch_managers.iter().map(|u| u.phone.clone()).collect(),
        account_managers,
        sync_account_manager,
        city_centre: city_centre(),
        street_centre: densest_town(),
        burst_event,
        projects: projects
            .iter()
            .filter_map(|(p, _)| {
                let id = Uuid::parse_str(&p.id).ok()?;
                Some(manifest::ProjectRef { id, name: p.name.clone(), manager_phone: p.manager_phone.clone() })
            })
            .collect(),
        counts,
    }
}
