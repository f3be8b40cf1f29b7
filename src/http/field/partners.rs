//! `/api/v1/partners`: alliance partners.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::context::state::AppState;
use crate::domain::Actor;
use crate::domain::common::create::Created;
use crate::domain::common::phone_privacy::PhoneHolder;
use crate::domain::field::partner_search;
use crate::domain::field::partners::{self, NewPartner, Partner, PartnerPatch, PartnerQuery};
use crate::domain::kinds::partner_kind::{AudienceUnit, PartnerCategory, PartnerStatus};
use crate::geo::LatLon;
use crate::http::common::extract::{Caller, CoordParam, PageParams};
use crate::http::common::json::Json;
use crate::http::common::problem::{ApiError, Problem};

#[derive(Serialize, utoipa::ToSchema)]
pub struct PartnerBody {
    pub id: Uuid,
    pub name: String,
    pub category: PartnerCategory,
    pub status: PartnerStatus,
    /// In the datum of `?coord=`.
    pub location: LatLon,
    pub address: String,
    pub contact_name: Option<String>,
    /// Full for the owner and managers, masked (`138****5678`) for others.
    pub contact_phone: Option<String>,
    pub audience_size: Option<i64>,
    pub audience_unit: Option<AudienceUnit>,
    pub pain_points: Vec<String>,
    pub agreed_benefits: Vec<String>,
    pub visit_cadence_days: i32,
    pub geofence_m: i32,
    pub owner_id: Uuid,
    pub org_unit_id: Uuid,
    /// The deepest org unit whose territory holds the location.
    pub territory_unit_id: Option<Uuid>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl PartnerBody {
    pub fn render(p: Partner, viewer: &Actor, coord: &CoordParam) -> PartnerBody {
        let holder = PhoneHolder::in_care_of(p.owner_id);
        PartnerBody {
            id: p.id,
            name: p.name,
            category: p.category,
            status: p.status,
            location: coord.outgoing(p.location),
            address: p.address,
            contact_name: p.contact_name,
            contact_phone: p.contact_phone.map(|ph| holder.show(viewer, ph)),
            audience_size: p.audience_size,
            audience_unit: p.audience_unit,
            pain_points: p.pain_points,
            agreed_benefits: p.agreed_benefits,
            visit_cadence_days: p.visit_cadence_days,
            geofence_m: p.geofence_m,
            owner_id: p.owner_id,
            org_unit_id: p.org_unit_id,
            territory_unit_id: p.territory_unit_id,
            version: p.version,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DuplicateBody {
    pub id: Uuid,
    pub name: String,
    pub distance_m: f64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedPartnerBody {
    #[serde(flatten)]
    pub partner: PartnerBody,
    /// Partners within 100 m with a similar name: shown to the user, not blocking.
    pub possible_duplicates: Vec<DuplicateBody>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePartner {
    /// Optional client-made id: the same id and body again return the same partner (200).
    pub id: Option<Uuid>,
    #[schema(example = "华润万家(江门店)")]
    pub name: String,
    pub category: PartnerCategory,
    /// Default `prospect`.
    pub status: Option<PartnerStatus>,
    pub location: LatLon,
    pub address: Option<String>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub audience_size: Option<i64>,
    /// Default per category (households for a community, students for a school, …).
    pub audience_unit: Option<AudienceUnit>,
    pub pain_points: Option<Vec<String>>,
    pub agreed_benefits: Option<Vec<String>>,
    /// Default per category (14 days for shops and markets, 30 for the others).
    pub visit_cadence_days: Option<i32>,
    /// Default 200 m.
    pub geofence_m: Option<i32>,
    /// Managers only; default the caller.
    pub owner_id: Option<Uuid>,
    /// Managers only; default the owner's org unit.
    pub org_unit_id: Option<Uuid>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePartner {
    pub name: Option<String>,
    pub category: Option<PartnerCategory>,
    /// A move along the alliance pipeline; others answer 409 `invalid_transition`.
    pub status: Option<PartnerStatus>,
    /// Kept in the status history with the move.
    pub status_note: Option<String>,
    pub location: Option<LatLon>,
    pub address: Option<String>,
    /// An empty string clears it.
    pub contact_name: Option<String>,
    /// An empty string clears it.
    pub contact_phone: Option<String>,
    pub audience_size: Option<i64>,
    pub audience_unit: Option<AudienceUnit>,
    pub pain_points: Option<Vec<String>>,
    pub agreed_benefits: Option<Vec<String>>,
    pub visit_cadence_days: Option<i32>,
    pub geofence_m: Option<i32>,
    pub owner_id: Option<Uuid>,
    pub org_unit_id: Option<Uuid>,
    /// The version you last read; a stale one answers 409 `version_conflict`.
    pub version: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PartnerPage {
    pub items: Vec<PartnerBody>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PartnerFilters {
    pub category: Option<PartnerCategory>,
    pub status: Option<PartnerStatus>,
    pub owner_id: Option<Uuid>,
    pub org_unit_id: Option<Uuid>,
    pub territory_unit_id: Option<Uuid>,
    /// Text in the name or the address.
    pub q: Option<String>,
    /// `minLon,minLat,maxLon,maxLat` in the datum of `coord`.
    pub bbox: Option<String>,
    /// Only partners changed at or after this time (RFC 3339).
    pub updated_since: Option<DateTime<Utc>>,
}

/// Create a partner. Answers 201 with any possible duplicates nearby.
#[utoipa::path(tag = "partners", security(("bearer" = [])), params(CoordParam), request_body = CreatePartner, responses(
    (status = 201, body = CreatedPartnerBody),
    (status = 200, description = "the same id and body were sent before", body = CreatedPartnerBody),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "owner or org unit not in your scope", body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[post("/partners")]
pub async fn create_partner(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    coord: web::Query<CoordParam>,
    Json(body): Json<CreatePartner>,
) -> Result<HttpResponse, ApiError> {
    let input = NewPartner {
        id: body.id,
        name: body.name,
        category: body.category,
        status: body.status,
        location: coord.incoming("location", body.location)?,
        address: body.address,
        contact_name: body.contact_name,
        contact_phone: body.contact_phone,
        audience_size: body.audience_size,
        audience_unit: body.audience_unit,
        pain_points: body.pain_points,
        agreed_benefits: body.agreed_benefits,
        visit_cadence_days: body.visit_cadence_days,
        geofence_m: body.geofence_m,
        owner_id: body.owner_id,
        org_unit_id: body.org_unit_id,
    };
    let viewer = actor.clone();
    // The create on the writer thread; the duplicate search, advice only, after its commit.
    let created = state.db.write(move |conn| partners::create(conn, &actor, input)).await?;
    let (mut response, partner, possible_duplicates) = match created {
        Created::New(p) => {
            let mut r = HttpResponse::Created();
            r.insert_header(("Location", format!("/api/v1/partners/{}", p.id)));
            let (index, actor) = (state.map.clone(), viewer.clone());
            let (p, found) = state
                .db
                .run(move |conn| partner_search::possible_duplicates(conn, &index, &actor, &p).map(|found| (p, found)))
                .await?;
            (r, p, found)
        }
        Created::Existing(p) => (HttpResponse::Ok(), p, Vec::new()),
    };
    let possible_duplicates = possible_duplicates
        .into_iter()
        .map(|d| DuplicateBody { id: d.id, name: d.name, distance_m: (d.distance_m * 10.0).round() / 10.0 })
        .collect();
    Ok(response
        .json(CreatedPartnerBody { partner: PartnerBody::render(partner, &viewer, &coord), possible_duplicates }))
}

/// List partners in your scope.
#[utoipa::path(tag = "partners", security(("bearer" = [])), params(PageParams, PartnerFilters, CoordParam), responses(
    (status = 200, body = PartnerPage),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[get("/partners")]
pub async fn list_partners(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    page: web::Query<PageParams>,
    filters: web::Query<PartnerFilters>,
    coord: web::Query<CoordParam>,
) -> Result<HttpResponse, ApiError> {
    let page = page.to_request()?;
    let filters = filters.into_inner();
    crate::http::common::extract::time_filters(&[("updated_since", filters.updated_since)])?;
    let query = PartnerQuery {
        bbox: coord.bbox(filters.bbox.as_deref())?,
        category: filters.category,
        status: filters.status,
        owner_id: filters.owner_id,
        org_unit_id: filters.org_unit_id,
        territory_unit_id: filters.territory_unit_id,
        q: filters.q,
        updated_since: filters.updated_since,
    };
    let viewer = actor.clone();
    let page = state.db.run(move |conn| partners::list(conn, &actor, &query, &page)).await?;
    Ok(HttpResponse::Ok().json(PartnerPage {
        items: page.items.into_iter().map(|p| PartnerBody::render(p, &viewer, &coord)).collect(),
        next_cursor: page.next_cursor,
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NearbyParams {
    /// In the datum of `coord`.
    #[param(minimum = -90.0, maximum = 90.0)]
    pub lat: f64,
    #[param(minimum = -180.0, maximum = 180.0)]
    pub lon: f64,
    /// 1–50000 m, default 1000.
    #[param(minimum = 1.0, maximum = 50000.0)]
    pub radius_m: Option<f64>,
    /// 1–500, default 50.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct NearbyPartner {
    #[serde(flatten)]
    pub partner: PartnerBody,
    /// Geodesic distance from the query point, in metres.
    pub distance_m: f64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct NearbyPage {
    pub items: Vec<NearbyPartner>,
}

/// Partners in your scope by true distance, nearest first.
#[utoipa::path(tag = "partners", security(("bearer" = [])), params(NearbyParams, CoordParam), responses(
    (status = 200, body = NearbyPage),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[get("/partners/nearby")]
pub async fn nearby_partners(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    params: web::Query<NearbyParams>,
    coord: web::Query<CoordParam>,
) -> Result<HttpResponse, ApiError> {
    let center = coord.incoming("lat", LatLon { lat: params.lat, lon: params.lon })?;
    let radius_m = params.radius_m.unwrap_or(1000.0);
    let limit = params.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::field("limit", "must be between 1 and 500"));
    }
    let viewer = actor.clone();
    let index = state.map.clone();
    let limit = usize::try_from(limit).unwrap_or(50);
    let found = state.db.run(move |conn| partner_search::nearby(conn, &index, &actor, center, radius_m, limit)).await?;
    Ok(HttpResponse::Ok().json(NearbyPage {
        items: found
            .into_iter()
            .map(|(p, d)| NearbyPartner {
                partner: PartnerBody::render(p, &viewer, &coord),
                distance_m: (d * 10.0).round() / 10.0,
            })
            .collect(),
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct OutsideTerritoryItem {
    #[serde(flatten)]
    pub partner: PartnerBody,
    /// The unit whose territory governs the owner, and which does not hold the partner.
    pub owner_territory_unit_id: Uuid,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct OutsideTerritoryPage {
    pub items: Vec<OutsideTerritoryItem>,
}

/// Partners located outside their owner's territory.
#[utoipa::path(tag = "partners", security(("bearer" = [])), params(CoordParam), responses((status = 200, body = OutsideTerritoryPage)))]
#[get("/partners/outside-territory")]
pub async fn partners_outside_territory(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    coord: web::Query<CoordParam>,
) -> Result<HttpResponse, ApiError> {
    let viewer = actor.clone();
    let found = state.db.run(move |conn| partner_search::outside_owner_territory(conn, &actor)).await?;
    Ok(HttpResponse::Ok().json(OutsideTerritoryPage {
        items: found
            .into_iter()
            .map(|o| OutsideTerritoryItem {
                partner: PartnerBody::render(o.partner, &viewer, &coord),
                owner_territory_unit_id: o.owner_territory_unit_id,
            })
            .collect(),
    }))
}

/// One partner of your scope.
#[utoipa::path(tag = "partners", security(("bearer" = [])), params(("id" = Uuid, Path), CoordParam), responses(
    (status = 200, body = PartnerBody),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/partners/{id}")]
pub async fn get_partner(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    coord: web::Query<CoordParam>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let viewer = actor.clone();
    let partner = state.db.run(move |conn| partners::get(conn, &actor, id)).await?;
    Ok(HttpResponse::Ok().json(PartnerBody::render(partner, &viewer, &coord)))
}

/// Change a partner: fields, a pipeline move (kept in its history), owner and unit (managers).
#[utoipa::path(tag = "partners", security(("bearer" = [])), params(("id" = Uuid, Path), CoordParam), request_body = UpdatePartner, responses(
    (status = 200, body = PartnerBody),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "invalid_transition or version_conflict", body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[patch("/partners/{id}")]
pub async fn update_partner(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    coord: web::Query<CoordParam>,
    Json(body): Json<UpdatePartner>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let patch = PartnerPatch {
        location: body.location.map(|l| coord.incoming("location", l)).transpose()?,
        name: body.name,
        category: body.category,
        status: body.status,
        status_note: body.status_note,
        address: body.address,
        contact_name: body.contact_name,
        contact_phone: body.contact_phone,
        audience_size: body.audience_size,
        audience_unit: body.audience_unit,
        pain_points: body.pain_points,
        agreed_benefits: body.agreed_benefits,
        visit_cadence_days: body.visit_cadence_days,
        geofence_m: body.geofence_m,
        owner_id: body.owner_id,
        org_unit_id: body.org_unit_id,
        version: body.version,
    };
    let viewer = actor.clone();
    let partner = state.db.run(move |conn| partners::update(conn, &actor, id, patch)).await?;
    Ok(HttpResponse::Ok().json(PartnerBody::render(partner, &viewer, &coord)))
}

/// Delete a partner (kept as a tombstone for offline sync).
#[utoipa::path(tag = "partners", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 204, description = "deleted"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[delete("/partners/{id}")]
pub async fn delete_partner(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    state.db.run(move |conn| partners::delete(conn, &actor, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct StatusChangeBody {
    pub id: Uuid,
    pub from_status: Option<PartnerStatus>,
    pub to_status: PartnerStatus,
    pub changed_by: Uuid,
    pub note: Option<String>,
    pub changed_at: DateTime<Utc>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct StatusHistoryPage {
    pub items: Vec<StatusChangeBody>,
    pub next_cursor: Option<String>,
}

/// The partner's moves along the alliance pipeline, oldest first.
#[utoipa::path(tag = "partners", security(("bearer" = [])), params(("id" = Uuid, Path), PageParams), responses(
    (status = 200, body = StatusHistoryPage),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/partners/{id}/history")]
pub async fn partner_history(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let page = page.to_request()?;
    let page = state.db.run(move |conn| partners::history(conn, &actor, id, &page)).await?;
    Ok(HttpResponse::Ok().json(StatusHistoryPage {
        items: page
            .items
            .into_iter()
            .map(|c| StatusChangeBody {
                id: c.id,
                from_status: c.from_status,
                to_status: c.to_status,
                changed_by: c.changed_by,
                note: c.note,
                changed_at: c.changed_at,
            })
            .collect(),
        next_cursor: page.next_cursor,
    }))
}
