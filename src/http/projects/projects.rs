//! `/api/v1/projects`: segment projects, their team, targets, points rules, schedule and manual metrics.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, get, patch, post, put, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::context::state::AppState;
use crate::domain::common::create::Created;
use crate::domain::kinds::lead_kind::Segment;
use crate::domain::kinds::project_kind::{Metric, PointsAction, ProjectStatus};
use crate::domain::projects::project_create::{self, NewProject};
use crate::domain::projects::project_details::{self, ProjectPatch};
use crate::domain::projects::project_manual_metrics::{self, ManualMetricInput, ManualValue};
use crate::domain::projects::project_milestones::{self, MilestoneInput, MilestonePatch};
use crate::domain::projects::project_targets::{self, RuleInput, TargetInput};
use crate::domain::projects::project_team::{self, TeamInput};
use crate::domain::projects::projects::{self, ManualMetric, Milestone, Project, ProjectQuery};
use crate::http::common::extract::{Caller, PageParams};
use crate::http::common::json::Json;
use crate::http::common::problem::{ApiError, Problem};

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetBody {
    pub metric: Metric,
    /// The project's total.
    pub total: f64,
    /// Member id → their share; the shares may not add up to more than the total.
    #[serde(default)]
    pub split: BTreeMap<Uuid, f64>,
}

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleBody {
    pub action: PointsAction,
    /// 1–1000.
    pub points: i32,
    /// The most one member earns from this action in one day.
    pub daily_cap: Option<i32>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MilestoneBody {
    pub id: Uuid,
    pub title: String,
    pub due_on: NaiveDate,
    pub done: bool,
    pub done_at: Option<DateTime<Utc>>,
    pub done_by: Option<Uuid>,
}

impl From<Milestone> for MilestoneBody {
    fn from(m: Milestone) -> Self {
        MilestoneBody {
            id: m.id,
            title: m.title,
            due_on: m.due_on,
            done: m.done_at.is_some(),
            done_at: m.done_at,
            done_by: m.done_by,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ManualMetricBody {
    pub id: Uuid,
    pub name: String,
    pub unit: String,
    pub total: Option<f64>,
    pub split: BTreeMap<Uuid, f64>,
}

impl From<ManualMetric> for ManualMetricBody {
    fn from(m: ManualMetric) -> Self {
        ManualMetricBody { id: m.id, name: m.name, unit: m.unit, total: m.total, split: m.split }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ProjectBody {
    pub id: Uuid,
    pub name: String,
    pub segment: Segment,
    /// The target portrait (客群画像).
    pub portrait_tags: Vec<String>,
    pub product_package: Vec<String>,
    pub service_package: Vec<String>,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    /// Days of progress and leaderboards are counted in it (the branch's).
    pub time_zone: String,
    pub org_unit_id: Uuid,
    pub status: ProjectStatus,
    pub lead_id: Uuid,
    pub supervisor_id: Option<Uuid>,
    /// The lead included.
    pub member_ids: Vec<Uuid>,
    pub targets: Vec<TargetBody>,
    pub manual_metrics: Vec<ManualMetricBody>,
    pub points_rules: Vec<RuleBody>,
    pub milestones: Vec<MilestoneBody>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Project> for ProjectBody {
    fn from(p: Project) -> Self {
        ProjectBody {
            id: p.id,
            name: p.name,
            segment: p.segment,
            portrait_tags: p.portrait_tags,
            product_package: p.product_package,
            service_package: p.service_package,
            starts_on: p.starts_on,
            ends_on: p.ends_on,
            time_zone: p.time_zone,
            org_unit_id: p.org_unit_id,
            status: p.status,
            lead_id: p.lead_id,
            supervisor_id: p.supervisor_id,
            member_ids: p.member_ids,
            targets: p
                .targets
                .into_iter()
                .map(|t| TargetBody { metric: t.metric, total: t.total, split: t.split })
                .collect(),
            manual_metrics: p.manual_metrics.into_iter().map(ManualMetricBody::from).collect(),
            points_rules: p
                .points_rules
                .into_iter()
                .map(|r| RuleBody { action: r.action, points: r.points, daily_cap: r.daily_cap })
                .collect(),
            milestones: p.milestones.into_iter().map(MilestoneBody::from).collect(),
            version: p.version,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMilestone {
    pub title: String,
    pub due_on: NaiveDate,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProject {
    /// Optional client-made id: the same id and body again return the same project (200).
    pub id: Option<Uuid>,
    #[schema(example = "水产批发市场摊主外拓")]
    pub name: String,
    pub segment: Segment,
    pub portrait_tags: Option<Vec<String>>,
    pub product_package: Option<Vec<String>>,
    pub service_package: Option<Vec<String>>,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    /// Default `active`.
    pub status: Option<ProjectStatus>,
    /// Default your own unit.
    pub org_unit_id: Option<Uuid>,
    /// The team lead, inside the project's unit.
    pub lead_id: Uuid,
    pub supervisor_id: Option<Uuid>,
    pub member_ids: Option<Vec<Uuid>>,
    pub targets: Option<Vec<TargetBody>>,
    pub points_rules: Option<Vec<RuleBody>>,
    pub milestones: Option<Vec<NewMilestone>>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProject {
    pub name: Option<String>,
    pub segment: Option<Segment>,
    pub portrait_tags: Option<Vec<String>>,
    pub product_package: Option<Vec<String>>,
    pub service_package: Option<Vec<String>>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub status: Option<ProjectStatus>,
    /// The version you last read; a stale one answers 409 `version_conflict`.
    pub version: Option<i64>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamBody {
    pub lead_id: Uuid,
    pub supervisor_id: Option<Uuid>,
    pub member_ids: Vec<Uuid>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetsBody {
    pub targets: Vec<TargetBody>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RulesBody {
    pub rules: Vec<RuleBody>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMilestone {
    pub title: Option<String>,
    pub due_on: Option<NaiveDate>,
    pub done: Option<bool>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateManualMetric {
    #[schema(example = "AUM增量")]
    pub name: String,
    #[schema(example = "万元")]
    pub unit: Option<String>,
    pub total: Option<f64>,
    #[serde(default)]
    pub split: BTreeMap<Uuid, f64>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateManualValue {
    /// Inside the project's period.
    pub on_date: NaiveDate,
    pub value: f64,
    /// A member (default: the project as a whole).
    pub user_id: Option<Uuid>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ManualValueBody {
    pub id: Uuid,
    pub metric_id: Uuid,
    pub user_id: Option<Uuid>,
    pub on_date: NaiveDate,
    pub value: f64,
    pub entered_by: Uuid,
    pub created_at: DateTime<Utc>,
}

impl From<ManualValue> for ManualValueBody {
    fn from(v: ManualValue) -> Self {
        ManualValueBody {
            id: v.id,
            metric_id: v.metric_id,
            user_id: v.user_id,
            on_date: v.on_date,
            value: v.value,
            entered_by: v.entered_by,
            created_at: v.created_at,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ProjectPage {
    pub items: Vec<ProjectBody>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProjectFilters {
    pub status: Option<ProjectStatus>,
    pub segment: Option<Segment>,
    pub org_unit_id: Option<Uuid>,
    /// Projects whose team holds this user.
    pub member_id: Option<Uuid>,
}

fn targets(body: Vec<TargetBody>) -> Vec<TargetInput> {
    body.into_iter().map(|t| TargetInput { metric: t.metric, total: t.total, split: t.split }).collect()
}

fn rules(body: Vec<RuleBody>) -> Vec<RuleInput> {
    body.into_iter().map(|r| RuleInput { action: r.action, points: r.points, daily_cap: r.daily_cap }).collect()
}

/// Create a segment project with its team, targets, points rules and schedule (managers).
#[utoipa::path(tag = "projects", security(("bearer" = [])), request_body = CreateProject, responses(
    (status = 201, body = ProjectBody),
    (status = 200, description = "the same id and body were sent before", body = ProjectBody),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "a user or the org unit is not in your scope", body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[post("/projects")]
pub async fn create_project(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    Json(body): Json<CreateProject>,
) -> Result<HttpResponse, ApiError> {
    let input = NewProject {
        id: body.id,
        name: body.name,
        segment: body.segment,
        portrait_tags: body.portrait_tags,
        product_package: body.product_package,
        service_package: body.service_package,
        starts_on: body.starts_on,
        ends_on: body.ends_on,
        status: body.status,
        org_unit_id: body.org_unit_id,
        lead_id: body.lead_id,
        supervisor_id: body.supervisor_id,
        member_ids: body.member_ids,
        targets: body.targets.map(targets),
        points_rules: body.points_rules.map(rules),
        milestones: body
            .milestones
            .map(|list| list.into_iter().map(|m| MilestoneInput { title: m.title, due_on: m.due_on }).collect()),
    };
    Ok(match state.db.run(move |conn| project_create::create(conn, &actor, input)).await? {
        Created::New(p) => HttpResponse::Created()
            .insert_header(("Location", format!("/api/v1/projects/{}", p.id)))
            .json(ProjectBody::from(p)),
        Created::Existing(p) => HttpResponse::Ok().json(ProjectBody::from(p)),
    })
}

/// Projects of your subtree (managers) or whose team you are on.
#[utoipa::path(tag = "projects", security(("bearer" = [])), params(PageParams, ProjectFilters), responses(
    (status = 200, body = ProjectPage),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[get("/projects")]
pub async fn list_projects(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    page: web::Query<PageParams>,
    filters: web::Query<ProjectFilters>,
) -> Result<HttpResponse, ApiError> {
    let page = page.to_request()?;
    let f = filters.into_inner();
    let query =
        ProjectQuery { status: f.status, segment: f.segment, org_unit_id: f.org_unit_id, member_id: f.member_id };
    let page = state.db.run(move |conn| projects::list(conn, &actor, &query, &page)).await?;
    Ok(HttpResponse::Ok().json(ProjectPage {
        items: page.items.into_iter().map(ProjectBody::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

#[utoipa::path(tag = "projects", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = ProjectBody),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/projects/{id}")]
pub async fn get_project(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let project = state.db.run(move |conn| projects::get(conn, &actor, id)).await?;
    Ok(HttpResponse::Ok().json(ProjectBody::from(project)))
}

/// Change a project's description, period or status (managers).
#[utoipa::path(tag = "projects", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = UpdateProject, responses(
    (status = 200, body = ProjectBody),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[patch("/projects/{id}")]
pub async fn update_project(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    Json(body): Json<UpdateProject>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let patch = ProjectPatch {
        name: body.name,
        segment: body.segment,
        portrait_tags: body.portrait_tags,
        product_package: body.product_package,
        service_package: body.service_package,
        starts_on: body.starts_on,
        ends_on: body.ends_on,
        status: body.status,
        version: body.version,
    };
    let project = state.db.run(move |conn| project_details::update(conn, &actor, id, patch)).await?;
    Ok(HttpResponse::Ok().json(ProjectBody::from(project)))
}

/// Replace the team: lead, supervisor, members (managers).
#[utoipa::path(tag = "projects", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = TeamBody, responses(
    (status = 200, body = ProjectBody),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[put("/projects/{id}/team")]
pub async fn set_team(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    Json(body): Json<TeamBody>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let team = TeamInput { lead_id: body.lead_id, supervisor_id: body.supervisor_id, member_ids: body.member_ids };
    let project = state.db.run(move |conn| project_team::set_team(conn, &actor, id, team)).await?;
    Ok(HttpResponse::Ok().json(ProjectBody::from(project)))
}

/// Replace the targets and their split per member (managers).
#[utoipa::path(tag = "projects", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = TargetsBody, responses(
    (status = 200, body = ProjectBody),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[put("/projects/{id}/targets")]
pub async fn set_targets(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    Json(body): Json<TargetsBody>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let list = targets(body.targets);
    let project = state.db.run(move |conn| project_targets::set_targets(conn, &actor, id, list)).await?;
    Ok(HttpResponse::Ok().json(ProjectBody::from(project)))
}

/// Replace the points rules; they apply to actions from now on (managers).
#[utoipa::path(tag = "projects", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = RulesBody, responses(
    (status = 200, body = ProjectBody),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[put("/projects/{id}/points-rules")]
pub async fn set_rules(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    Json(body): Json<RulesBody>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let list = rules(body.rules);
    let project = state.db.run(move |conn| project_targets::set_rules(conn, &actor, id, list)).await?;
    Ok(HttpResponse::Ok().json(ProjectBody::from(project)))
}

/// Add a milestone to the progress schedule (进度表): managers and the team lead.
#[utoipa::path(tag = "projects", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = NewMilestone, responses(
    (status = 201, body = MilestoneBody),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[post("/projects/{id}/milestones")]
pub async fn add_milestone(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    Json(body): Json<NewMilestone>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let input = MilestoneInput { title: body.title, due_on: body.due_on };
    let milestone = state.db.run(move |conn| project_milestones::add_milestone(conn, &actor, id, input)).await?;
    Ok(HttpResponse::Created().json(MilestoneBody::from(milestone)))
}

/// Change a milestone, or mark it done (`done: true`) or open again.
#[utoipa::path(tag = "projects", security(("bearer" = [])), params(("id" = Uuid, Path), ("mid" = Uuid, Path)), request_body = UpdateMilestone, responses(
    (status = 200, body = MilestoneBody),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[patch("/projects/{id}/milestones/{mid}")]
pub async fn update_milestone(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    path: web::Path<(Uuid, Uuid)>,
    Json(body): Json<UpdateMilestone>,
) -> Result<HttpResponse, ApiError> {
    let (id, mid) = path.into_inner();
    let patch = MilestonePatch { title: body.title, due_on: body.due_on, done: body.done };
    let milestone =
        state.db.run(move |conn| project_milestones::update_milestone(conn, &actor, id, mid, patch)).await?;
    Ok(HttpResponse::Ok().json(MilestoneBody::from(milestone)))
}

/// Add a metric entered by hand (e.g. AUM growth) with its target (managers).
#[utoipa::path(tag = "projects", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = CreateManualMetric, responses(
    (status = 201, body = ManualMetricBody),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[post("/projects/{id}/manual-metrics")]
pub async fn add_manual_metric(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    Json(body): Json<CreateManualMetric>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let input = ManualMetricInput { name: body.name, unit: body.unit, total: body.total, split: body.split };
    let metric = state.db.run(move |conn| project_manual_metrics::add_manual_metric(conn, &actor, id, input)).await?;
    Ok(HttpResponse::Created().json(ManualMetricBody::from(metric)))
}

/// Enter a dated value of a manual metric (managers and the team lead). Values add up.
#[utoipa::path(tag = "projects", security(("bearer" = [])), params(("id" = Uuid, Path), ("mid" = Uuid, Path)), request_body = CreateManualValue, responses(
    (status = 201, body = ManualValueBody),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[post("/projects/{id}/manual-metrics/{mid}/values")]
pub async fn add_manual_value(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    path: web::Path<(Uuid, Uuid)>,
    Json(body): Json<CreateManualValue>,
) -> Result<HttpResponse, ApiError> {
    let (id, mid) = path.into_inner();
    let value = state
        .db
        .run(move |conn| {
            project_manual_metrics::add_manual_value(conn, &actor, id, mid, body.user_id, body.on_date, body.value)
        })
        .await?;
    Ok(HttpResponse::Created().json(ManualValueBody::from(value)))
}
