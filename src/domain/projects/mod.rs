//! Segment projects and what they count: the project (team, targets, rules, milestones), the
//! points ledger, progress, leaderboards and stars, the award pool, the report export, and the
//! best-practice cases that cite projects.

pub mod award_pool;
pub mod cases;
pub mod leaderboard;
pub mod points;
pub mod progress;
pub mod project_report;
pub mod projects;
pub mod showcase;
