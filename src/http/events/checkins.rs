//! Check-in, attendees and the registration QR code of an event.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::context::state::AppState;
use crate::domain::Actor;
use crate::domain::events::checkins::{self, CheckIn};
use crate::http::common::extract::Caller;
use crate::http::common::json::Json;
use crate::http::common::problem::{ApiError, Problem};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckInRequest {
    pub ticket_code: String,
    /// When the ticket was scanned, for scans made offline.
    pub scanned_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckInBatch {
    /// Scans made offline, at most 500.
    pub items: Vec<CheckInRequest>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CheckInBody {
    pub ticket_code: String,
    /// This ticket had been scanned before; `checked_in_at` is that first time.
    pub already_checked_in: bool,
    pub checked_in_at: DateTime<Utc>,
    pub name: Option<String>,
    /// Masked for staff who may not see attendees' numbers.
    pub phone: Option<String>,
    /// The lead this attendee became, or was linked to.
    pub lead_id: Option<Uuid>,
}

fn render(c: CheckIn, viewer: &Actor) -> CheckInBody {
    CheckInBody {
        phone: c.phone.map(|p| c.phone_holder.show(viewer, p)),
        ticket_code: c.ticket_code,
        already_checked_in: c.already_checked_in,
        checked_in_at: c.checked_in_at,
        name: c.name,
        lead_id: c.lead_id,
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct BatchItemResult {
    pub ticket_code: String,
    pub result: Option<CheckInBody>,
    pub problem: Option<Problem>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct BatchResults {
    pub results: Vec<BatchItemResult>,
}

/// Check an attendee in by ticket. A second scan answers 200 with `already_checked_in`.
#[utoipa::path(tag = "events", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = CheckInRequest, responses(
    (status = 200, body = CheckInBody),
    (status = 404, description = "unknown ticket, or one of another event", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "waitlisted or cancelled", body = Problem, content_type = "application/problem+json"),
))]
#[post("/events/{id}/checkins")]
pub async fn check_in(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    Json(body): Json<CheckInRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let viewer = actor.clone();
    let checked =
        state.db.write(move |conn| checkins::check_in(conn, &actor, id, &body.ticket_code, body.scanned_at)).await?;
    Ok(HttpResponse::Ok().json(render(checked, &viewer)))
}

/// Check in a batch of scans made offline; each gets its own result.
#[utoipa::path(tag = "events", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = CheckInBatch, responses(
    (status = 200, body = BatchResults),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[post("/events/{id}/checkins/batch")]
pub async fn check_in_batch(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    Json(body): Json<CheckInBatch>,
) -> Result<HttpResponse, ApiError> {
    if body.items.len() > 500 {
        return Err(ApiError::field("items", "at most 500 scans per batch"));
    }
    let id = id.into_inner();
    let reader = actor.clone();
    // An event the caller cannot see is a 404 for the whole batch, not one per scan.
    state.db.run(move |conn| crate::domain::events::events::get(conn, &reader, id)).await?;
    let mut results = Vec::with_capacity(body.items.len());
    for item in body.items {
        let scanner = actor.clone();
        let ticket = item.ticket_code.clone();
        let outcome = state
            .db
            .write(move |conn| checkins::check_in(conn, &scanner, id, &item.ticket_code, item.scanned_at))
            .await;
        results.push(match outcome {
            Ok(c) => BatchItemResult { ticket_code: ticket, result: Some(render(c, &actor)), problem: None },
            Err(crate::domain::DomainError::Store(e)) => return Err(e.into()),
            Err(e) => BatchItemResult { ticket_code: ticket, result: None, problem: Some(ApiError::from(e).problem()) },
        });
    }
    Ok(HttpResponse::Ok().json(BatchResults { results }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AttendeeBody {
    pub name: Option<String>,
    /// Masked (`138****5678`) for staff who may not see it; absent once erased.
    pub phone: Option<String>,
    /// `registered`, `waitlisted` or `cancelled`.
    pub status: String,
    pub ticket_code: String,
    pub registered_at: DateTime<Utc>,
    pub checked_in: bool,
    pub checked_in_at: Option<DateTime<Utc>>,
    pub lead_id: Option<Uuid>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AttendeeList {
    pub items: Vec<AttendeeBody>,
}

/// The event's attendees with their check-in state.
#[utoipa::path(tag = "events", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = AttendeeList),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/events/{id}/attendees")]
pub async fn attendees(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let list = state
        .db
        .run(move |conn| {
            let (event, list) = checkins::attendees(conn, &actor, id)?;
            checkins::record_bulk_read(conn, &actor, &event, &list)?;
            Ok::<_, crate::domain::DomainError>(list)
        })
        .await?;
    Ok(HttpResponse::Ok().json(AttendeeList {
        items: list
            .into_iter()
            .map(|a| AttendeeBody {
                phone: a.phone,
                checked_in: a.checked_in_at.is_some(),
                name: a.name,
                status: a.status,
                ticket_code: a.ticket_code,
                registered_at: a.registered_at,
                checked_in_at: a.checked_in_at,
                lead_id: a.lead_id,
            })
            .collect(),
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QrParams {
    /// Side of the image in pixels, 128–2048 (default 512).
    pub size: Option<u32>,
}

/// A PNG QR code of the event's public registration link, with a quiet zone, for posters and
/// WeChat groups.
#[utoipa::path(tag = "events", security(("bearer" = [])), params(("id" = Uuid, Path), QrParams), responses(
    (status = 200, description = "PNG", content_type = "image/png", body = Vec<u8>),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[get("/events/{id}/qr.png")]
pub async fn qr_png(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    params: web::Query<QrParams>,
) -> Result<HttpResponse, ApiError> {
    let size = params.size.unwrap_or(512);
    if !(128..=2048).contains(&size) {
        return Err(ApiError::field("size", "must be between 128 and 2048 pixels"));
    }
    let id = id.into_inner();
    let event = state.db.run(move |conn| crate::domain::events::events::get(conn, &actor, id)).await?;
    let url = format!("{}/e/{}", state.settings.public_url, event.registration_code);
    let png = actix_web::rt::task::spawn_blocking(move || crate::media::qr::png(&url, size))
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(|e| {
            tracing::error!(error = %e, "QR rendering failed");
            ApiError::internal()
        })?;
    Ok(HttpResponse::Ok()
        .content_type("image/png")
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Cache-Control", "private, max-age=3600"))
        .body(png))
}

fn attendee_table(list: Vec<crate::domain::events::checkins::Attendee>) -> crate::export::Table {
    let china = chrono::FixedOffset::east_opt(8 * 3600);
    let time = |t: DateTime<Utc>| match china {
        Some(o) => t.with_timezone(&o).format("%Y-%m-%d %H:%M").to_string(),
        None => t.to_rfc3339(),
    };
    crate::export::Table {
        headers: ["姓名", "手机号", "状态", "票号", "报名时间", "签到时间", "线索"].map(String::from).to_vec(),
        rows: list
            .into_iter()
            .map(|a| {
                vec![
                    a.name.unwrap_or_else(|| "（已删除）".to_owned()),
                    a.phone.unwrap_or_default(),
                    match a.status.as_str() {
                        "registered" => "已报名",
                        "waitlisted" => "候补",
                        _ => "已取消",
                    }
                    .to_owned(),
                    a.ticket_code,
                    time(a.registered_at),
                    a.checked_in_at.map(time).unwrap_or_default(),
                    if a.lead_id.is_some() { "是" } else { "" }.to_owned(),
                ]
            })
            .collect(),
        numeric: Vec::new(),
    }
}

async fn export(
    actor: Actor,
    state: &AppState,
    id: Uuid,
    format: &'static str,
) -> Result<(crate::export::Table, String), ApiError> {
    let (event, list) = state
        .db
        .run(move |conn| {
            let (event, list) = checkins::attendees(conn, &actor, id)?;
            checkins::record_export(conn, &actor, &event, format, list.len())?;
            Ok::<_, crate::domain::DomainError>((event, list))
        })
        .await?;
    Ok((attendee_table(list), format!("attendees-{}.{format}", event.id)))
}

/// The attendee list as CSV (UTF-8 with BOM, opens in Excel); every export is audited.
#[utoipa::path(tag = "events", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, description = "CSV", content_type = "text/csv", body = String),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/events/{id}/attendees.csv")]
pub async fn attendees_csv(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let (table, name) = export(actor, &state, id.into_inner(), "csv").await?;
    let bytes = table.to_csv().map_err(|e| {
        tracing::error!(error = %e, "csv export");
        ApiError::internal()
    })?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{name}\"")))
        .insert_header(("Cache-Control", "no-store"))
        .body(bytes))
}

/// The attendee list as an Excel workbook; every export is audited.
#[utoipa::path(tag = "events", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, description = "XLSX", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/events/{id}/attendees.xlsx")]
pub async fn attendees_xlsx(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let (table, name) = export(actor, &state, id.into_inner(), "xlsx").await?;
    let bytes = actix_web::rt::task::spawn_blocking(move || table.to_xlsx("参加者"))
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(|e| {
            tracing::error!(error = %e, "xlsx export");
            ApiError::internal()
        })?;
    Ok(HttpResponse::Ok()
        .content_type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{name}\"")))
        .insert_header(("Cache-Control", "no-store"))
        .body(bytes))
}
