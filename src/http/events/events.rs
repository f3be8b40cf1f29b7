//! `/api/v1/events`: non-financial community events and their six steps.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::context::state::AppState;
use crate::domain::common::create::Created;
use crate::domain::common::evidence::Evidence;
use crate::domain::events::event_steps::{self, EventEvidence};
use crate::domain::events::events::{self, Event, EventPatch, EventQuery, NewEvent};
use crate::domain::events::step_plan::{ChecklistItem, EventStep, ReviewFigures, Step};
use crate::domain::kinds::event_kind::{EventStatus, EventTheme};
use crate::geo::LatLon;
use crate::http::common::extract::{Caller, CoordParam, PageParams};
use crate::http::common::json::Json;
use crate::http::common::problem::{ApiError, Problem};
use crate::http::field::evidence;

#[derive(Serialize, utoipa::ToSchema)]
pub struct EventBody {
    pub id: Uuid,
    pub partner_id: Uuid,
    pub project_id: Option<Uuid>,
    pub owner_id: Uuid,
    pub org_unit_id: Uuid,
    pub title: String,
    pub theme: EventTheme,
    pub description: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub venue: String,
    /// In the datum of `?coord=`.
    pub location: LatLon,
    pub capacity: i32,
    pub registered_count: i32,
    pub spots_left: i32,
    pub registration_deadline: DateTime<Utc>,
    /// The unguessable code of the public registration link.
    pub registration_code: String,
    /// The link attendees open (also in the QR code).
    pub registration_url: String,
    pub registration_open: bool,
    pub status: EventStatus,
    /// Days after the event that attendees' data is kept unless they became leads.
    pub retention_days: i32,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl EventBody {
    pub fn render(e: Event, coord: &CoordParam, public_url: &str) -> EventBody {
        EventBody {
            registration_url: format!("{public_url}/e/{}", e.registration_code),
            spots_left: (e.capacity - e.registered_count).max(0),
            location: coord.outgoing(e.location),
            id: e.id,
            partner_id: e.partner_id,
            project_id: e.project_id,
            owner_id: e.owner_id,
            org_unit_id: e.org_unit_id,
            title: e.title,
            theme: e.theme,
            description: e.description,
            starts_at: e.starts_at,
            ends_at: e.ends_at,
            venue: e.venue,
            capacity: e.capacity,
            registered_count: e.registered_count,
            registration_deadline: e.registration_deadline,
            registration_code: e.registration_code,
            registration_open: e.registration_open,
            status: e.status,
            retention_days: e.retention_days,
            version: e.version,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEvent {
    /// Optional client-made id (idempotent create).
    pub id: Option<Uuid>,
    pub partner_id: Uuid,
    pub project_id: Option<Uuid>,
    #[schema(example = "亲子财商小课堂")]
    pub title: String,
    pub theme: EventTheme,
    pub description: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub venue: String,
    /// Default: the partner's location.
    pub location: Option<LatLon>,
    pub capacity: i32,
    /// Default: the start of the event.
    pub registration_deadline: Option<DateTime<Utc>>,
    /// Default 180.
    pub retention_days: Option<i32>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateEvent {
    pub title: Option<String>,
    pub description: Option<String>,
    pub venue: Option<String>,
    pub capacity: Option<i32>,
    pub registration_deadline: Option<DateTime<Utc>>,
    /// Close or reopen public registration.
    pub registration_open: Option<bool>,
    /// `cancelled` cancels a planned event.
    pub status: Option<EventStatus>,
    pub version: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EventPage {
    pub items: Vec<EventBody>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventFilters {
    pub owner_id: Option<Uuid>,
    pub partner_id: Option<Uuid>,
    /// Events starting at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Events starting before this time.
    pub to: Option<DateTime<Utc>>,
    pub status: Option<EventStatus>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct StepBody {
    pub step: Step,
    pub position: i32,
    pub checklist: Vec<ChecklistItem>,
    pub due_at: DateTime<Utc>,
    pub completed: bool,
    pub completed_at: Option<DateTime<Utc>>,
    pub completed_by: Option<Uuid>,
    pub notes: Option<String>,
    /// Photos attached as evidence.
    pub evidence: Vec<EvidenceBody>,
    /// The review step's figures, computed from the data when it completes.
    pub figures: Option<ReviewFigures>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EvidenceBody {
    pub sha256: String,
    pub width: u32,
    pub height: u32,
    pub uploaded_by: Uuid,
    pub uploaded_at: DateTime<Utc>,
    pub url: String,
    pub thumbnail_url: String,
}

impl EvidenceBody {
    /// A stored photo served under `base` (`…/{sha256}` and `…/{sha256}/thumbnail`).
    pub fn render(e: &Evidence, base: &str) -> Self {
        EvidenceBody {
            url: format!("{base}/{}", e.sha256),
            thumbnail_url: format!("{base}/{}/thumbnail", e.sha256),
            sha256: e.sha256.clone(),
            width: e.width,
            height: e.height,
            uploaded_by: e.uploaded_by,
            uploaded_at: e.uploaded_at,
        }
    }
}

impl StepBody {
    fn render(s: EventStep, event_id: Uuid) -> Self {
        let base = format!("/api/v1/events/{event_id}/evidence");
        let evidence = s.evidence.iter().map(|e| EvidenceBody::render(e, &base)).collect();
        StepBody {
            evidence,
            completed: s.completed_at.is_some(),
            step: s.step,
            position: s.position,
            checklist: s.checklist,
            due_at: s.due_at,
            completed_at: s.completed_at,
            completed_by: s.completed_by,
            notes: s.notes,
            figures: s.figures,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct StepList {
    pub items: Vec<StepBody>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditChecklist {
    pub checklist: Vec<ChecklistItem>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteStep {
    pub notes: Option<String>,
}

/// Create an event with one of your partners; it starts with its six steps.
#[utoipa::path(tag = "events", security(("bearer" = [])), params(CoordParam), request_body = CreateEvent, responses(
    (status = 201, body = EventBody),
    (status = 200, description = "the same id and body were sent before", body = EventBody),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "partner not in your scope", body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[post("/events")]
pub async fn create_event(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    coord: web::Query<CoordParam>,
    Json(body): Json<CreateEvent>,
) -> Result<HttpResponse, ApiError> {
    let input = NewEvent {
        location: body.location.map(|l| coord.incoming("location", l)).transpose()?,
        id: body.id,
        partner_id: body.partner_id,
        project_id: body.project_id,
        title: body.title,
        theme: body.theme,
        description: body.description,
        starts_at: body.starts_at,
        ends_at: body.ends_at,
        venue: body.venue,
        capacity: body.capacity,
        registration_deadline: body.registration_deadline,
        retention_days: body.retention_days,
    };
    let created = state.db.run(move |conn| events::create(conn, &actor, input)).await?;
    let url = &state.settings.public_url;
    Ok(match created {
        Created::New(e) => HttpResponse::Created()
            .insert_header(("Location", format!("/api/v1/events/{}", e.id)))
            .json(EventBody::render(e, &coord, url)),
        Created::Existing(e) => HttpResponse::Ok().json(EventBody::render(e, &coord, url)),
    })
}

/// List events in your scope.
#[utoipa::path(tag = "events", security(("bearer" = [])), params(PageParams, EventFilters, CoordParam), responses(
    (status = 200, body = EventPage),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[get("/events")]
pub async fn list_events(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    page: web::Query<PageParams>,
    filters: web::Query<EventFilters>,
    coord: web::Query<CoordParam>,
) -> Result<HttpResponse, ApiError> {
    let page = page.to_request()?;
    crate::http::common::extract::time_filters(&[("from", filters.from), ("to", filters.to)])?;
    let query = EventQuery {
        owner_id: filters.owner_id,
        partner_id: filters.partner_id,
        from: filters.from,
        to: filters.to,
        status: filters.status,
    };
    let page = state.db.run(move |conn| events::list(conn, &actor, &query, &page)).await?;
    let url = &state.settings.public_url;
    Ok(HttpResponse::Ok().json(EventPage {
        items: page.items.into_iter().map(|e| EventBody::render(e, &coord, url)).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One event of your scope.
#[utoipa::path(tag = "events", security(("bearer" = [])), params(("id" = Uuid, Path), CoordParam), responses(
    (status = 200, body = EventBody),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/events/{id}")]
pub async fn get_event(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    coord: web::Query<CoordParam>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let event = state.db.run(move |conn| events::get(conn, &actor, id)).await?;
    Ok(HttpResponse::Ok().json(EventBody::render(event, &coord, &state.settings.public_url)))
}

/// Change an event: text, capacity (never below the registered), deadline, open/close
/// registration, cancel.
#[utoipa::path(tag = "events", security(("bearer" = [])), params(("id" = Uuid, Path), CoordParam), request_body = UpdateEvent, responses(
    (status = 200, body = EventBody),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[patch("/events/{id}")]
pub async fn update_event(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    coord: web::Query<CoordParam>,
    Json(body): Json<UpdateEvent>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let patch = EventPatch {
        title: body.title,
        description: body.description,
        venue: body.venue,
        capacity: body.capacity,
        registration_deadline: body.registration_deadline,
        registration_open: body.registration_open,
        status: body.status,
        version: body.version,
    };
    let event = state.db.run(move |conn| events::update(conn, &actor, id, patch)).await?;
    Ok(HttpResponse::Ok().json(EventBody::render(event, &coord, &state.settings.public_url)))
}

/// The event's six steps, in order.
#[utoipa::path(tag = "events", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = StepList),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/events/{id}/steps")]
pub async fn list_steps(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let steps = state.db.run(move |conn| event_steps::list(conn, &actor, id)).await?;
    Ok(HttpResponse::Ok().json(StepList { items: steps.into_iter().map(|s| StepBody::render(s, id)).collect() }))
}

/// Replace a step's checklist.
#[utoipa::path(tag = "events", security(("bearer" = [])), params(("id" = Uuid, Path), ("step" = Step, Path)), request_body = EditChecklist, responses(
    (status = 200, body = StepBody),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[patch("/events/{id}/steps/{step}")]
pub async fn edit_step(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    path: web::Path<(Uuid, Step)>,
    Json(body): Json<EditChecklist>,
) -> Result<HttpResponse, ApiError> {
    let (id, step) = path.into_inner();
    let step = state.db.run(move |conn| event_steps::edit_checklist(conn, &actor, id, step, body.checklist)).await?;
    Ok(HttpResponse::Ok().json(StepBody::render(step, id)))
}

/// Complete a step; the ones before it must be complete (409 `step_out_of_order`). Completing
/// the review step records its figures and completes the event.
#[utoipa::path(tag = "events", security(("bearer" = [])), params(("id" = Uuid, Path), ("step" = Step, Path)), request_body = CompleteStep, responses(
    (status = 200, body = StepBody),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json"),
))]
#[post("/events/{id}/steps/{step}/complete")]
pub async fn complete_step(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    path: web::Path<(Uuid, Step)>,
    Json(body): Json<CompleteStep>,
) -> Result<HttpResponse, ApiError> {
    let (id, step) = path.into_inner();
    let step = state.db.run(move |conn| event_steps::complete(conn, &actor, id, step, body.notes)).await?;
    Ok(HttpResponse::Ok().json(StepBody::render(step, id)))
}

/// Attach a photo to a step as evidence (multipart `file` or a raw image body); it goes
/// through the same intake as visit photos: limits, sniffing, orientation, no metadata.
#[utoipa::path(tag = "events", security(("bearer" = [])), params(("id" = Uuid, Path), ("step" = Step, Path)),
    request_body(content = Vec<u8>, description = "the image, raw or as multipart field `file`", content_type = "image/jpeg"),
    responses(
        (status = 200, body = StepBody),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/events/{id}/steps/{step}/evidence")]
pub async fn add_evidence(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    path: web::Path<(Uuid, Step)>,
    req: actix_web::HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (id, step) = path.into_inner();
    let evidence = evidence::upload::<EventEvidence>(&req, payload, &state, &actor, id, step).await?;
    let step = state.db.run(move |conn| event_steps::add_evidence(conn, &actor, id, step, evidence)).await?;
    Ok(HttpResponse::Ok().json(StepBody::render(step, id)))
}

evidence::evidence_downloads! {
    holder: EventEvidence, tag: "events",
    full: get_evidence => "/events/{id}/evidence/{sha256}", "An evidence photo (JPEG).",
    thumbnail: get_evidence_thumbnail => "/events/{id}/evidence/{sha256}/thumbnail", "An evidence photo's thumbnail (JPEG).",
}
