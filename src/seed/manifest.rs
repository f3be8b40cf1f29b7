//! What a seeded bank network holds, written next to it as JSON: the load driver reads it to know
//! whom to log in as, where their partners stand and which event and projects to hit.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// Share of the default scale (1.0 = 100k partners, 1M visits, …).
    pub scale: f64,
    pub seed: u64,
    /// Every seeded user's password.
    pub password: String,
    /// Phone of the branch manager (sees the whole branch).
    pub branch_manager: String,
    pub sub_branch_managers: Vec<String>,
    pub account_managers: Vec<AccountManager>,
    /// The account manager whose scope is closest to the typical one (≈ 200 partners and 2,000
    /// visits at full scale): the first-sync scenario logs in as them.
    pub sync_account_manager: String,
    /// Map views: the city as a whole (zoom 12) and the densest town centre (zoom 16), lat/lon.
    pub city_centre: [f64; 2],
    pub street_centre: [f64; 2],
    /// An event opened for registration with nobody registered yet, for the burst scenarios.
    pub burst_event: BurstEvent,
    pub projects: Vec<ProjectRef>,
    pub counts: Counts,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccountManager {
    pub phone: String,
    pub user_id: Uuid,
    /// Up to 20 of the account manager's own partners.
    pub partners: Vec<PartnerRef>,
    pub partners_total: usize,
    pub visits_total: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PartnerRef {
    pub id: Uuid,
    pub lat: f64,
    pub lon: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BurstEvent {
    pub id: Uuid,
    /// The public registration code: `POST /api/v1/public/events/{code}/registrations`.
    pub code: String,
    pub capacity: i64,
    /// Phone of the account manager who owns the event (may check attendees in).
    pub owner_phone: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProjectRef {
    pub id: Uuid,
    pub name: String,
    /// Phone of a manager who may read the project's progress and leaderboard.
    pub manager_phone: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Counts {
    pub sub_branches: usize,
    pub outlets: usize,
    pub account_managers: usize,
    pub partners: usize,
    pub visits: usize,
    pub events: usize,
    pub registrations: usize,
    pub leads: usize,
    pub projects: usize,
    pub points_entries: usize,
    /// Wall time of the seeding, seconds.
    pub seconds: f64,
}
