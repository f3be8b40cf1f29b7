//! `GET /sync/pull`: the change feed of the caller's scope since a cursor, rendered as the REST
//! API renders each record.

use actix_web::{HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::cursor::{decode_cursor, encode_cursor};
use crate::context::state::AppState;
use crate::domain::sync::legacy::{self as sync, TableChanges};
use crate::http::common::extract::{Caller, CoordParam};
use crate::http::common::problem::{ApiError, Problem};
use crate::http::field::partners::PartnerBody;
use crate::http::field::photos::PhotoBody;
use crate::http::field::visits::VisitBody;
use crate::http::supervision::supervisions::{FindingBody, SupervisionBody};

#[derive(Serialize, utoipa::ToSchema)]
pub struct TableBody<T> {
    pub created: Vec<T>,
    pub updated: Vec<T>,
    pub deleted: Vec<Uuid>,
}

fn table<D, T>(changes: TableChanges<D>, render: impl Fn(D) -> T) -> TableBody<T> {
    TableBody {
        created: changes.created.into_iter().map(&render).collect(),
        updated: changes.updated.into_iter().map(&render).collect(),
        deleted: changes.deleted,
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PullChanges {
    pub partners: TableBody<PartnerBody>,
    pub visits: TableBody<VisitBody>,
    pub visit_photos: TableBody<PhotoBody>,
    /// Supervisions of outlets in your subtree: an outlet's staff get their outlet's.
    pub supervisions: TableBody<SupervisionBody>,
    /// Findings in your subtree: an account manager gets their outlet's, their own among them.
    pub supervision_findings: TableBody<FindingBody>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PullResponse {
    pub changes: PullChanges,
    /// Send it back as `cursor` on the next pull.
    pub cursor: String,
    /// More changes are waiting: pull again at once with the new cursor.
    pub has_more: bool,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PullParams {
    /// The `cursor` of the previous pull; absent (or empty) for a first, full sync.
    pub cursor: Option<String>,
    /// Changes per page, 1–1000 (default 500).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

/// Changes in your scope since a cursor, with tombstones, oldest first.
#[utoipa::path(tag = "sync", security(("bearer" = [])), params(PullParams, CoordParam), responses(
    (status = 200, body = PullResponse),
    (status = 409, description = "resync_required: the cursor belongs to your former scope", body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[get("/sync/pull")]
pub async fn pull(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    params: web::Query<PullParams>,
    coord: web::Query<CoordParam>,
) -> Result<HttpResponse, ApiError> {
    let after = params.cursor.as_deref().filter(|c| !c.is_empty()).map(|c| decode_cursor(c, &actor)).transpose()?;
    let limit = params.limit.unwrap_or(500);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::field("limit", "must be between 1 and 1000"));
    }
    let viewer = actor.clone();
    let pulled =
        state.db.run(move |conn| sync::pull(conn, &actor, after, usize::try_from(limit).unwrap_or(500))).await?;
    Ok(HttpResponse::Ok().json(PullResponse {
        changes: PullChanges {
            partners: table(pulled.partners, |p| PartnerBody::render(p, &viewer, &coord)),
            visits: table(pulled.visits, |v| VisitBody::render(v, &coord)),
            visit_photos: table(pulled.visit_photos, |p| PhotoBody::render(p, &coord)),
            supervisions: table(pulled.supervisions, |s| SupervisionBody::render(s, None, &coord)),
            supervision_findings: table(pulled.supervision_findings, |f| FindingBody::render(f, pulled.today)),
        },
        cursor: encode_cursor(pulled.cursor, &viewer),
        has_more: pulled.has_more,
    }))
}
