//! `outreach bench seed`: a whole branch network at a chosen scale, for load benchmarks.
//!
//! At scale 1: one branch, 20 sub-branches, 60 outlets, 500 account managers, 100k partners,
//! 1M visits over a year, 2k events with 100k registrations, 200k leads, 10 segment projects with
//! targets and the points ledger of their linked visits and leads. Smaller scales shrink the org
//! with the data (never below two sub-branches and ten account managers), so one account
//! manager's scope stays about 200 partners and 2,000 visits: what grows with scale is the branch,
//! not a person's day.
//!
//! The org tree and users go through the domain (real paths, roles and scope); the bulk goes
//! through the store layer in batches, with the change counter set past the numbers used, as live
//! writes would leave it. The same seed gives the same network: names, places, statuses, links
//! and counts; times (and the time stamps that lead the ids) are relative to the moment of
//! seeding. The seeded database must be empty.

pub mod manifest;

mod geography;
mod network;
mod plan;
mod progress;
mod rows;

use anyhow::Context;
use secrecy::SecretString;

pub use manifest::Manifest;
pub use plan::{Options, Sizes};

use crate::http::state::AppState;

/// Every seeded user's password.
pub const PASSWORD: &str = "bench password 123";

/// Seeds `state`'s database and returns what the load driver needs to know about it.
pub async fn run(state: &AppState, options: Options) -> anyhow::Result<Manifest> {
    options.check()?;
    let db = state.db.clone();
    let users = db.run(crate::store::users::count).await.context("counting users")?;
    anyhow::ensure!(users == 0, "the database already holds {users} users: seed into an empty one");
    // One hash for everyone: hashing 500 passwords is not what a seeder is for.
    let hash = state.auth.hasher.hash(SecretString::from(PASSWORD)).await.context("hashing the password")?;
    tokio::task::spawn_blocking(move || {
        let mut conn = db.get()?;
        plan::seed(&mut conn, &options, &hash)
    })
    .await
    .context("the seeder stopped")?
}
