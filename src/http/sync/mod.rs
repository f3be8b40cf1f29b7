//! `/api/v1/sync`: the phone's sync.
//!
//! [`watermelon`] serves WatermelonDB's own protocol (`GET/POST /sync`, `GET /sync/schema`;
//! docs/SYNC.md). The rest serves the first protocol (`/sync/pull`, `/sync/push`) for apps not yet
//! updated: [`pull`] serves the change feed, [`push`] applies a batch and answers each
//! record, [`pushed`] reads a pushed batch into the domain's operations without the database (what
//! the fuzz target drives), and `cursor` is what the two handlers share: the position in the
//! feed, tied to the caller's scope. The routes are registered in `http/mod.rs` with the others.

mod cursor;
pub mod pull;
pub mod push;
pub mod pushed;
pub mod watermelon;
