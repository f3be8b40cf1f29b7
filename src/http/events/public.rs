//! `/api/v1/public/events/{code}`: what an attendee's phone calls, without any login.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::context::state::AppState;
use crate::domain::events::registrations::{self, CONSENT_TEXT, CONSENT_VERSION, RegistrationStatus, Ticket};
use crate::domain::kinds::event_kind::EventTheme;
use crate::http::common::json::Json;
use crate::http::common::problem::{ApiError, Problem};

#[derive(Serialize, utoipa::ToSchema)]
pub struct PublicEventBody {
    pub title: String,
    pub theme: EventTheme,
    pub description: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub venue: String,
    pub partner_name: String,
    pub spots_left: i32,
    /// Whether a registration would be accepted now (else closed or paused).
    pub registration_open: bool,
    pub registration_deadline: DateTime<Utc>,
    /// The consent the attendee gives by registering, and its version.
    pub consent_text: &'static str,
    pub consent_version: &'static str,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    #[schema(example = "陈女士")]
    pub name: String,
    #[schema(example = "13912345678")]
    pub phone: String,
    /// Must be `true`: the attendee agrees to `consent_text`.
    pub consent: bool,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    pub ticket_code: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TicketBody {
    pub ticket_code: String,
    pub status: RegistrationStatus,
    /// Place in the waitlist (1 = next), when waitlisted.
    pub waitlist_position: Option<i64>,
}

impl From<Ticket> for TicketBody {
    fn from(t: Ticket) -> Self {
        TicketBody { ticket_code: t.ticket_code, status: t.status, waitlist_position: t.waitlist_position }
    }
}

fn throttle(req: &HttpRequest, state: &AppState, code: &str) -> Result<(), ApiError> {
    let client = req.peer_addr().map(|a| a.ip());
    state
        .public_throttle
        .attempt(&format!("event:{code}"), client)
        .map_err(|retry_after| ApiError::from(crate::auth::AuthError::RateLimited { retry_after }))
}

/// An event's public face, for the registration page: no staff data.
#[utoipa::path(tag = "public", params(("code" = String, Path)), responses(
    (status = 200, body = PublicEventBody),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/public/events/{code}")]
pub async fn public_event(state: web::Data<AppState>, code: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let code = code.into_inner();
    let e = state.db.run(move |conn| registrations::public_view(conn, &code)).await?;
    Ok(HttpResponse::Ok().json(PublicEventBody {
        title: e.title,
        theme: e.theme,
        description: e.description,
        starts_at: e.starts_at,
        ends_at: e.ends_at,
        venue: e.venue,
        partner_name: e.partner_name,
        spots_left: e.spots_left,
        registration_open: e.registration_open,
        registration_deadline: e.registration_deadline,
        consent_text: CONSENT_TEXT,
        consent_version: CONSENT_VERSION,
    }))
}

/// Register for an event: `registered` while places last, then `waitlisted`. The same phone
/// again gets its existing ticket (200), never a second place.
#[utoipa::path(tag = "public", params(("code" = String, Path)), request_body = RegisterRequest, responses(
    (status = 201, body = TicketBody),
    (status = 200, description = "this phone had registered already", body = TicketBody),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "registration_paused by the organiser", body = Problem, content_type = "application/problem+json"),
    (status = 410, description = "registration_closed: past the deadline, cancelled or over", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "bad name or phone, or no consent", body = Problem, content_type = "application/problem+json"),
    (status = 429, body = Problem, content_type = "application/problem+json"),
))]
#[post("/public/events/{code}/registrations")]
pub async fn register(
    req: HttpRequest,
    state: web::Data<AppState>,
    code: web::Path<String>,
    Json(body): Json<RegisterRequest>,
) -> Result<HttpResponse, ApiError> {
    let code = code.into_inner();
    throttle(&req, &state, &code)?;
    let ticket =
        state.db.write(move |conn| registrations::register(conn, &code, &body.name, &body.phone, body.consent)).await?;
    let status = if ticket.existing { StatusCode::OK } else { StatusCode::CREATED };
    Ok(HttpResponse::build(status).json(TicketBody::from(ticket)))
}

/// Cancel a registration with its ticket code; the first waitlisted attendee moves up.
#[utoipa::path(tag = "public", params(("code" = String, Path)), request_body = CancelRequest, responses(
    (status = 200, body = TicketBody),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json"),
    (status = 429, body = Problem, content_type = "application/problem+json"),
))]
#[post("/public/events/{code}/cancel")]
pub async fn cancel(
    req: HttpRequest,
    state: web::Data<AppState>,
    code: web::Path<String>,
    Json(body): Json<CancelRequest>,
) -> Result<HttpResponse, ApiError> {
    let code = code.into_inner();
    throttle(&req, &state, &code)?;
    let ticket = state.db.run(move |conn| registrations::cancel(conn, &code, body.ticket_code.trim())).await?;
    Ok(HttpResponse::Ok().json(TicketBody::from(ticket)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawRequest {
    pub phone: String,
    pub ticket_code: String,
}

/// The attendee withdraws consent: their name and phone are erased at once (both the phone and
/// the ticket must match).
#[utoipa::path(tag = "public", params(("code" = String, Path)), request_body = WithdrawRequest, responses(
    (status = 204, description = "erased"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 429, body = Problem, content_type = "application/problem+json"),
))]
#[post("/public/events/{code}/withdraw")]
pub async fn withdraw(
    req: HttpRequest,
    state: web::Data<AppState>,
    code: web::Path<String>,
    Json(body): Json<WithdrawRequest>,
) -> Result<HttpResponse, ApiError> {
    let code = code.into_inner();
    throttle(&req, &state, &code)?;
    state.db.run(move |conn| registrations::withdraw(conn, &code, &body.phone, &body.ticket_code)).await?;
    Ok(HttpResponse::NoContent().finish())
}
