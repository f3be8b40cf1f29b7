//! `/api/v1/org-units`: the org tree.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::context::state::AppState;
use crate::domain::common::create::Created;
use crate::domain::org::org_units::{self, NewOrgUnit, OrgUnit, OrgUnitKind, OrgUnitQuery};
use crate::geo::{LatLon, Territory};
use crate::http::common::extract::{Caller, PageParams};
use crate::http::common::json::Json;
use crate::http::common::problem::{ApiError, Problem};

#[derive(Serialize, utoipa::ToSchema)]
pub struct OrgUnitBody {
    pub id: Uuid,
    pub name: String,
    pub kind: OrgUnitKind,
    pub parent_id: Option<Uuid>,
    /// The branch at the root of this unit's tree.
    pub branch_id: Uuid,
    pub territory: Option<Territory>,
    /// Where the unit is (an outlet's door), WGS-84: supervisions of an outlet are verified
    /// against it.
    pub location: Option<LatLon>,
    /// The organiser's address and phone that the public pages of the unit's events show.
    pub address: String,
    pub contact_phone: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<OrgUnit> for OrgUnitBody {
    fn from(u: OrgUnit) -> Self {
        OrgUnitBody {
            id: u.id,
            name: u.name,
            kind: u.kind,
            parent_id: u.parent_id,
            branch_id: u.branch_id,
            territory: u.territory,
            location: u.location,
            address: u.address,
            contact_phone: u.contact_phone,
            version: u.version,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrgUnit {
    /// Optional client-made id: sending the same id and body again returns the same unit (200);
    /// the same id with another body is a 409.
    pub id: Option<Uuid>,
    #[schema(example = "蓬江支行")]
    pub name: String,
    pub kind: OrgUnitKind,
    /// Required for a sub-branch (its branch) and an outlet (its sub-branch); absent for a branch.
    pub parent_id: Option<Uuid>,
    /// GeoJSON Polygon or MultiPolygon in WGS-84.
    pub territory: Option<Territory>,
    /// Where the unit is, WGS-84 (an outlet's door).
    pub location: Option<LatLon>,
    /// The address the public pages of the unit's events give for the organiser.
    #[serde(default)]
    #[schema(example = "江门市蓬江区北街 12 号")]
    pub address: String,
    /// The public contact phone (a landline, a mobile or a 95xxx line) those pages give.
    #[serde(default)]
    #[schema(example = "0750-3201234")]
    pub contact_phone: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct OrgUnitPage {
    pub items: Vec<OrgUnitBody>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrgUnitFilters {
    pub kind: Option<OrgUnitKind>,
    pub parent_id: Option<Uuid>,
}

/// Create an org unit inside your subtree.
#[utoipa::path(tag = "org-units", security(("bearer" = [])), request_body = CreateOrgUnit, responses(
    (status = 201, body = OrgUnitBody),
    (status = 200, description = "the same id and body were sent before", body = OrgUnitBody),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "parent not found in your scope", body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[post("/org-units")]
pub async fn create_org_unit(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    Json(body): Json<CreateOrgUnit>,
) -> Result<HttpResponse, ApiError> {
    let input = NewOrgUnit {
        id: body.id,
        name: body.name,
        kind: body.kind,
        parent_id: body.parent_id,
        territory: body.territory,
        location: body.location,
        address: body.address,
        contact_phone: body.contact_phone,
    };
    let created = state.db.run(move |conn| org_units::create(conn, &actor, input)).await?;
    Ok(match created {
        Created::New(unit) => HttpResponse::Created()
            .insert_header(("Location", format!("/api/v1/org-units/{}", unit.id)))
            .json(OrgUnitBody::from(unit)),
        Created::Existing(unit) => HttpResponse::Ok().json(OrgUnitBody::from(unit)),
    })
}

/// List the org units in your subtree.
#[utoipa::path(tag = "org-units", security(("bearer" = [])), params(PageParams, OrgUnitFilters), responses(
    (status = 200, body = OrgUnitPage),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[get("/org-units")]
pub async fn list_org_units(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    page: web::Query<PageParams>,
    filters: web::Query<OrgUnitFilters>,
) -> Result<HttpResponse, ApiError> {
    let page = page.to_request()?;
    let query = OrgUnitQuery { kind: filters.kind, parent_id: filters.parent_id };
    let page = state.db.run(move |conn| org_units::list(conn, &actor, &query, &page)).await?;
    Ok(HttpResponse::Ok().json(OrgUnitPage {
        items: page.items.into_iter().map(OrgUnitBody::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One org unit of your subtree.
#[utoipa::path(tag = "org-units", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = OrgUnitBody),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/org-units/{id}")]
pub async fn get_org_unit(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let unit = state.db.run(move |conn| org_units::get(conn, &actor, id)).await?;
    Ok(HttpResponse::Ok().json(OrgUnitBody::from(unit)))
}

/// Accepts an explicit `null` as "remove", telling it apart from an absent field.
fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrgUnit {
    pub name: Option<String>,
    /// A new territory (GeoJSON Polygon or MultiPolygon, WGS-84), or `null` to remove it.
    /// Partners' territories are re-derived at once.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(nullable)]
    pub territory: Option<Option<Territory>>,
    /// A new location (WGS-84), or `null` to remove it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(nullable)]
    pub location: Option<Option<LatLon>>,
    /// The organiser's address on the public pages of the unit's events (empty to clear).
    pub address: Option<String>,
    /// The organiser's public contact phone on those pages (empty to clear).
    pub contact_phone: Option<String>,
    /// The version you last read; a stale one answers 409.
    pub version: Option<i64>,
}

/// Rename an org unit or redraw its territory.
#[utoipa::path(tag = "org-units", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = UpdateOrgUnit, responses(
    (status = 200, body = OrgUnitBody),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[patch("/org-units/{id}")]
pub async fn update_org_unit(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    Json(body): Json<UpdateOrgUnit>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let patch = org_units::OrgUnitPatch {
        name: body.name,
        territory: body.territory,
        location: body.location,
        address: body.address,
        contact_phone: body.contact_phone,
        version: body.version,
    };
    let thresholds = state.settings.verification;
    let unit = state
        .db
        .run(move |conn| crate::domain::supervision::supervisions::update_unit(conn, &actor, &thresholds, id, patch))
        .await?;
    Ok(HttpResponse::Ok().json(OrgUnitBody::from(unit)))
}
