//! `/api/v1/sync`: the phone's pull and push (WatermelonDB-shaped; see docs/SYNC.md).
//!
//! A file a job: [`pull`] serves the change feed, [`push`] applies a batch and answers each
//! record, [`pushed`] reads a pushed batch into the domain's operations without the database (what
//! the fuzz target drives), and `cursor` is what the two handlers share: the position in the
//! feed, tied to the caller's scope. The routes are registered in `http/mod.rs` with the others.

mod cursor;
pub mod pull;
pub mod push;
pub mod pushed;
