//! Business rules, one module per capability. No HTTP and no SQL here: functions take plain
//! values and a store connection, and answer with [`DomainError`].

pub mod actor;
pub mod audit;
pub mod award_pool;
pub mod calendar;
pub mod cases;
pub mod checkins;
pub mod coaching;
pub mod coaching_phase;
pub mod daily_report;
pub mod error;
pub mod event_steps;
pub mod events;
pub mod lead_kind;
pub mod leaderboard;
pub mod leads;
pub mod map;
pub mod org_units;
pub mod partner_kind;
pub mod partner_search;
pub mod partners;
pub mod password;
pub mod phone;
pub mod photos;
pub mod points;
pub mod progress;
pub mod project_kind;
pub mod project_report;
pub mod projects;
pub mod registrations;
pub mod role;
pub mod showcase;
pub mod supervisions;
pub mod sync;
pub mod territories;
pub mod text;
pub mod users;
pub mod verification;
pub mod visits;

pub use actor::{Actor, Scope};
pub use error::{DomainError, FieldErrors};
pub use phone::Phone;
pub use role::Role;

/// Runs a create once more when its insert lost a race against the same id (a phone retrying
/// while its first request is still in flight): the second run finds the row and answers as for
/// any repeat, instead of failing on the unique key.
pub(crate) fn retry_on_race<T>(mut create: impl FnMut() -> Result<T, DomainError>) -> Result<T, DomainError> {
    match create() {
        Err(DomainError::Store(crate::store::StoreError::UniqueViolation(_))) => create(),
        other => other,
    }
}

/// The fingerprint of a create request, kept with the record: the same client id with the same
/// body is a retry (200, the same record), with another body a conflict (409).
pub(crate) fn create_digest<T: serde::Serialize>(input: &T) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(serde_json::to_vec(input).unwrap_or_default()).iter().map(|b| format!("{b:02x}")).collect()
}
