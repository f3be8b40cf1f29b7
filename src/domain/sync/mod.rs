//! Offline sync for the phone, in WatermelonDB's own protocol (docs/SYNC.md): one declaration per
//! synced table (`tables/`, in the vocabulary of `declare`), from which the pull, the push and
//! the published schema are derived.
//!
//! `legacy` serves the first protocol (`/sync/pull`, `/sync/push`) while installed apps move to
//! this one.

pub mod declare;
pub mod legacy;
pub mod pull;
pub mod push;
pub mod schema;
pub mod tables;

pub use declare::View;
