//! Segment projects: the project, its monitoring (progress, leaderboard, stars, report, morning
//! report), the showcase card, the award pool, best-practice cases.

pub mod award_pool;
pub mod cases;
pub mod monitoring;
pub mod projects;
pub mod showcase;
