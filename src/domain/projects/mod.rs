//! Segment projects and what they count: the project (team, targets, rules, milestones), the
//! points ledger, progress, leaderboards and stars, the award pool, the report export, and the
//! best-practice cases that cite projects.
//!
//! The project is `projects.rs` (the record, its reads, the links other records make to it) and
//! the `project_*.rs` files beside it, one per kind of edit; see `projects.rs`.

pub mod award_pool;
pub mod cases;
pub mod leaderboard;
pub mod points;
pub mod progress;
pub mod project_create;
pub mod project_details;
pub mod project_manual_metrics;
pub mod project_milestones;
pub mod project_report;
pub mod project_targets;
pub mod project_team;
pub mod projects;
pub mod showcase;
