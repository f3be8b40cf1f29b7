use actix_web::{HttpResponse, get, web};
use serde::Serialize;

use crate::context::state::AppState;
use crate::domain::ErrorCode;
use crate::http::common::problem::{ApiError, Problem};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok`
    pub status: &'static str,
}

/// Liveness: the process answers.
#[utoipa::path(tag = "health", responses((status = 200, body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// Readiness: the database answers too.
#[utoipa::path(tag = "health", responses(
    (status = 200, body = Health),
    (status = 503, body = Problem, content_type = "application/problem+json"),
))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state.db.run(crate::store::ping).await.map_err(|e| {
        tracing::warn!(error = %e, "not ready");
        ApiError::new(
            actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::NotReady,
            "the database does not answer",
        )
    })?;
    Ok(HttpResponse::Ok().json(Health { status: "ok" }))
}
