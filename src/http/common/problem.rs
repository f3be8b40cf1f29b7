//! Every error leaves as `application/problem+json` (RFC 9457) with a stable machine `code`.
//! This is the one place errors of the lower layers become HTTP.

use std::time::Duration;

use actix_web::error::PayloadError;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::auth::{AuthError, TokenError};
use crate::domain::{DomainError, ErrorCode, FieldErrors};
use crate::store::StoreError;

/// The problem document.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the problem type: `urn:outreach:problem:<code>`.
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code; clients branch on this, never on `detail`.
    pub code: ErrorCode,
    /// Field (JSON path) → what is wrong with it, for validation problems.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<FieldErrors>,
    /// With `duplicate_lead`: the lead that already holds the phone, when you may see it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub existing_id: Option<uuid::Uuid>,
}

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: ErrorCode,
    detail: String,
    errors: Option<FieldErrors>,
    retry_after: Option<Duration>,
    existing_id: Option<uuid::Uuid>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: ErrorCode, detail: impl Into<String>) -> ApiError {
        ApiError { status, code, detail: detail.into(), errors: None, retry_after: None, existing_id: None }
    }

    pub fn with_errors(mut self, errors: FieldErrors) -> ApiError {
        self.errors = Some(errors);
        self
    }

    pub fn validation(errors: FieldErrors) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::ValidationFailed, "the request has invalid fields")
            .with_errors(errors)
    }

    pub fn field(field: &str, message: impl Into<String>) -> ApiError {
        ApiError::validation(FieldErrors::from([(field.to_owned(), message.into())]))
    }

    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, format!("{what} not found"))
    }

    pub fn unauthorized(code: ErrorCode, detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, code, detail)
    }

    pub fn internal() -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::InternalError, "something went wrong on our side")
    }

    pub fn code(&self) -> ErrorCode {
        self.code
    }

    pub fn problem(&self) -> Problem {
        Problem {
            type_: format!("urn:outreach:problem:{}", self.code),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: self.code,
            errors: self.errors.clone(),
            existing_id: self.existing_id,
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.detail)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json")));
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        if let Some(wait) = self.retry_after {
            // Round up: a client that waits exactly this long must succeed.
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            response.insert_header((header::RETRY_AFTER, secs.max(1).to_string()));
        }
        response.json(self.problem())
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Pool(_) | StoreError::Saturated(_) => {
                tracing::error!(error = %err, "database unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorCode::DatabaseUnavailable,
                    "the database is not reachable, try again shortly",
                )
            }
            other => {
                tracing::error!(error = %other, cause = ?std::error::Error::source(&other), "store failure");
                ApiError::internal()
            }
        }
    }
}

impl From<DomainError> for ApiError {
    fn from(err: DomainError) -> Self {
        match err {
            DomainError::NotFound(what) => ApiError::not_found(what),
            DomainError::Forbidden { code, detail } => ApiError::new(StatusCode::FORBIDDEN, code, detail),
            DomainError::Conflict { code, detail } => ApiError::new(StatusCode::CONFLICT, code, detail),
            DomainError::Duplicate { code, detail, existing_id } => {
                ApiError { existing_id, ..ApiError::new(StatusCode::CONFLICT, code, detail) }
            }
            DomainError::Gone { code, detail } => ApiError::new(StatusCode::GONE, code, detail),
            DomainError::Validation(errors) => ApiError::validation(errors),
            DomainError::Store(store) => store.into(),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::InvalidCredentials => {
                ApiError::unauthorized(ErrorCode::InvalidCredentials, "phone or password is wrong")
            }
            AuthError::InvalidRefreshToken => ApiError::unauthorized(
                ErrorCode::InvalidRefreshToken,
                "the refresh token is unknown, expired, spent or revoked",
            ),
            AuthError::RateLimited { retry_after } => ApiError {
                retry_after: Some(retry_after),
                ..ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    ErrorCode::RateLimited,
                    "too many login attempts, try again later",
                )
            },
            AuthError::Validation(errors) => ApiError::validation(errors),
            AuthError::Store(store) => store.into(),
            AuthError::Domain(domain) => domain.into(),
            AuthError::Internal(message) => {
                tracing::error!(%message, "auth failure");
                ApiError::internal()
            }
        }
    }
}

impl From<TokenError> for ApiError {
    fn from(err: TokenError) -> Self {
        match err {
            TokenError::Expired => {
                ApiError::unauthorized(ErrorCode::TokenExpired, "the access token has expired; refresh it")
            }
            TokenError::Invalid => ApiError::unauthorized(ErrorCode::InvalidToken, "the access token is not valid"),
        }
    }
}

/// The message of the read error a body that ran out of time ends with.
pub(crate) const TIMED_OUT: &str = "the body did not arrive in time";

/// The answer to a body that could not be read: 408 when it ran out of time
/// (`middleware::deadline` cuts it off with `TIMED_OUT`), 400 otherwise.
pub fn unreadable(err: &PayloadError, code: ErrorCode) -> ApiError {
    match err {
        PayloadError::Io(e) if e.kind() == std::io::ErrorKind::TimedOut => {
            ApiError::new(StatusCode::REQUEST_TIMEOUT, ErrorCode::RequestTimeout, TIMED_OUT)
        }
        other => ApiError::new(StatusCode::BAD_REQUEST, code, other.to_string()),
    }
}
