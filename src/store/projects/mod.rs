//! Rows of segment projects and what they count: projects, the points ledger, the figures
//! progress is computed from, the award pool, best-practice cases.

pub mod award_pool;
pub mod cases;
pub mod points;
pub mod project_metrics;
pub mod projects;
