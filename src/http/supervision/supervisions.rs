//! `/api/v1/supervisions` and `/api/v1/findings`: supervisors' visits to outlets, scored on the
//! method's checklist, with their findings and review.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::context::state::AppState;
use crate::domain::common::create::Created;
use crate::domain::common::evidence::Evidence;
use crate::domain::supervision::findings::{self, Finding, FindingPatch, FindingQuery, FindingStatus, NewFinding};
use crate::domain::supervision::supervisions::{
    self, ChecklistInput, NewSupervision, Supervision, SupervisionItem, SupervisionPatch, SupervisionPhotos,
    SupervisionQuery,
};
use crate::geo::LatLon;
use crate::http::common::extract::{Caller, CoordParam, PageParams};
use crate::http::common::json::Json;
use crate::http::common::problem::{ApiError, Problem};
use crate::http::field::evidence;
use crate::http::field::visits::{VerificationBody, VisitLocation};

#[derive(Serialize, utoipa::ToSchema)]
pub struct ItemPhotoBody {
    pub sha256: String,
    pub width: u32,
    pub height: u32,
    pub uploaded_by: Uuid,
    pub uploaded_at: DateTime<Utc>,
    pub url: String,
    pub thumbnail_url: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ChecklistEntryBody {
    pub item: SupervisionItem,
    /// The method's wording of the item.
    pub label: String,
    /// 1 (poor) to 5 (exemplary).
    pub score: u8,
    pub notes: String,
    pub photos: Vec<ItemPhotoBody>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FindingBody {
    pub id: Uuid,
    pub supervision_id: Uuid,
    /// The owner's unit: the finding shows in its morning report once overdue.
    pub org_unit_id: Uuid,
    pub owner_id: Uuid,
    pub title: String,
    pub detail: String,
    pub due_on: NaiveDate,
    pub status: FindingStatus,
    /// Open past its due day (in the branch's time zone).
    pub overdue: bool,
    pub done_at: Option<DateTime<Utc>>,
    pub done_by: Option<Uuid>,
    pub done_note: Option<String>,
    pub created_by: Uuid,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl FindingBody {
    pub fn render(f: Finding, today: NaiveDate) -> Self {
        FindingBody {
            overdue: f.overdue_on(today),
            id: f.id,
            supervision_id: f.supervision_id,
            org_unit_id: f.org_unit_id,
            owner_id: f.owner_id,
            title: f.title,
            detail: f.detail,
            due_on: f.due_on,
            status: f.status,
            done_at: f.done_at,
            done_by: f.done_by,
            done_note: f.done_note,
            created_by: f.created_by,
            version: f.version,
            created_at: f.created_at,
            updated_at: f.updated_at,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SupervisionBody {
    pub id: Uuid,
    /// The outlet supervised.
    pub org_unit_id: Uuid,
    pub supervisor_id: Uuid,
    pub project_id: Option<Uuid>,
    pub visited_at: DateTime<Utc>,
    pub location: VisitLocation,
    pub mock_location: Option<bool>,
    pub location_age_s: Option<f64>,
    /// Verified like a visit, against the outlet's door (`distance_m` from it, within 300 m).
    pub verification: VerificationBody,
    pub checklist: Vec<ChecklistEntryBody>,
    /// The review (复盘): what worked, and what to change.
    pub review_worked: String,
    pub review_change: String,
    /// Its findings (on the single record; lists leave them out).
    pub findings: Option<Vec<FindingBody>>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn photo_body(id: Uuid, p: &Evidence) -> ItemPhotoBody {
    ItemPhotoBody {
        url: format!("/api/v1/supervisions/{id}/photos/{}", p.sha256),
        thumbnail_url: format!("/api/v1/supervisions/{id}/photos/{}/thumbnail", p.sha256),
        sha256: p.sha256.clone(),
        width: p.width,
        height: p.height,
        uploaded_by: p.uploaded_by,
        uploaded_at: p.uploaded_at,
    }
}

impl SupervisionBody {
    pub fn render(s: Supervision, findings: Option<(Vec<Finding>, NaiveDate)>, coord: &CoordParam) -> Self {
        let at = coord.outgoing(s.location);
        let distance = s.distance_m.map(|m| (m * 10.0).round() / 10.0);
        SupervisionBody {
            checklist: s
                .checklist
                .iter()
                .map(|e| ChecklistEntryBody {
                    item: e.item,
                    label: e.item.label().to_owned(),
                    score: e.score,
                    notes: e.notes.clone(),
                    photos: e.photos.iter().map(|p| photo_body(s.id, p)).collect(),
                })
                .collect(),
            findings: findings.map(|(list, today)| list.into_iter().map(|f| FindingBody::render(f, today)).collect()),
            id: s.id,
            org_unit_id: s.org_unit_id,
            supervisor_id: s.supervisor_id,
            project_id: s.project_id,
            visited_at: s.visited_at,
            location: VisitLocation { lat: at.lat, lon: at.lon, accuracy_m: s.accuracy_m },
            mock_location: s.mock_location,
            location_age_s: s.location_age_s,
            verification: VerificationBody { verified: s.verified, distance_m: distance, reasons: s.reasons },
            review_worked: s.review_worked,
            review_change: s.review_change,
            version: s.version,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

#[derive(Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistEntryInput {
    pub item: SupervisionItem,
    /// 1 (poor) to 5 (exemplary).
    pub score: i64,
    pub notes: Option<String>,
}

fn items(list: Vec<ChecklistEntryInput>) -> Vec<ChecklistInput> {
    list.into_iter().map(|e| ChecklistInput { item: e.item, score: e.score, notes: e.notes }).collect()
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSupervision {
    /// Client-made id (phones record offline): the same id and body again return the same
    /// supervision (200); the same id with another body is a 409.
    pub id: Option<Uuid>,
    /// The outlet supervised.
    pub org_unit_id: Uuid,
    /// The segment project looked at, if one.
    pub project_id: Option<Uuid>,
    pub location: VisitLocation,
    pub visited_at: DateTime<Utc>,
    pub mock_location: Option<bool>,
    pub location_age_s: Option<f64>,
    /// The method's checklist, each item at most once.
    #[serde(default)]
    pub checklist: Vec<ChecklistEntryInput>,
    pub review_worked: Option<String>,
    pub review_change: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSupervision {
    /// Replaces the checklist; an item scored again keeps its photos.
    pub checklist: Option<Vec<ChecklistEntryInput>>,
    pub review_worked: Option<String>,
    pub review_change: Option<String>,
    pub project_id: Option<Uuid>,
    /// The version you last read; a stale one answers 409.
    pub version: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SupervisionPage {
    pub items: Vec<SupervisionBody>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SupervisionFilters {
    /// One outlet's supervisions.
    pub org_unit_id: Option<Uuid>,
    pub supervisor_id: Option<Uuid>,
    pub project_id: Option<Uuid>,
    /// At or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Before this time.
    pub to: Option<DateTime<Utc>>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemParam {
    /// The checklist item the photo is evidence for (scored already).
    pub item: SupervisionItem,
}

#[derive(Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateFinding {
    /// Client-made id: the same id and body again return the same finding (200).
    pub id: Option<Uuid>,
    pub title: String,
    pub detail: Option<String>,
    /// Who must act on it: an active user of the branch in your scope.
    pub owner_id: Uuid,
    /// The day it must be done by.
    pub due_on: NaiveDate,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateFinding {
    /// `done` closes it (the owner, the supervisor or a manager); `open` reopens it (the
    /// supervisor or a manager).
    pub status: Option<FindingStatus>,
    /// What was done about it.
    pub done_note: Option<String>,
    pub title: Option<String>,
    pub detail: Option<String>,
    pub owner_id: Option<Uuid>,
    pub due_on: Option<NaiveDate>,
    /// The version you last read; a stale one answers 409.
    pub version: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FindingPage {
    pub items: Vec<FindingBody>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FindingFilters {
    pub supervision_id: Option<Uuid>,
    pub owner_id: Option<Uuid>,
    /// The owner's unit.
    pub org_unit_id: Option<Uuid>,
    pub status: Option<FindingStatus>,
    /// Only open findings past their due day.
    pub overdue: Option<bool>,
}

/// Record a supervision visit to an outlet: supervisors and managers. The answer carries the
/// verification verdict against the outlet's location.
#[utoipa::path(tag = "supervision", security(("bearer" = [])), params(CoordParam), request_body = CreateSupervision, responses(
    (status = 201, body = SupervisionBody),
    (status = 200, description = "the same id and body were sent before", body = SupervisionBody),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "outlet not in your scope", body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[post("/supervisions")]
pub async fn create_supervision(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    coord: web::Query<CoordParam>,
    Json(body): Json<CreateSupervision>,
) -> Result<HttpResponse, ApiError> {
    let input = NewSupervision {
        id: body.id,
        org_unit_id: body.org_unit_id,
        project_id: body.project_id,
        location: coord.incoming("location", LatLon { lat: body.location.lat, lon: body.location.lon })?,
        accuracy_m: body.location.accuracy_m,
        visited_at: body.visited_at,
        mock_location: body.mock_location,
        location_age_s: body.location_age_s,
        checklist: items(body.checklist),
        review_worked: body.review_worked,
        review_change: body.review_change,
    };
    let thresholds = state.settings.verification;
    let created = state.db.run(move |conn| supervisions::create(conn, &actor, &thresholds, input)).await?;
    Ok(match created {
        Created::New(s) => HttpResponse::Created()
            .insert_header(("Location", format!("/api/v1/supervisions/{}", s.id)))
            .json(SupervisionBody::render(s, None, &coord)),
        Created::Existing(s) => HttpResponse::Ok().json(SupervisionBody::render(s, None, &coord)),
    })
}

/// Supervisions of your subtree (an outlet's staff see their outlet's).
#[utoipa::path(tag = "supervision", security(("bearer" = [])), params(PageParams, SupervisionFilters, CoordParam), responses(
    (status = 200, body = SupervisionPage),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[get("/supervisions")]
pub async fn list_supervisions(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    page: web::Query<PageParams>,
    filters: web::Query<SupervisionFilters>,
    coord: web::Query<CoordParam>,
) -> Result<HttpResponse, ApiError> {
    let page = page.to_request()?;
    crate::http::common::extract::time_filters(&[("from", filters.from), ("to", filters.to)])?;
    let query = SupervisionQuery {
        org_unit_id: filters.org_unit_id,
        supervisor_id: filters.supervisor_id,
        project_id: filters.project_id,
        from: filters.from,
        to: filters.to,
    };
    let page = state.db.run(move |conn| supervisions::list(conn, &actor, &query, &page)).await?;
    Ok(HttpResponse::Ok().json(SupervisionPage {
        items: page.items.into_iter().map(|s| SupervisionBody::render(s, None, &coord)).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One supervision with its findings.
#[utoipa::path(tag = "supervision", security(("bearer" = [])), params(("id" = Uuid, Path), CoordParam), responses(
    (status = 200, body = SupervisionBody),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/supervisions/{id}")]
pub async fn get_supervision(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    coord: web::Query<CoordParam>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let (s, findings, today) = state.db.run(move |conn| findings::get_with_findings(conn, &actor, id)).await?;
    Ok(HttpResponse::Ok().json(SupervisionBody::render(s, Some((findings, today)), &coord)))
}

/// Rescore the checklist, write the review, link a project: its supervisor or a manager over the
/// outlet. Where and when it happened is evidence and does not change.
#[utoipa::path(tag = "supervision", security(("bearer" = [])), params(("id" = Uuid, Path), CoordParam), request_body = UpdateSupervision, responses(
    (status = 200, body = SupervisionBody),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[patch("/supervisions/{id}")]
pub async fn update_supervision(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    coord: web::Query<CoordParam>,
    Json(body): Json<UpdateSupervision>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let patch = SupervisionPatch {
        checklist: body.checklist.map(items),
        review_worked: body.review_worked,
        review_change: body.review_change,
        project_id: body.project_id,
        version: body.version,
    };
    let thresholds = state.settings.verification;
    let s = state.db.run(move |conn| supervisions::update(conn, &actor, &thresholds, id, patch)).await?;
    Ok(HttpResponse::Ok().json(SupervisionBody::render(s, None, &coord)))
}

/// Delete a supervision and its findings (kept as tombstones for offline sync).
#[utoipa::path(tag = "supervision", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 204, description = "deleted"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[delete("/supervisions/{id}")]
pub async fn delete_supervision(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    state.db.run(move |conn| supervisions::delete(conn, &actor, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Add an evidence photo to a scored checklist item (multipart `file` or a raw image body).
#[utoipa::path(tag = "supervision", security(("bearer" = [])), params(("id" = Uuid, Path), ItemParam, CoordParam),
    request_body(content = Vec<u8>, description = "the image, raw or as multipart field `file`", content_type = "image/jpeg"),
    responses(
        (status = 201, body = SupervisionBody),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/supervisions/{id}/photos")]
pub async fn add_supervision_photo(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    item: web::Query<ItemParam>,
    coord: web::Query<CoordParam>,
    req: actix_web::HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (id, item) = (id.into_inner(), item.item);
    let photo = evidence::upload::<SupervisionPhotos>(&req, payload, &state, &actor, id, item).await?;
    let thresholds = state.settings.verification;
    let s = state.db.run(move |conn| supervisions::attach_photo(conn, &actor, &thresholds, id, item, photo)).await?;
    Ok(HttpResponse::Created().json(SupervisionBody::render(s, None, &coord)))
}

evidence::evidence_downloads! {
    holder: SupervisionPhotos, tag: "supervision",
    full: get_supervision_photo => "/supervisions/{id}/photos/{sha256}", "An evidence photo (JPEG).",
    thumbnail: get_supervision_photo_thumbnail => "/supervisions/{id}/photos/{sha256}/thumbnail", "An evidence photo's thumbnail (JPEG).",
}

/// Leave a finding with an owner and a due day: the supervision's supervisor or a manager over
/// the outlet.
#[utoipa::path(tag = "supervision", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = CreateFinding, responses(
    (status = 201, body = FindingBody),
    (status = 200, description = "the same id and body were sent before", body = FindingBody),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[post("/supervisions/{id}/findings")]
pub async fn add_finding(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    Json(body): Json<CreateFinding>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let input = NewFinding {
        id: body.id,
        title: body.title,
        detail: body.detail,
        owner_id: body.owner_id,
        due_on: body.due_on,
    };
    let (created, today) = state.db.run(move |conn| findings::add_finding(conn, &actor, id, input)).await?;
    Ok(match created {
        Created::New(f) => HttpResponse::Created()
            .insert_header(("Location", format!("/api/v1/findings/{}", f.id)))
            .json(FindingBody::render(f, today)),
        Created::Existing(f) => HttpResponse::Ok().json(FindingBody::render(f, today)),
    })
}

/// Findings in your subtree, and your own anywhere.
#[utoipa::path(tag = "supervision", security(("bearer" = [])), params(PageParams, FindingFilters), responses(
    (status = 200, body = FindingPage),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[get("/findings")]
pub async fn list_findings(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    page: web::Query<PageParams>,
    filters: web::Query<FindingFilters>,
) -> Result<HttpResponse, ApiError> {
    let page = page.to_request()?;
    let query = FindingQuery {
        supervision_id: filters.supervision_id,
        owner_id: filters.owner_id,
        org_unit_id: filters.org_unit_id,
        status: filters.status,
        overdue: filters.overdue,
    };
    let (page, today) = state.db.run(move |conn| findings::list_findings(conn, &actor, &query, &page)).await?;
    Ok(HttpResponse::Ok().json(FindingPage {
        items: page.items.into_iter().map(|f| FindingBody::render(f, today)).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One finding.
#[utoipa::path(tag = "supervision", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = FindingBody),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/findings/{id}")]
pub async fn get_finding(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let (f, today) = state.db.run(move |conn| findings::get_finding(conn, &actor, id)).await?;
    Ok(HttpResponse::Ok().json(FindingBody::render(f, today)))
}

/// Close a finding (its owner), or change what it says, its owner or its due day (its supervisor
/// or a manager over the outlet).
#[utoipa::path(tag = "supervision", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = UpdateFinding, responses(
    (status = 200, body = FindingBody),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[patch("/findings/{id}")]
pub async fn update_finding(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    Json(body): Json<UpdateFinding>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let patch = FindingPatch {
        status: body.status,
        done_note: body.done_note,
        title: body.title,
        detail: body.detail,
        owner_id: body.owner_id,
        due_on: body.due_on,
        version: body.version,
    };
    let (f, today) = state.db.run(move |conn| findings::update_finding(conn, &actor, id, patch)).await?;
    Ok(HttpResponse::Ok().json(FindingBody::render(f, today)))
}
