use std::time::Duration;

use crate::domain::{DomainError, FieldErrors};
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Unknown phone, wrong password or disabled account: one answer for all three.
    #[error("phone or password is wrong")]
    InvalidCredentials,
    #[error("refresh token is not valid")]
    InvalidRefreshToken,
    #[error("too many login attempts")]
    RateLimited { retry_after: Duration },
    #[error("invalid request")]
    Validation(FieldErrors),
    #[error("internal auth failure: {0}")]
    Internal(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Domain(#[from] DomainError),
}
