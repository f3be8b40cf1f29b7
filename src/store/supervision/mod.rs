//! Rows of supervision: supervisions with their findings, coaching plans, and the morning
//! report's queries.

pub mod coaching;
pub mod daily_report;
pub mod supervisions;
