//! Rows of the org tree and its people: org units, users, refresh tokens, the audit log.

pub mod audit;
pub mod org_units;
pub mod refresh_tokens;
pub mod users;
