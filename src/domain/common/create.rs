//! Creates a phone may repeat. The client picks the record's id; the same id with the same body is
//! a retry and answers with the record made the first time ([`Created::Existing`]), with another
//! body a conflict.

use super::error::DomainError;

/// A create either made the record or found the identical one made before with the same id.
#[derive(Debug)]
pub enum Created<T> {
    New(T),
    Existing(T),
}

impl<T> Created<T> {
    /// The same outcome, of another value.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Created<U> {
        match self {
            Created::New(t) => Created::New(f(t)),
            Created::Existing(t) => Created::Existing(f(t)),
        }
    }
}

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
