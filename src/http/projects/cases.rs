//! `/api/v1/cases`: the branch's library of best-practice cases (优秀案例).

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::context::state::AppState;
use crate::domain::common::create::Created;
use crate::domain::kinds::lead_kind::Segment;
use crate::domain::kinds::partner_kind::PartnerCategory;
use crate::domain::projects::cases::{
    self, Case, CasePatch, CasePhotos, CaseQuery, CaseStatus, Figure, NewCase, Useful,
};
use crate::http::common::extract::{Caller, PageParams};
use crate::http::common::json::Json;
use crate::http::common::problem::{ApiError, Problem};
use crate::http::field::evidence;

#[derive(Serialize, utoipa::ToSchema)]
pub struct CaseBody {
    pub id: Uuid,
    /// The unit it was written in; `null` when that unit is outside your subtree (a published
    /// case is read across the branch): `unit_name` still says where it comes from.
    pub org_unit_id: Option<Uuid>,
    pub unit_name: String,
    /// Its author; `null` outside your subtree, like `org_unit_id`.
    pub author_id: Option<Uuid>,
    pub author_name: String,
    pub title: String,
    pub segment: Segment,
    pub partner_category: Option<PartnerCategory>,
    /// What was done: the approach, step by step.
    pub what_done: String,
    /// What came of it, in words.
    pub results: String,
    /// What came of it, in figures.
    pub figures: Vec<Figure>,
    /// The project the figures come from.
    pub project_id: Option<Uuid>,
    pub photos: Vec<CasePhotoBody>,
    pub status: CaseStatus,
    /// Who published it; `null` outside your subtree, like `author_id`.
    pub published_by: Option<Uuid>,
    pub published_at: Option<DateTime<Utc>>,
    /// How many readers marked it useful.
    pub useful_count: i64,
    /// Whether you did.
    pub useful_by_me: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A photo of a case; who uploaded it is the author's or a manager's business, not the reader's.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CasePhotoBody {
    pub sha256: String,
    pub width: u32,
    pub height: u32,
    pub url: String,
    pub thumbnail_url: String,
}

impl From<Case> for CaseBody {
    fn from(c: Case) -> Self {
        let base = format!("/api/v1/cases/{}/photos", c.id);
        let ids = c.reader_sees_author;
        CaseBody {
            photos: c
                .photos
                .iter()
                .map(|p| CasePhotoBody {
                    sha256: p.sha256.clone(),
                    width: p.width,
                    height: p.height,
                    url: format!("{base}/{}", p.sha256),
                    thumbnail_url: format!("{base}/{}/thumbnail", p.sha256),
                })
                .collect(),
            id: c.id,
            org_unit_id: ids.then_some(c.org_unit_id),
            unit_name: c.unit_name,
            author_id: ids.then_some(c.author_id),
            author_name: c.author_name,
            title: c.title,
            segment: c.segment,
            partner_category: c.partner_category,
            what_done: c.what_done,
            results: c.results,
            figures: c.figures,
            project_id: c.project_id,
            status: c.status,
            published_by: c.published_by.filter(|_| ids),
            published_at: c.published_at,
            useful_count: c.useful_count,
            useful_by_me: c.useful_by_me,
            version: c.version,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCase {
    /// Client-made id: the same id and body again return the same case (200).
    pub id: Option<Uuid>,
    pub title: String,
    pub segment: Segment,
    pub partner_category: Option<PartnerCategory>,
    pub what_done: String,
    pub results: String,
    /// At most 12.
    #[serde(default)]
    pub figures: Vec<Figure>,
    /// A project you may see, of your branch.
    pub project_id: Option<Uuid>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCase {
    pub title: Option<String>,
    pub segment: Option<Segment>,
    pub partner_category: Option<PartnerCategory>,
    pub what_done: Option<String>,
    pub results: Option<String>,
    /// Replaces the list.
    pub figures: Option<Vec<Figure>>,
    pub project_id: Option<Uuid>,
    /// The version you last read; a stale one answers 409.
    pub version: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CasePage {
    pub items: Vec<CaseBody>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaseFilters {
    pub status: Option<CaseStatus>,
    pub segment: Option<Segment>,
    pub partner_category: Option<PartnerCategory>,
    pub project_id: Option<Uuid>,
    pub author_id: Option<Uuid>,
    /// Words in the title, what was done or the results.
    pub q: Option<String>,
}

/// Write a case (a draft until a manager over it publishes it).
#[utoipa::path(tag = "cases", security(("bearer" = [])), request_body = CreateCase, responses(
    (status = 201, body = CaseBody),
    (status = 200, description = "the same id and body were sent before", body = CaseBody),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[post("/cases")]
pub async fn create_case(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    Json(body): Json<CreateCase>,
) -> Result<HttpResponse, ApiError> {
    let input = NewCase {
        id: body.id,
        title: body.title,
        segment: body.segment,
        partner_category: body.partner_category,
        what_done: body.what_done,
        results: body.results,
        figures: body.figures,
        project_id: body.project_id,
    };
    Ok(match state.db.run(move |conn| cases::create(conn, &actor, input)).await? {
        Created::New(c) => HttpResponse::Created()
            .insert_header(("Location", format!("/api/v1/cases/{}", c.id)))
            .json(CaseBody::from(c)),
        Created::Existing(c) => HttpResponse::Ok().json(CaseBody::from(c)),
    })
}

/// The library: your branch's published cases, and the drafts you may see; newest first.
#[utoipa::path(tag = "cases", security(("bearer" = [])), params(PageParams, CaseFilters), responses(
    (status = 200, body = CasePage),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[get("/cases")]
pub async fn list_cases(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    page: web::Query<PageParams>,
    filters: web::Query<CaseFilters>,
) -> Result<HttpResponse, ApiError> {
    let page = page.to_request()?;
    let filters = filters.into_inner();
    let query = CaseQuery {
        status: filters.status,
        segment: filters.segment,
        partner_category: filters.partner_category,
        project_id: filters.project_id,
        author_id: filters.author_id,
        q: filters.q,
    };
    let page = state.db.run(move |conn| cases::list(conn, &actor, &query, &page)).await?;
    Ok(HttpResponse::Ok()
        .json(CasePage { items: page.items.into_iter().map(CaseBody::from).collect(), next_cursor: page.next_cursor }))
}

/// One case you may see.
#[utoipa::path(tag = "cases", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = CaseBody),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/cases/{id}")]
pub async fn get_case(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let case = state.db.run(move |conn| cases::get(conn, &actor, id)).await?;
    Ok(HttpResponse::Ok().json(CaseBody::from(case)))
}

/// Edit a case: its author while it is a draft, a manager over it at any time.
#[utoipa::path(tag = "cases", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = UpdateCase, responses(
    (status = 200, body = CaseBody),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[patch("/cases/{id}")]
pub async fn update_case(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    Json(body): Json<UpdateCase>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let patch = CasePatch {
        title: body.title,
        segment: body.segment,
        partner_category: body.partner_category,
        what_done: body.what_done,
        results: body.results,
        figures: body.figures,
        project_id: body.project_id,
        version: body.version,
    };
    let case = state.db.run(move |conn| cases::update(conn, &actor, id, patch)).await?;
    Ok(HttpResponse::Ok().json(CaseBody::from(case)))
}

/// Delete a case: its author while it is a draft, a manager over it at any time.
#[utoipa::path(tag = "cases", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 204, description = "deleted"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json"),
))]
#[delete("/cases/{id}")]
pub async fn delete_case(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    state.db.run(move |conn| cases::delete(conn, &actor, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Publish a case to the whole branch: a manager over it.
#[utoipa::path(tag = "cases", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = CaseBody),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[post("/cases/{id}/publish")]
pub async fn publish_case(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let case = state.db.run(move |conn| cases::publish(conn, &actor, id)).await?;
    Ok(HttpResponse::Ok().json(CaseBody::from(case)))
}

/// Take a case back to draft, for its author to rework: a manager over it.
#[utoipa::path(tag = "cases", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = CaseBody),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[post("/cases/{id}/withdraw")]
pub async fn withdraw_case(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let case = state.db.run(move |conn| cases::withdraw(conn, &actor, id)).await?;
    Ok(HttpResponse::Ok().json(CaseBody::from(case)))
}

/// Mark a published case useful (once per reader; again changes nothing).
#[utoipa::path(tag = "cases", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = CaseBody),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "not_published", body = Problem, content_type = "application/problem+json"),
))]
#[post("/cases/{id}/useful")]
pub async fn mark_useful(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let case = state.db.run(move |conn| cases::mark_useful(conn, &actor, id, Useful::Mark)).await?;
    Ok(HttpResponse::Ok().json(CaseBody::from(case)))
}

/// Take your "useful" back.
#[utoipa::path(tag = "cases", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = CaseBody),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "not_published", body = Problem, content_type = "application/problem+json"),
))]
#[delete("/cases/{id}/useful")]
pub async fn unmark_useful(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let case = state.db.run(move |conn| cases::mark_useful(conn, &actor, id, Useful::Unmark)).await?;
    Ok(HttpResponse::Ok().json(CaseBody::from(case)))
}

/// Add a photo (multipart `file` or a raw image body), through the same intake as visit photos.
#[utoipa::path(tag = "cases", security(("bearer" = [])), params(("id" = Uuid, Path)),
    request_body(content = Vec<u8>, description = "the image, raw or as multipart field `file`", content_type = "image/jpeg"),
    responses(
        (status = 201, body = CaseBody),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/cases/{id}/photos")]
pub async fn add_case_photo(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    req: actix_web::HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let photo = evidence::upload::<CasePhotos>(&req, payload, &state, &actor, id, ()).await?;
    let case = state.db.run(move |conn| cases::attach_photo(conn, &actor, id, photo)).await?;
    Ok(HttpResponse::Created().json(CaseBody::from(case)))
}

evidence::evidence_downloads! {
    holder: CasePhotos, tag: "cases",
    full: get_case_photo => "/cases/{id}/photos/{sha256}", "A case's photo (JPEG).",
    thumbnail: get_case_photo_thumbnail => "/cases/{id}/photos/{sha256}/thumbnail", "A case's photo's thumbnail (JPEG).",
}
