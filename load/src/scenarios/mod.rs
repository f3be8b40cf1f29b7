//! The scenarios: what they share (the server, who is logged in, what earlier scenarios made),
//! and which one runs for which name.

mod events;
mod field;
mod sync;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{SecondsFormat, Utc};
use outreach::fixtures::rows::place::near;
use outreach::fixtures::seed::Manifest;
use outreach::fixtures::seed::manifest::PartnerRef;
use rand::rngs::StdRng;
use serde_json::{Value, json};

use crate::args::{Args, Scenario};
use crate::http::{Plan, Recorder, call, client, drive};

/// Managers reading project figures at once.
const PROJECT_CONCURRENCY: usize = 16;

/// An account manager the load runs as.
pub struct Am {
    pub phone: String,
    pub token: String,
    pub partners: Vec<PartnerRef>,
}

/// What the scenarios share: the server, who is logged in, and what earlier scenarios made.
pub struct Ctx {
    pub base: String,
    pub m: Manifest,
    pub args: Args,
    pub tokens: HashMap<String, String>,
    /// Account managers with partners, at most as many as the largest concurrency.
    pub ams: Arc<Vec<Am>>,
    /// Visits made by `create_visit`, for photos: (the maker's token, visit id).
    pub visits: Arc<Mutex<Vec<(String, String)>>>,
    /// The `timestamp` of the sync account manager's last pull, to pull from next.
    pub sync_timestamp: Option<i64>,
    /// Registered (not waitlisted) tickets of the registration burst.
    pub tickets: Vec<String>,
    pub capacity_respected: Option<bool>,
}

/// Why a scenario gave no measurement: nothing to do (not an error), or a failure on the way.
pub enum Stop {
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
pub struct Measured {
    pub concurrency: usize,
    pub rec: Recorder,
    pub seconds: f64,
    pub notes: String,
}

impl Ctx {
    pub fn token(&self, phone: &str) -> String {
        self.tokens.get(phone).cloned().unwrap_or_else(|| panic!("{phone} is not logged in"))
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

fn now_minus_minute() -> String {
    (Utc::now() - chrono::TimeDelta::minutes(1)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A visit a minute ago within 30 m of `partner`, or a market sweep near `centre` without one.
pub(super) fn visit_body(rng: &mut StdRng, partner: Option<&PartnerRef>, centre: [f64; 2]) -> Value {
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

pub(super) fn id_of(body: &[u8]) -> Option<String> {
    serde_json::from_slice::<Value>(body).ok()?["id"].as_str().map(str::to_owned)
}

/// Runs one scenario.
pub async fn run(cx: &mut Ctx, scenario: Scenario) -> Result<Measured, Stop> {
    let needs_partners = [
        Scenario::CreatePartner,
        Scenario::CreateVisit,
        Scenario::Nearby,
        Scenario::SyncIncremental16,
        Scenario::PhotoUpload,
    ]
    .contains(&scenario);
    if cx.ams.is_empty() && needs_partners {
        return Err(Stop::Skip("no account manager has partners".to_owned()));
    }
    let (city, street) = (cx.m.city_centre, cx.m.street_centre);
    match scenario {
        Scenario::Login => field::login(cx).await,
        Scenario::CreatePartner => field::create_partner(cx).await,
        Scenario::CreateVisit => field::create_visit(cx).await,
        Scenario::Nearby => field::nearby(cx).await,
        Scenario::MapZ12 => field::map_view(cx, city, 12).await,
        Scenario::MapZ16 => field::map_view(cx, street, 16).await,
        Scenario::SyncFirst => sync::first(cx).await,
        Scenario::SyncIncremental => sync::incremental(cx).await,
        Scenario::SyncIncremental16 => sync::incremental_16(cx).await,
        Scenario::RegistrationBurst => events::registration_burst(cx).await,
        Scenario::CheckinBurst => events::checkin_burst(cx).await,
        Scenario::PhotoUpload => field::photo_upload(cx).await,
        Scenario::ProjectProgress => project_reads(cx, "progress").await,
        Scenario::Leaderboard => project_reads(cx, "leaderboard?period=week").await,
    }
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
    let (rec, seconds) = drive(Plan::timed(concurrency, cx.args.duration), move |_, n| {
        let (url, token) = &projects[n as usize % projects.len()];
        let req = client.get(url).bearer_auth(token);
        async move { call(req).await.map(|(_, body)| body.len() as u64) }
    })
    .await;
    Ok(Measured { concurrency, rec, seconds, notes: format!("{count} projects in turn") })
}
