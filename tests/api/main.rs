//! Black-box tests: the real application over HTTP, one fresh database per test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod auth;
mod authz_matrix;
mod award_pool;
mod backup;
mod cases;
mod checkins;
mod cli;
mod coaching;
mod contract;
mod conventions;
mod durability;
mod events;
mod exposure;
mod health;
mod helpers;
mod hostile;
mod leads;
mod map;
mod mass_assignment;
mod org_units;
mod partners;
mod personal_data;
mod photos;
mod project_progress;
mod projects;
mod public_page;
mod query_counts;
mod query_plans;
mod registrations;
mod security_headers;
mod showcase;
mod supervisions;
mod sync;
mod users;
mod visits;
