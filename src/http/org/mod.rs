//! The org tree and its people: sessions (login, refresh, logout), users, org units, the audit log.

pub mod audit;
pub mod org_units;
pub mod sessions;
pub mod users;
