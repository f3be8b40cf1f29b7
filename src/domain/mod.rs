//! Business rules, one module per capability. No HTTP and no SQL here: functions take plain
//! values and a store connection, and answer with [`DomainError`].

pub mod common;
pub mod events;
pub mod field;
pub mod kinds;
pub mod map;
pub mod org;
pub mod projects;
pub mod supervision;
pub mod sync;

pub use common::actor::{Actor, Scope};
pub use common::error::{DomainError, FieldErrors};
pub use common::phone::Phone;
pub use kinds::role::Role;

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
