//! `/api/v1/projects/{id}/pool`: the project's award pool (众筹池) — payments in, prizes to stars.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::context::state::AppState;
use crate::domain::common::create::Created;
use crate::domain::common::text::yuan;
use crate::domain::kinds::project_kind::Period;
use crate::domain::projects::award_pool::{self, NewContribution, NewPayout, Pool, PoolEntry, PoolEntryKind};
use crate::http::common::extract::{Caller, MAX_LIMIT, PageParams};
use crate::http::common::json::Json;
use crate::http::common::problem::{ApiError, Problem};

#[derive(Serialize, utoipa::ToSchema)]
pub struct PoolEntryBody {
    pub id: Uuid,
    pub project_id: Uuid,
    /// 1, 2, 3… in the order the pool's entries were made.
    pub position: i64,
    pub kind: PoolEntryKind,
    /// Yuan, to the fen.
    pub amount: f64,
    /// The pool's balance after this entry, in yuan; never negative.
    pub balance: f64,
    /// Who paid in, or the star the prize went to.
    pub user_id: Uuid,
    /// A payout's period, and its first and last day.
    pub period: Option<Period>,
    pub period_from: Option<NaiveDate>,
    pub period_to: Option<NaiveDate>,
    pub note: String,
    pub recorded_by: Uuid,
    pub created_at: DateTime<Utc>,
}

impl From<PoolEntry> for PoolEntryBody {
    fn from(e: PoolEntry) -> Self {
        PoolEntryBody {
            id: e.id,
            project_id: e.project_id,
            position: e.position,
            kind: e.kind,
            amount: yuan(e.amount_fen),
            balance: yuan(e.balance_fen),
            user_id: e.user_id,
            period: e.period,
            period_from: e.period_from,
            period_to: e.period_to,
            note: e.note,
            recorded_by: e.recorded_by,
            created_at: e.created_at,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PoolBody {
    pub project_id: Uuid,
    /// Yuan in the pool now.
    pub balance: f64,
    /// Everything paid in, and everything paid out; `balance = contributed − paid_out`.
    pub contributed: f64,
    pub paid_out: f64,
    /// Newest first.
    pub entries: Vec<PoolEntryBody>,
    pub next_cursor: Option<String>,
}

impl From<Pool> for PoolBody {
    fn from(p: Pool) -> Self {
        PoolBody {
            project_id: p.project_id,
            balance: yuan(p.balance_fen),
            contributed: yuan(p.contributed_fen),
            paid_out: yuan(p.paid_out_fen),
            entries: p.entries.into_iter().map(PoolEntryBody::from).collect(),
            next_cursor: p.next_before.map(|b| b.to_string()),
        }
    }
}

#[derive(Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateContribution {
    /// Client-made id: the same id and body again return the same entry (200).
    pub id: Option<Uuid>,
    /// Yuan, 0.01 to 1,000,000.
    pub amount: f64,
    /// Who paid, when a manager records money a member handed over; default the caller.
    pub user_id: Option<Uuid>,
    pub note: Option<String>,
}

#[derive(Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePayout {
    /// Client-made id: the same id and body again return the same entry (200).
    pub id: Option<Uuid>,
    pub period: Period,
    /// Any day of the period (`YYYY-MM-DD`, the branch's time zone); the period must have ended.
    pub date: NaiveDate,
    /// Yuan, 0.01 to 1,000,000, at most the balance.
    pub amount: f64,
    pub note: Option<String>,
}

fn created(entry: Created<PoolEntry>) -> HttpResponse {
    match entry {
        Created::New(e) => HttpResponse::Created().json(PoolEntryBody::from(e)),
        Created::Existing(e) => HttpResponse::Ok().json(PoolEntryBody::from(e)),
    }
}

/// The pool: balance, what was paid in and out, and its entries newest first.
#[utoipa::path(tag = "projects", security(("bearer" = [])), params(("id" = Uuid, Path), PageParams), responses(
    (status = 200, body = PoolBody),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[get("/projects/{id}/pool")]
pub async fn get_pool(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let limit = page.limit.unwrap_or(50);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::field("limit", format!("must be between 1 and {MAX_LIMIT}")));
    }
    // The cursor is the position the next page starts below.
    let before = match page.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(
            c.parse::<i64>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| ApiError::field("cursor", "not a cursor this API issued"))?,
        ),
    };
    let pool = state.db.run(move |conn| award_pool::pool(conn, &actor, id, before, limit)).await?;
    Ok(HttpResponse::Ok().json(PoolBody::from(pool)))
}

/// Pay into the pool: the project's team and its managers.
#[utoipa::path(tag = "projects", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = CreateContribution, responses(
    (status = 201, body = PoolEntryBody),
    (status = 200, description = "the same id and body were sent before", body = PoolEntryBody),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[post("/projects/{id}/pool/contributions")]
pub async fn contribute(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    Json(body): Json<CreateContribution>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let input = NewContribution { id: body.id, amount: body.amount, user_id: body.user_id, note: body.note };
    let entry = state.db.run(move |conn| award_pool::contribute(conn, &actor, id, input)).await?;
    Ok(created(entry))
}

/// Pay the star of a closed day, week or month a prize from the pool: the project's managers.
/// The star is the leaderboard's first; a period is paid once; the pool never goes negative.
#[utoipa::path(tag = "projects", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = CreatePayout, responses(
    (status = 201, body = PoolEntryBody),
    (status = 200, description = "the same id and body were sent before", body = PoolEntryBody),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "period_not_over, no_star, already_paid or insufficient_pool", body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[post("/projects/{id}/pool/payouts")]
pub async fn pay_star(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    Json(body): Json<CreatePayout>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let input = NewPayout { id: body.id, period: body.period, date: body.date, amount: body.amount, note: body.note };
    let entry = state.db.run(move |conn| award_pool::pay_star(conn, &actor, id, input)).await?;
    Ok(created(entry))
}
