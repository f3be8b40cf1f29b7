use std::collections::BTreeMap;

use super::error_code::ErrorCode;
use crate::store::StoreError;

/// Field name → what is wrong with it, for the `errors` member of a validation problem.
pub type FieldErrors = BTreeMap<String, String>;

/// Why a domain operation refused or failed. The HTTP layer maps each variant once.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// Absent, or outside the caller's scope: the two are indistinguishable on purpose.
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{detail}")]
    Forbidden { code: ErrorCode, detail: String },
    #[error("{detail}")]
    Conflict { code: ErrorCode, detail: String },
    /// A record with the same identity exists; its id when the caller may see it.
    #[error("{detail}")]
    Duplicate { code: ErrorCode, detail: String, existing_id: Option<uuid::Uuid> },
    /// Existed, but is over for good (a closed registration).
    #[error("{detail}")]
    Gone { code: ErrorCode, detail: String },
    #[error("validation failed")]
    Validation(FieldErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl DomainError {
    /// The stable code a client reads, as the API's problem document carries it.
    pub fn code(&self) -> ErrorCode {
        match self {
            DomainError::NotFound(_) => ErrorCode::NotFound,
            DomainError::Forbidden { code, .. }
            | DomainError::Conflict { code, .. }
            | DomainError::Duplicate { code, .. }
            | DomainError::Gone { code, .. } => *code,
            DomainError::Validation(_) => ErrorCode::ValidationFailed,
            DomainError::Store(_) => ErrorCode::InternalError,
        }
    }

    pub fn forbidden(code: ErrorCode, detail: impl Into<String>) -> Self {
        DomainError::Forbidden { code, detail: detail.into() }
    }

    pub fn conflict(code: ErrorCode, detail: impl Into<String>) -> Self {
        DomainError::Conflict { code, detail: detail.into() }
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        DomainError::Validation(BTreeMap::from([(field.to_owned(), message.into())]))
    }
}

impl From<diesel::result::Error> for DomainError {
    fn from(err: diesel::result::Error) -> Self {
        DomainError::Store(err.into())
    }
}

impl From<serde_json::Error> for DomainError {
    fn from(err: serde_json::Error) -> Self {
        DomainError::Store(StoreError::Corrupt(format!("json: {err}")))
    }
}

/// Collects field errors so a request learns everything wrong with it at once.
#[derive(Debug, Default)]
pub struct Validator {
    errors: FieldErrors,
}

impl Validator {
    /// Keeps the value when `result` is `Ok`, records the message under `field` otherwise.
    pub fn check<T, E: std::fmt::Display>(&mut self, field: &str, result: Result<T, E>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(err) => {
                self.errors.entry(field.to_owned()).or_insert_with(|| err.to_string());
                None
            }
        }
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.errors.entry(field.to_owned()).or_insert_with(|| message.into());
    }

    pub fn finish(self) -> Result<(), DomainError> {
        if self.errors.is_empty() { Ok(()) } else { Err(DomainError::Validation(self.errors)) }
    }
}
