//! `POST /sync/push`: a batch of offline changes applied record by record, each answered alone.

use actix_web::{HttpResponse, post, web};
use serde::Serialize;
use uuid::Uuid;

use super::cursor::decode_cursor;
use super::pushed::{PushRequest, id_of, parse_op};
use crate::context::state::AppState;
use crate::domain::sync::legacy::{self as sync, MAX_PUSH, Outcome, Record};
use crate::domain::{Actor, DomainError};
use crate::http::common::extract::{Caller, CoordParam};
use crate::http::common::json::Json;
use crate::http::common::problem::{ApiError, Problem};
use crate::http::field::partners::PartnerBody;
use crate::http::field::visits::VisitBody;
use crate::http::supervision::supervisions::{FindingBody, SupervisionBody};

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PushStatus {
    Created,
    Updated,
    Unchanged,
    Deleted,
    Conflict,
    Rejected,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PushResult {
    pub table: String,
    pub id: Option<Uuid>,
    pub status: PushStatus,
    /// The server's copy: the stored record, or for a conflict the version that won.
    #[schema(value_type = Option<Object>)]
    pub record: Option<serde_json::Value>,
    pub problem: Option<Problem>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PushResponse {
    pub results: Vec<PushResult>,
    /// Pull from here next; your own changes come back as updates.
    pub cursor: Option<String>,
}

fn render(record: Record, viewer: &Actor, coord: &CoordParam) -> Option<serde_json::Value> {
    match record {
        Record::Partner(p) => serde_json::to_value(PartnerBody::render(*p, viewer, coord)).ok(),
        Record::Visit(v) => serde_json::to_value(VisitBody::render(*v, coord)).ok(),
        Record::Supervision(s) => serde_json::to_value(SupervisionBody::render(*s, None, coord)).ok(),
        Record::Finding(f, today) => serde_json::to_value(FindingBody::render(*f, today)).ok(),
    }
}

fn result(table: &str, id: Option<Uuid>, outcome: Outcome, viewer: &Actor, coord: &CoordParam) -> PushResult {
    let (status, record, problem) = match outcome {
        Outcome::Created(r) => (PushStatus::Created, render(r, viewer, coord), None),
        Outcome::Updated(r) => (PushStatus::Updated, render(r, viewer, coord), None),
        Outcome::Unchanged(r) => (PushStatus::Unchanged, r.and_then(|r| render(r, viewer, coord)), None),
        Outcome::Deleted => (PushStatus::Deleted, None, None),
        Outcome::Conflict(r) => (PushStatus::Conflict, render(r, viewer, coord), None),
        Outcome::Rejected(e) => (PushStatus::Rejected, None, Some(ApiError::from(e).problem())),
    };
    PushResult { table: table.to_owned(), id, status, record, problem }
}

/// Apply a batch of offline changes. Every record gets its own result, and its own transaction:
/// one rejected record never loses the others. Pushing the same batch again changes nothing.
#[utoipa::path(tag = "sync", security(("bearer" = [])), params(CoordParam), request_body = PushRequest, responses(
    (status = 200, body = PushResponse),
    (status = 409, description = "resync_required: the cursor sent with the batch belongs to your former scope", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "more than 500 records, or a malformed batch", body = Problem, content_type = "application/problem+json"),
))]
#[post("/sync/push")]
pub async fn push(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    coord: web::Query<CoordParam>,
    Json(body): Json<PushRequest>,
) -> Result<HttpResponse, ApiError> {
    if let Some(cursor) = body.cursor.as_deref().filter(|c| !c.is_empty()) {
        decode_cursor(cursor, &actor)?;
    }
    let count = body.changes.len();
    if count > MAX_PUSH {
        return Err(ApiError::field("changes", format!("at most {MAX_PUSH} records per push; split the batch")));
    }
    let thresholds = state.settings.verification;
    let mut results = Vec::with_capacity(count);
    for (name, kind, value) in body.changes.records() {
        let id = id_of(&value);
        let outcome = match parse_op(name, kind, &value, &coord) {
            Err(problem) => {
                results.push(PushResult {
                    table: name.to_owned(),
                    id,
                    status: PushStatus::Rejected,
                    record: None,
                    problem: Some(problem.problem()),
                });
                continue;
            }
            Ok(op) => {
                let actor = actor.clone();
                state.db.run(move |conn| sync::apply(conn, &actor, &thresholds, op).map_err(DomainError::from)).await?
            }
        };
        results.push(result(name, id, outcome, &actor, &coord));
    }
    Ok(HttpResponse::Ok().json(PushResponse { results, cursor: body.cursor }))
}
