//! The bank's org tree and the people in it: org units with their territories, users, and the
//! audit log of changes.

pub mod audit;
pub mod org_units;
pub mod territories;
pub mod users;
