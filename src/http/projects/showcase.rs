//! `GET /api/v1/projects/{id}/showcase.png`: the day's card for the team's chat group.

use actix_web::http::header;
use actix_web::{HttpResponse, get, web};
use uuid::Uuid;

use crate::context::state::AppState;
use crate::domain::projects::showcase;
use crate::http::common::extract::Caller;
use crate::http::common::problem::{ApiError, Problem};
use crate::http::projects::monitoring::{DateParam, check_date};
use crate::media::card;

/// The daily showcase card (业绩晒单) as a 1080×1440 PNG: the project's name and day, the day's
/// totals against pace, the stars of the day, week and month with their points, the top five.
/// Ready to post to the team's chat group; drawn with a CJK font (`OUTREACH_SHOWCASE_FONT`).
#[utoipa::path(tag = "projects", security(("bearer" = [])), params(("id" = Uuid, Path), DateParam), responses(
    (status = 200, description = "PNG, 1080×1440", content_type = "image/png", body = Vec<u8>),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[get("/projects/{id}/showcase.png")]
pub async fn project_showcase(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    query: web::Query<DateParam>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let date = check_date(query.date)?;
    let facts = state.db.run(move |conn| showcase::showcase(conn, &actor, id, date)).await?;
    let font = state.card_font.clone();
    // About 12 ms of CPU in a release build: off the async workers.
    let png =
        web::block(move || card::render(&font, &facts)).await.map_err(|_| ApiError::internal())?.map_err(|e| {
            tracing::error!(error = %e, "showcase card not drawn");
            ApiError::internal()
        })?;
    Ok(HttpResponse::Ok()
        .content_type("image/png")
        .insert_header((header::CONTENT_DISPOSITION, "inline; filename=\"showcase.png\""))
        .body(png))
}
