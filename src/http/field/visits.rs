//! `/api/v1/visits`: geotagged visits with the server's verification verdict.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::context::state::AppState;
use crate::domain::common::create::Created;
use crate::domain::field::verification::Reason;
use crate::domain::field::visits::{self, NewVisit, Visit, VisitOutcome, VisitPatch, VisitPurpose, VisitQuery};
use crate::geo::LatLon;
use crate::http::common::extract::{Caller, CoordParam, PageParams};
use crate::http::common::json::Json;
use crate::http::common::problem::{ApiError, Problem};

#[derive(Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitLocation {
    /// In the datum of `?coord=`.
    pub lat: f64,
    pub lon: f64,
    /// The fix's accuracy radius reported by the phone, in metres.
    pub accuracy_m: f64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct VerificationBody {
    pub verified: bool,
    /// Distance from the partner, when the visit names one.
    pub distance_m: Option<f64>,
    /// Why the visit is not verified; empty when it is.
    pub reasons: Vec<Reason>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct VisitBody {
    pub id: Uuid,
    pub user_id: Uuid,
    pub partner_id: Option<Uuid>,
    pub org_unit_id: Uuid,
    pub visited_at: DateTime<Utc>,
    pub location: VisitLocation,
    pub purpose: VisitPurpose,
    pub notes: String,
    pub outcome: Option<VisitOutcome>,
    pub next_step: Option<String>,
    pub next_visit_at: Option<DateTime<Utc>>,
    pub mock_location: Option<bool>,
    pub location_age_s: Option<f64>,
    /// Same as `verification.verified`.
    pub verified: bool,
    /// Same as `verification.distance_m`.
    pub distance_m: Option<f64>,
    pub verification: VerificationBody,
    /// The segment project the visit counts for.
    pub project_id: Option<Uuid>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn round(metres: Option<f64>) -> Option<f64> {
    metres.map(|m| (m * 10.0).round() / 10.0)
}

impl VisitBody {
    pub fn render(v: Visit, coord: &CoordParam) -> VisitBody {
        let at = coord.outgoing(v.location);
        VisitBody {
            id: v.id,
            user_id: v.user_id,
            partner_id: v.partner_id,
            org_unit_id: v.org_unit_id,
            visited_at: v.visited_at,
            location: VisitLocation { lat: at.lat, lon: at.lon, accuracy_m: v.accuracy_m },
            purpose: v.purpose,
            notes: v.notes,
            outcome: v.outcome,
            next_step: v.next_step,
            next_visit_at: v.next_visit_at,
            mock_location: v.mock_location,
            location_age_s: v.location_age_s,
            verified: v.verified,
            distance_m: round(v.distance_m),
            verification: VerificationBody {
                verified: v.verified,
                distance_m: round(v.distance_m),
                reasons: v.reasons,
            },
            project_id: v.project_id,
            version: v.version,
            created_at: v.created_at,
            updated_at: v.updated_at,
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateVisit {
    /// Client-made id (the phone creates visits offline): the same id and body again return the
    /// same visit (200); the same id with another body is a 409.
    pub id: Option<Uuid>,
    /// Absent for a cold sweep (扫街) of a market or a street.
    pub partner_id: Option<Uuid>,
    pub location: VisitLocation,
    /// When the visit happened (RFC 3339 with offset).
    pub visited_at: DateTime<Utc>,
    pub purpose: VisitPurpose,
    pub notes: Option<String>,
    pub outcome: Option<VisitOutcome>,
    pub next_step: Option<String>,
    pub next_visit_at: Option<DateTime<Utc>>,
    /// The phone's own mock-location flag, if it reports one.
    pub mock_location: Option<bool>,
    /// Age of the location fix when the visit was recorded, in seconds.
    pub location_age_s: Option<f64>,
    /// The segment project it counts for (you must be on its team, inside its period). Absent:
    /// your one running project that day, if you have exactly one.
    pub project_id: Option<Uuid>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateVisit {
    pub purpose: Option<VisitPurpose>,
    pub notes: Option<String>,
    pub outcome: Option<VisitOutcome>,
    pub next_step: Option<String>,
    pub next_visit_at: Option<DateTime<Utc>>,
    /// Link the visit to another of your running projects.
    pub project_id: Option<Uuid>,
    /// The version you last read; a stale one answers 409.
    pub version: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct VisitPage {
    pub items: Vec<VisitBody>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VisitFilters {
    pub user_id: Option<Uuid>,
    pub partner_id: Option<Uuid>,
    pub org_unit_id: Option<Uuid>,
    /// Visits at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Visits before this time.
    pub to: Option<DateTime<Utc>>,
    pub verified: Option<bool>,
    /// `minLon,minLat,maxLon,maxLat` in the datum of `coord`.
    pub bbox: Option<String>,
}

/// Record a visit; the answer carries the server's verification verdict.
#[utoipa::path(tag = "visits", security(("bearer" = [])), params(CoordParam), request_body = CreateVisit, responses(
    (status = 201, body = VisitBody),
    (status = 200, description = "the same id and body were sent before", body = VisitBody),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "partner not in your scope", body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[post("/visits")]
pub async fn create_visit(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    coord: web::Query<CoordParam>,
    Json(body): Json<CreateVisit>,
) -> Result<HttpResponse, ApiError> {
    let input = NewVisit {
        id: body.id,
        partner_id: body.partner_id,
        location: coord.incoming("location", LatLon { lat: body.location.lat, lon: body.location.lon })?,
        accuracy_m: body.location.accuracy_m,
        visited_at: body.visited_at,
        purpose: body.purpose,
        notes: body.notes,
        outcome: body.outcome,
        next_step: body.next_step,
        next_visit_at: body.next_visit_at,
        mock_location: body.mock_location,
        location_age_s: body.location_age_s,
        project_id: body.project_id,
    };
    let thresholds = state.settings.verification;
    let created = state.db.write(move |conn| visits::create(conn, &actor, &thresholds, input)).await?;
    Ok(match created {
        Created::New(v) => HttpResponse::Created()
            .insert_header(("Location", format!("/api/v1/visits/{}", v.id)))
            .json(VisitBody::render(v, &coord)),
        Created::Existing(v) => HttpResponse::Ok().json(VisitBody::render(v, &coord)),
    })
}

/// List visits: your own as an account manager, your subtree's as a manager or supervisor.
#[utoipa::path(tag = "visits", security(("bearer" = [])), params(PageParams, VisitFilters, CoordParam), responses(
    (status = 200, body = VisitPage),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[get("/visits")]
pub async fn list_visits(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    page: web::Query<PageParams>,
    filters: web::Query<VisitFilters>,
    coord: web::Query<CoordParam>,
) -> Result<HttpResponse, ApiError> {
    let page = page.to_request()?;
    let bbox = coord.bbox(filters.bbox.as_deref())?;
    crate::http::common::extract::time_filters(&[("from", filters.from), ("to", filters.to)])?;
    let query = VisitQuery {
        user_id: filters.user_id,
        partner_id: filters.partner_id,
        org_unit_id: filters.org_unit_id,
        from: filters.from,
        to: filters.to,
        verified: filters.verified,
        bbox,
    };
    let page = state.db.run(move |conn| visits::list(conn, &actor, &query, &page)).await?;
    Ok(HttpResponse::Ok().json(VisitPage {
        items: page.items.into_iter().map(|v| VisitBody::render(v, &coord)).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One visit you may see.
#[utoipa::path(tag = "visits", security(("bearer" = [])), params(("id" = Uuid, Path), CoordParam), responses(
    (status = 200, body = VisitBody),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/visits/{id}")]
pub async fn get_visit(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    coord: web::Query<CoordParam>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let visit = state.db.run(move |conn| visits::get(conn, &actor, id)).await?;
    Ok(HttpResponse::Ok().json(VisitBody::render(visit, &coord)))
}

/// Change what was said about a visit (purpose, notes, outcome, next step); where and when it
/// happened is evidence and does not change.
#[utoipa::path(tag = "visits", security(("bearer" = [])), params(("id" = Uuid, Path), CoordParam), request_body = UpdateVisit, responses(
    (status = 200, body = VisitBody),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[patch("/visits/{id}")]
pub async fn update_visit(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    coord: web::Query<CoordParam>,
    Json(body): Json<UpdateVisit>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let patch = VisitPatch {
        purpose: body.purpose,
        notes: body.notes,
        outcome: body.outcome,
        next_step: body.next_step,
        next_visit_at: body.next_visit_at,
        project_id: body.project_id,
        version: body.version,
    };
    let visit = state.db.run(move |conn| visits::update(conn, &actor, id, patch)).await?;
    Ok(HttpResponse::Ok().json(VisitBody::render(visit, &coord)))
}

/// Delete a visit (kept as a tombstone for offline sync).
#[utoipa::path(tag = "visits", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 204, description = "deleted"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[delete("/visits/{id}")]
pub async fn delete_visit(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    state.db.run(move |conn| visits::delete(conn, &actor, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
