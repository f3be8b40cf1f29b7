//! Supervision: supervisions with their photos and findings, coaching plans.

pub mod coaching;
pub mod supervisions;
