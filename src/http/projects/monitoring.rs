//! Project monitoring: progress and pace, the points ledger, leaderboards and stars, the workbook,
//! and the morning-meeting report.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::context::state::AppState;
use crate::domain::common::text::yuan;
use crate::domain::kinds::project_kind::{Metric, Period, PointsAction};
use crate::domain::projects::leaderboard::{self, Board};
use crate::domain::projects::progress::{self, Figures, Progress};
use crate::domain::projects::{points, project_report};
use crate::domain::supervision::daily_report::{self, DailyReport};
use crate::http::common::extract::{Caller, PageParams};
use crate::http::common::problem::{ApiError, Problem};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DateParam {
    /// A day (`YYYY-MM-DD`) in the branch's time zone; default today.
    pub date: Option<NaiveDate>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MemberProgressBody {
    pub user_id: Uuid,
    pub name: String,
    /// Their share of the target.
    pub target: Option<f64>,
    pub actual: f64,
    pub expected: Option<f64>,
    pub gap: Option<f64>,
    pub needed_daily: Option<f64>,
    pub on_track: Option<bool>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MetricProgressBody {
    /// A standard metric, or `manual`.
    pub metric: String,
    pub manual_metric_id: Option<Uuid>,
    pub name: String,
    pub unit: Option<String>,
    pub target: Option<f64>,
    pub actual: f64,
    /// The linear share of the target by the date.
    pub expected: Option<f64>,
    /// `expected − actual`: positive means behind pace.
    pub gap: Option<f64>,
    /// What each remaining day must add to reach the target.
    pub needed_daily: Option<f64>,
    pub completion: Option<f64>,
    pub on_track: Option<bool>,
    pub members: Vec<MemberProgressBody>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ProgressBody {
    pub project_id: Uuid,
    pub date: NaiveDate,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub time_zone: String,
    pub days_total: i64,
    pub days_elapsed: i64,
    pub days_remaining: i64,
    pub metrics: Vec<MetricProgressBody>,
}

fn member(user_id: Uuid, name: String, f: Figures) -> MemberProgressBody {
    MemberProgressBody {
        user_id,
        name,
        target: f.target,
        actual: f.actual,
        expected: f.expected,
        gap: f.gap,
        needed_daily: f.needed_daily,
        on_track: f.on_track,
    }
}

impl From<Progress> for ProgressBody {
    fn from(p: Progress) -> Self {
        ProgressBody {
            project_id: p.project.id,
            date: p.date,
            starts_on: p.project.starts_on,
            ends_on: p.project.ends_on,
            time_zone: p.project.time_zone.clone(),
            days_total: p.days.total,
            days_elapsed: p.days.elapsed,
            days_remaining: p.days.remaining,
            metrics: p
                .metrics
                .into_iter()
                .map(|m| MetricProgressBody {
                    metric: m.metric.map_or("manual", Metric::as_str).to_owned(),
                    manual_metric_id: m.manual_metric_id,
                    name: m.name,
                    unit: m.unit,
                    target: m.figures.target,
                    actual: m.figures.actual,
                    expected: m.figures.expected,
                    gap: m.figures.gap,
                    needed_daily: m.figures.needed_daily,
                    completion: m.figures.completion,
                    on_track: m.figures.on_track,
                    members: m.members.into_iter().map(|x| member(x.user_id, x.name, x.figures)).collect(),
                })
                .collect(),
        }
    }
}

/// Progress and pace of every metric, for the project and each member, on a date.
#[utoipa::path(tag = "projects", security(("bearer" = [])), params(("id" = Uuid, Path), DateParam), responses(
    (status = 200, body = ProgressBody),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[get("/projects/{id}/progress")]
pub async fn project_progress(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    query: web::Query<DateParam>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let date = check_date(query.date)?;
    let p = state.db.run(move |conn| progress::progress(conn, &actor, id, date)).await?;
    Ok(HttpResponse::Ok().json(ProgressBody::from(p)))
}

pub(super) fn check_date(date: Option<NaiveDate>) -> Result<Option<NaiveDate>, ApiError> {
    use chrono::Datelike;
    match date {
        Some(d) if !(2000..=2100).contains(&d.year()) => {
            Err(ApiError::field("date", "must be between the years 2000 and 2100"))
        }
        other => Ok(other),
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BoardParams {
    /// `day`, `week` (Monday to Sunday) or `month`; default `day`.
    pub period: Option<Period>,
    /// A day in the period (`YYYY-MM-DD`); default today.
    pub date: Option<NaiveDate>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct StandingBody {
    pub rank: usize,
    pub user_id: Uuid,
    pub name: String,
    pub points: i64,
    /// Points per action.
    pub breakdown: BTreeMap<PointsAction, i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct StarBody {
    pub user_id: Uuid,
    pub name: String,
    pub points: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LeaderboardBody {
    pub project_id: Uuid,
    pub period: Period,
    pub date: NaiveDate,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Ranked by points, then by who reached their total first, then by user id.
    pub items: Vec<StandingBody>,
    /// The first of the ranking when they earned anything.
    pub star: Option<StarBody>,
}

impl From<Board> for LeaderboardBody {
    fn from(b: Board) -> Self {
        let star = b.star().map(|s| StarBody { user_id: s.user_id, name: s.name.clone(), points: s.points });
        LeaderboardBody {
            project_id: b.project.id,
            period: b.period,
            date: b.date,
            from: b.from,
            to: b.to,
            items: b
                .items
                .into_iter()
                .map(|s| StandingBody {
                    rank: s.rank,
                    user_id: s.user_id,
                    name: s.name,
                    points: s.points,
                    breakdown: s.breakdown,
                })
                .collect(),
            star,
        }
    }
}

/// Members ranked by points in the day, week or month holding the date, and its star.
#[utoipa::path(tag = "projects", security(("bearer" = [])), params(("id" = Uuid, Path), BoardParams), responses(
    (status = 200, body = LeaderboardBody),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[get("/projects/{id}/leaderboard")]
pub async fn project_leaderboard(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    query: web::Query<BoardParams>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let date = check_date(query.date)?;
    let period = query.period.unwrap_or(Period::Day);
    let board = state.db.run(move |conn| leaderboard::board(conn, &actor, id, period, date)).await?;
    Ok(HttpResponse::Ok().json(LeaderboardBody::from(board)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StarParams {
    /// `day`, `week` or `month`; default `day`.
    pub period: Option<Period>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct StarHistoryItem {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub user_id: Uuid,
    pub name: String,
    pub points: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct StarHistoryBody {
    pub period: Period,
    /// Newest first.
    pub items: Vec<StarHistoryItem>,
}

/// The star of every day, week or month of the project so far.
#[utoipa::path(tag = "projects", security(("bearer" = [])), params(("id" = Uuid, Path), StarParams), responses(
    (status = 200, body = StarHistoryBody),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[get("/projects/{id}/stars")]
pub async fn project_stars(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    query: web::Query<StarParams>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let period = query.period.unwrap_or(Period::Day);
    let stars = state.db.run(move |conn| leaderboard::stars(conn, &actor, id, period)).await?;
    Ok(HttpResponse::Ok().json(StarHistoryBody {
        period,
        items: stars
            .into_iter()
            .map(|s| StarHistoryItem { from: s.from, to: s.to, user_id: s.user_id, name: s.name, points: s.points })
            .collect(),
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LedgerParams {
    /// One member's entries.
    pub user_id: Option<Uuid>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LedgerEntryBody {
    pub id: Uuid,
    pub user_id: Uuid,
    pub action: PointsAction,
    /// `visit`, `lead`, `registration` or `event_step`.
    pub source_type: String,
    pub source_id: String,
    /// Negative for a reversal.
    pub points: i32,
    /// When the action happened: the day it counts for.
    pub occurred_at: DateTime<Utc>,
    /// The entry this one reverses.
    pub reverses_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LedgerPage {
    pub items: Vec<LedgerEntryBody>,
    pub next_cursor: Option<String>,
}

/// The points ledger of the project, oldest first: append-only, balances are sums.
#[utoipa::path(tag = "projects", security(("bearer" = [])), params(("id" = Uuid, Path), LedgerParams, PageParams), responses(
    (status = 200, body = LedgerPage),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/projects/{id}/points")]
pub async fn project_points(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    query: web::Query<LedgerParams>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let page = page.to_request()?;
    let user = query.user_id;
    let page = state.db.run(move |conn| points::ledger(conn, &actor, id, user, &page)).await?;
    Ok(HttpResponse::Ok().json(LedgerPage {
        items: page
            .items
            .into_iter()
            .map(|e| LedgerEntryBody {
                id: e.id,
                user_id: e.user_id,
                action: e.action,
                source_type: e.source_type,
                source_id: e.source_id,
                points: e.points,
                occurred_at: e.occurred_at,
                reverses_id: e.reverses_id,
                created_at: e.created_at,
            })
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

fn export_failed(e: String) -> ApiError {
    tracing::error!(error = %e, "project report");
    ApiError::internal()
}

/// The monitoring workbook: sheets Progress, Members, Daily, Leaderboard, Milestones. Audited.
#[utoipa::path(tag = "projects", security(("bearer" = [])), params(("id" = Uuid, Path), DateParam), responses(
    (status = 200, description = "XLSX", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/projects/{id}/report.xlsx")]
pub async fn project_report_xlsx(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    query: web::Query<DateParam>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let date = check_date(query.date)?;
    let (p, tables) = state.db.run(move |conn| project_report::tables(conn, &actor, id, date, None, "xlsx")).await?;
    let sheets: Vec<(&str, &crate::export::Table)> =
        tables.iter().map(|(name, t)| (project_report::sheet_name(name), t)).collect();
    let bytes = crate::export::workbook(&sheets).map_err(export_failed)?;
    Ok(HttpResponse::Ok()
        .content_type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"project-{id}-{}.xlsx\"", p.date)))
        .insert_header(("Cache-Control", "no-store"))
        .body(bytes))
}

/// One monitoring table as CSV (UTF-8 with BOM): `progress`, `members`, `daily`, `leaderboard`,
/// `milestones`. Audited.
#[utoipa::path(tag = "projects", security(("bearer" = [])), params(("id" = Uuid, Path), ("table" = String, Path), DateParam), responses(
    (status = 200, description = "CSV", content_type = "text/csv", body = String),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/projects/{id}/report/{table}.csv")]
pub async fn project_report_csv(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    path: web::Path<(Uuid, String)>,
    query: web::Query<DateParam>,
) -> Result<HttpResponse, ApiError> {
    let (id, table) = path.into_inner();
    let Some(table) = project_report::TABLES.into_iter().find(|t| *t == table) else {
        return Err(ApiError::not_found("report table"));
    };
    let date = check_date(query.date)?;
    let (p, tables) =
        state.db.run(move |conn| project_report::tables(conn, &actor, id, date, Some(table), "csv")).await?;
    let bytes = tables.first().map(|(_, t)| t.to_csv()).transpose().map_err(export_failed)?.unwrap_or_default();
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"project-{id}-{table}-{}.csv\"", p.date)))
        .insert_header(("Cache-Control", "no-store"))
        .body(bytes))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DailyParams {
    /// The meeting's day (`YYYY-MM-DD`); figures are of the day before. Default today.
    pub date: Option<NaiveDate>,
    /// Default your own unit.
    pub org_unit_id: Option<Uuid>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PlannedVisitBody {
    pub visit_id: Uuid,
    pub partner_id: Option<Uuid>,
    pub partner_name: Option<String>,
    pub next_visit_at: Option<DateTime<Utc>>,
    pub next_step: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MemberDayBody {
    pub user_id: Uuid,
    pub name: String,
    pub org_unit_id: Option<Uuid>,
    pub visits: i64,
    pub verified_visits: i64,
    pub events_held: i64,
    pub new_leads: i64,
    pub conversions: i64,
    /// Yuan.
    pub converted_amount: f64,
    /// Earned in all projects.
    pub points: i64,
    /// Visits planned for the meeting's day.
    pub planned_visits: Vec<PlannedVisitBody>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DailyReportBody {
    pub date: NaiveDate,
    /// The day the figures are of (the day before `date`).
    pub reported_day: NaiveDate,
    pub org_unit_id: Option<Uuid>,
    pub members: Vec<MemberDayBody>,
    /// Supervision findings of the unit still open past their due day, the oldest due first
    /// (an account manager: their own).
    pub overdue_findings: Vec<crate::http::supervision::supervisions::FindingBody>,
}

impl From<DailyReport> for DailyReportBody {
    fn from(r: DailyReport) -> Self {
        let date = r.date;
        DailyReportBody {
            overdue_findings: r
                .overdue_findings
                .into_iter()
                .map(|f| crate::http::supervision::supervisions::FindingBody::render(f, date))
                .collect(),
            date: r.date,
            reported_day: r.reported_day,
            org_unit_id: r.org_unit_id,
            members: r
                .members
                .into_iter()
                .map(|m| MemberDayBody {
                    user_id: m.user_id,
                    name: m.name,
                    org_unit_id: m.org_unit_id,
                    visits: m.visits,
                    verified_visits: m.verified_visits,
                    events_held: m.events_held,
                    new_leads: m.new_leads,
                    conversions: m.conversions,
                    converted_amount: yuan(m.converted_amount_fen),
                    points: m.points,
                    planned_visits: m
                        .planned_visits
                        .into_iter()
                        .map(|p| PlannedVisitBody {
                            visit_id: p.visit_id,
                            partner_id: p.partner_id,
                            partner_name: p.partner_name,
                            next_visit_at: p.next_visit_at,
                            next_step: p.next_step,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// The morning-meeting report (晨会): per person, yesterday's visits, events, leads, conversions
/// and points, and today's planned visits. Account managers get their own line.
#[utoipa::path(tag = "reports", security(("bearer" = [])), params(DailyParams), responses(
    (status = 200, body = DailyReportBody),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[get("/reports/daily")]
pub async fn daily(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    query: web::Query<DailyParams>,
) -> Result<HttpResponse, ApiError> {
    let date = check_date(query.date)?;
    let unit = query.org_unit_id;
    let report = state.db.run(move |conn| daily_report::daily(conn, &actor, date, unit)).await?;
    Ok(HttpResponse::Ok().json(DailyReportBody::from(report)))
}
