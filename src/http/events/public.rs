//! `/api/v1/public/events/{code}`: what an attendee's phone calls, without any login.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::context::state::AppState;
use crate::domain::events::registrations::{
    self, CONSENT_TEXT, CONSENT_VERSION, RegistrationStatus, Ticket, TicketSecret,
};
use crate::domain::kinds::event_kind::EventStatus;
use crate::domain::kinds::event_kind::EventTheme;
use crate::http::common::json::Json;
use crate::http::common::problem::{ApiError, Problem};

#[derive(Serialize, utoipa::ToSchema)]
pub struct OrganiserBody {
    /// The unit holding the event (an outlet or a sub-branch).
    pub name: String,
    pub branch_name: String,
    pub address: String,
    pub contact_phone: String,
}

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
    /// `cancelled` when the organiser called the event off.
    pub status: EventStatus,
    /// Whether a registration would be accepted now (else closed or paused).
    pub registration_open: bool,
    /// Open, but every place is taken: a registration now joins the waitlist.
    pub waitlist_only: bool,
    pub registration_deadline: DateTime<Utc>,
    /// Who handles the attendee's data.
    pub organiser: OrganiserBody,
    /// The privacy notice: purpose, retention, the right to withdraw.
    pub privacy_notice: String,
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
    /// The client's key for this submission (16 to 64 of `A-Z a-z 0-9 - _`): sending the same
    /// submission again with it (a lost answer) gives the same ticket back.
    #[schema(example = "kq3V9x2LmN8pR4tY6wZ1aB")]
    pub request_id: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TicketBody {
    /// The code under the QR that staff scan at the door: it checks in, nothing else.
    pub ticket_code: String,
    pub status: RegistrationStatus,
    /// Place in the waitlist (1 = next), when waitlisted.
    pub waitlist_position: Option<i64>,
    pub checked_in_at: Option<DateTime<Utc>>,
}

impl From<Ticket> for TicketBody {
    fn from(t: Ticket) -> Self {
        TicketBody {
            ticket_code: t.ticket_code,
            status: t.status,
            waitlist_position: t.waitlist_position,
            checked_in_at: t.checked_in_at,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RegisteredBody {
    #[serde(flatten)]
    pub ticket: TicketBody,
    /// Opens the ticket page and cancels or withdraws: given once, here, and never again.
    pub ticket_secret: String,
    /// The ticket page to keep (bookmark it): `{public_url}/e/{code}/t/{ticket_secret}`.
    pub ticket_url: String,
}

fn throttle(req: &HttpRequest, state: &AppState, code: &str) -> Result<(), ApiError> {
    let client = crate::http::common::client::address(req, &state.settings);
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
    let privacy_notice = registrations::privacy_notice(&e, state.settings.privacy_notice.as_deref());
    Ok(HttpResponse::Ok().json(PublicEventBody {
        waitlist_only: e.registration_open && e.spots_left == 0,
        privacy_notice,
        title: e.title,
        theme: e.theme,
        description: e.description,
        starts_at: e.starts_at,
        ends_at: e.ends_at,
        venue: e.venue,
        partner_name: e.partner_name,
        spots_left: e.spots_left,
        status: e.status,
        registration_open: e.registration_open,
        registration_deadline: e.registration_deadline,
        organiser: OrganiserBody {
            name: e.organiser.name,
            branch_name: e.organiser.branch_name,
            address: e.organiser.address,
            contact_phone: e.organiser.contact_phone,
        },
        consent_text: CONSENT_TEXT,
        consent_version: CONSENT_VERSION,
    }))
}

/// The ticket page of a registration, where its holder keeps it.
pub fn ticket_url(state: &AppState, code: &str, secret: &TicketSecret) -> String {
    format!("{}/e/{code}/t/{}", state.settings.public_url.trim_end_matches('/'), secret.as_str())
}

/// Register for an event: `registered` while places last, then `waitlisted`. The answer alone
/// carries the ticket's secret and page. A phone that has registered already gets 409
/// `already_registered` and nothing of its ticket, unless this is a retry of the same submission
/// (the same `request_id`), which gets the same ticket (200). A closed or paused event answers
/// alike for every phone.
#[utoipa::path(tag = "public", params(("code" = String, Path)), request_body = RegisterRequest, responses(
    (status = 201, body = RegisteredBody),
    (status = 200, description = "a retry of the submission that registered (same request_id)", body = RegisteredBody),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "already_registered: this phone holds a ticket (see its ticket page); registration_paused by the organiser", body = Problem, content_type = "application/problem+json"),
    (status = 410, description = "registration_closed: past the deadline, cancelled or over", body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "bad name, phone or request_id, or no consent", body = Problem, content_type = "application/problem+json"),
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
    let key = registrations::request_key(body.request_id.as_deref())?;
    let lookup = code.clone();
    let done = state
        .db
        .write(move |conn| registrations::register(conn, &lookup, &body.name, &body.phone, body.consent, &key))
        .await?;
    let status = if done.ticket.existing { StatusCode::OK } else { StatusCode::CREATED };
    Ok(HttpResponse::build(status).insert_header(("Cache-Control", "no-store")).json(RegisteredBody {
        ticket_url: ticket_url(&state, &code, &done.secret),
        ticket_secret: done.secret.as_str().to_owned(),
        ticket: TicketBody::from(done.ticket),
    }))
}

/// A ticket, by the secret its registration gave.
#[utoipa::path(tag = "public", params(("code" = String, Path), ("secret" = String, Path)), responses(
    (status = 200, body = TicketBody),
    (status = 404, description = "no such ticket (or withdrawn)", body = Problem, content_type = "application/problem+json"),
    (status = 429, body = Problem, content_type = "application/problem+json"),
))]
#[get("/public/events/{code}/tickets/{secret}")]
pub async fn get_ticket(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (code, secret) = path.into_inner();
    throttle(&req, &state, &code)?;
    let ticket = state.db.run(move |conn| registrations::ticket(conn, &code, &secret)).await?;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(TicketBody::from(ticket)))
}

/// Cancel a registration with its ticket's secret; the first waitlisted attendee moves up.
#[utoipa::path(tag = "public", params(("code" = String, Path), ("secret" = String, Path)), responses(
    (status = 200, body = TicketBody),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "already_checked_in", body = Problem, content_type = "application/problem+json"),
    (status = 429, body = Problem, content_type = "application/problem+json"),
))]
#[post("/public/events/{code}/tickets/{secret}/cancel")]
pub async fn cancel(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (code, secret) = path.into_inner();
    throttle(&req, &state, &code)?;
    let ticket = state.db.run(move |conn| registrations::cancel(conn, &code, &secret)).await?;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(TicketBody::from(ticket)))
}

/// The attendee withdraws consent with their ticket's secret: their name and phone are erased at
/// once, a place they held goes to the waitlist, and the ticket stops working.
#[utoipa::path(tag = "public", params(("code" = String, Path), ("secret" = String, Path)), responses(
    (status = 204, description = "erased"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 429, body = Problem, content_type = "application/problem+json"),
))]
#[post("/public/events/{code}/tickets/{secret}/withdraw")]
pub async fn withdraw(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (code, secret) = path.into_inner();
    throttle(&req, &state, &code)?;
    state.db.run(move |conn| registrations::withdraw(conn, &code, &secret)).await?;
    Ok(HttpResponse::NoContent().finish())
}
