//! Managers watching over the work: supervisions of outlets with their findings, coaching plans
//! for new supervisors, and the morning-meeting report.

pub mod coaching;
pub mod coaching_phase;
pub mod daily_report;
pub mod findings;
pub mod supervisions;
