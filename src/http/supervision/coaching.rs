//! `/api/v1/coaching-plans`: supervisors-in-training, their three phases and their reviews.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::context::state::AppState;
use crate::domain::common::create::Created;
use crate::domain::supervision::coaching::{self, NewPlan, NewReview, Plan, PlanQuery, Review};
use crate::domain::supervision::coaching_phase::{Blocker, Phase, PhaseStanding};
use crate::http::common::extract::{Caller, PageParams};
use crate::http::common::json::Json;
use crate::http::common::problem::{ApiError, Problem};

#[derive(Serialize, utoipa::ToSchema)]
pub struct ReviewBody {
    pub id: Uuid,
    pub phase: Phase,
    pub reviewed_on: NaiveDate,
    pub author_id: Uuid,
    pub summary: String,
    pub went_well: String,
    pub to_improve: String,
    pub created_at: DateTime<Utc>,
}

impl From<Review> for ReviewBody {
    fn from(r: Review) -> Self {
        ReviewBody {
            id: r.id,
            phase: r.phase,
            reviewed_on: r.reviewed_on,
            author_id: r.author_id,
            summary: r.summary,
            went_well: r.went_well,
            to_improve: r.to_improve,
            created_at: r.created_at,
        }
    }
}

/// A stretch of the phase (one day in practice, a week otherwise) with no review yet.
#[derive(Serialize, utoipa::ToSchema)]
pub struct MissingReview {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// Where the running phase stands today.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PhaseStandingBody {
    pub started_on: NaiveDate,
    /// 1 on the phase's first day.
    pub day: i64,
    /// The first day of the next phase, as planned (21 days on).
    pub due_on: NaiveDate,
    /// Days past `due_on` still in this phase.
    pub late_days: i64,
    /// Reviews written in this phase.
    pub reviews: usize,
    /// Stretches that must have a review by now (every day of practice, every week otherwise),
    /// and how many have one.
    pub required_reviews: usize,
    pub covered_reviews: usize,
    pub missing_reviews: Vec<MissingReview>,
    /// Observation lasts its 21 days: the first day the next phase may begin.
    pub earliest_next_on: Option<NaiveDate>,
    /// Whether the plan may move to its next phase now.
    pub ready: bool,
}

impl From<PhaseStanding> for PhaseStandingBody {
    fn from(s: PhaseStanding) -> Self {
        let ready = s.ready();
        let (missing, earliest) = match s.blocker {
            Some(Blocker::ReviewsMissing(list)) => (list, None),
            Some(Blocker::NotFinished { from }) => (Vec::new(), Some(from)),
            None => (Vec::new(), None),
        };
        PhaseStandingBody {
            started_on: s.started_on,
            day: s.day,
            due_on: s.due_on,
            late_days: s.late_days,
            reviews: s.reviews,
            required_reviews: s.required,
            covered_reviews: s.covered,
            missing_reviews: missing.into_iter().map(|(from, to)| MissingReview { from, to }).collect(),
            earliest_next_on: earliest,
            ready,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PlanBody {
    pub id: Uuid,
    pub org_unit_id: Uuid,
    pub trainee_id: Uuid,
    pub trainee_name: String,
    /// The coach's account, when the coach has one.
    pub coach_id: Option<Uuid>,
    pub coach_name: String,
    pub phase: Phase,
    pub observe_started_on: NaiveDate,
    pub practice_started_on: Option<NaiveDate>,
    pub lead_started_on: Option<NaiveDate>,
    pub completed_on: Option<NaiveDate>,
    /// The running phase today; `null` once completed.
    pub standing: Option<PhaseStandingBody>,
    pub notes: String,
    /// Every review, by day.
    pub reviews: Vec<ReviewBody>,
    pub created_by: Uuid,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Plan> for PlanBody {
    fn from(p: Plan) -> Self {
        PlanBody {
            id: p.id,
            org_unit_id: p.org_unit_id,
            trainee_id: p.trainee_id,
            trainee_name: p.trainee_name,
            coach_id: p.coach_id,
            coach_name: p.coach_name,
            phase: p.phase,
            observe_started_on: p.observe_started_on,
            practice_started_on: p.practice_started_on,
            lead_started_on: p.lead_started_on,
            completed_on: p.completed_on,
            standing: p.standing.map(PhaseStandingBody::from),
            notes: p.notes,
            reviews: p.reviews.into_iter().map(ReviewBody::from).collect(),
            created_by: p.created_by,
            version: p.version,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

#[derive(Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePlan {
    /// Client-made id: the same id and body again return the same plan (200).
    pub id: Option<Uuid>,
    /// The supervisor-in-training: an active user in your scope, with no plan running.
    pub trainee_id: Uuid,
    /// The coach's account, if the coach has one in the branch.
    pub coach_id: Option<Uuid>,
    /// The coach's name; required for an external coach without an account.
    pub coach_name: Option<String>,
    /// The first day of observation (default today); within a year of today.
    pub started_on: Option<NaiveDate>,
    pub notes: Option<String>,
}

#[derive(Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateReview {
    /// Client-made id: the same id and body again are the same review (200).
    pub id: Option<Uuid>,
    /// A day of the running phase, up to today (default today).
    pub reviewed_on: Option<NaiveDate>,
    pub summary: String,
    pub went_well: Option<String>,
    pub to_improve: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdvancePlan {
    /// The version you last read; a stale one answers 409.
    pub version: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PlanPage {
    pub items: Vec<PlanBody>,
    pub next_cursor: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PhaseGroup {
    pub phase: Phase,
    /// The latest first: most days late, then most reviews missing.
    pub plans: Vec<PlanBody>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PlanOverview {
    /// Observe, practice, lead, completed.
    pub phases: Vec<PhaseGroup>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlanFilters {
    pub phase: Option<Phase>,
    pub trainee_id: Option<Uuid>,
}

fn created(plan: Created<Plan>) -> HttpResponse {
    match plan {
        Created::New(p) => HttpResponse::Created()
            .insert_header(("Location", format!("/api/v1/coaching-plans/{}", p.id)))
            .json(PlanBody::from(p)),
        Created::Existing(p) => HttpResponse::Ok().json(PlanBody::from(p)),
    }
}

/// Start a supervisor's coaching plan in its observation phase: managers.
#[utoipa::path(tag = "coaching", security(("bearer" = [])), request_body = CreatePlan, responses(
    (status = 201, body = PlanBody),
    (status = 200, description = "the same id and body were sent before", body = PlanBody),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "plan_exists, id_conflict", body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[post("/coaching-plans")]
pub async fn create_plan(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    Json(body): Json<CreatePlan>,
) -> Result<HttpResponse, ApiError> {
    let input = NewPlan {
        id: body.id,
        trainee_id: body.trainee_id,
        coach_id: body.coach_id,
        coach_name: body.coach_name,
        started_on: body.started_on,
        notes: body.notes,
    };
    Ok(created(state.db.run(move |conn| coaching::create(conn, &actor, input)).await?))
}

/// Plans you may see: yours as trainee or coach; your subtree's as a manager or supervisor.
#[utoipa::path(tag = "coaching", security(("bearer" = [])), params(PageParams, PlanFilters), responses(
    (status = 200, body = PlanPage),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[get("/coaching-plans")]
pub async fn list_plans(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    page: web::Query<PageParams>,
    filters: web::Query<PlanFilters>,
) -> Result<HttpResponse, ApiError> {
    let page = page.to_request()?;
    let query = PlanQuery { phase: filters.phase, trainee_id: filters.trainee_id };
    let page = state.db.run(move |conn| coaching::list(conn, &actor, &query, &page)).await?;
    Ok(HttpResponse::Ok()
        .json(PlanPage { items: page.items.into_iter().map(PlanBody::from).collect(), next_cursor: page.next_cursor }))
}

/// The managers' view: trainees by phase, the latest first.
#[utoipa::path(tag = "coaching", security(("bearer" = [])), responses(
    (status = 200, body = PlanOverview),
    (status = 403, body = Problem, content_type = "application/problem+json"),
))]
#[get("/coaching-plans/overview")]
pub async fn plans_overview(Caller(actor): Caller, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let groups = state.db.run(move |conn| coaching::overview(conn, &actor)).await?;
    Ok(HttpResponse::Ok().json(PlanOverview {
        phases: groups
            .into_iter()
            .map(|(phase, plans)| PhaseGroup { phase, plans: plans.into_iter().map(PlanBody::from).collect() })
            .collect(),
    }))
}

/// One plan, with its phases' dates, today's standing and every review.
#[utoipa::path(tag = "coaching", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = PlanBody),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/coaching-plans/{id}")]
pub async fn get_plan(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let plan = state.db.run(move |conn| coaching::get(conn, &actor, id)).await?;
    Ok(HttpResponse::Ok().json(PlanBody::from(plan)))
}

/// Write a review of the running phase: the trainee, the coach, or a manager over the plan.
#[utoipa::path(tag = "coaching", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = CreateReview, responses(
    (status = 201, description = "the plan with the new review", body = PlanBody),
    (status = 200, description = "the same id and body were sent before", body = PlanBody),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "plan_completed, id_conflict", body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[post("/coaching-plans/{id}/reviews")]
pub async fn add_review(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    Json(body): Json<CreateReview>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let input = NewReview {
        id: body.id,
        reviewed_on: body.reviewed_on,
        summary: body.summary,
        went_well: body.went_well,
        to_improve: body.to_improve,
    };
    Ok(created(state.db.run(move |conn| coaching::add_review(conn, &actor, id, input)).await?))
}

/// Move the plan to its next phase, from today: a manager over it or its coach; 409 while the
/// running phase lacks its reviews (`reviews_missing`) or observation its 21 days
/// (`phase_not_finished`).
#[utoipa::path(tag = "coaching", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = AdvancePlan, responses(
    (status = 200, body = PlanBody),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "reviews_missing, phase_not_finished, plan_completed, version_conflict", body = Problem, content_type = "application/problem+json"),
))]
#[post("/coaching-plans/{id}/advance")]
pub async fn advance_plan(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    Json(body): Json<AdvancePlan>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let plan = state.db.run(move |conn| coaching::advance(conn, &actor, id, body.version)).await?;
    Ok(HttpResponse::Ok().json(PlanBody::from(plan)))
}
