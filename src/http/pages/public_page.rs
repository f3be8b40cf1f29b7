//! The registration page attendees open from the QR code: server-rendered HTML (the askama
//! template `templates/public_event.html`, which escapes every value) with a plain form, Chinese
//! text, no scripts and nothing loaded from elsewhere, so it works in WeChat's built-in browser on
//! any phone.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use chrono::FixedOffset;
use serde::Deserialize;

use crate::context::state::AppState;
use crate::domain::DomainError;
use crate::domain::events::registrations::{self, CONSENT_TEXT, PublicEvent, RegistrationStatus, Ticket};
use crate::http::common::problem::ApiError;

/// `templates/public_event.html`: every page under `/e/{code}`, an event's card (when known)
/// over one of the bodies.
#[derive(Template)]
#[template(path = "public_event.html")]
struct PublicPage<'a> {
    title: &'a str,
    event: Option<EventCard<'a>>,
    body: Body<'a>,
}

/// What attendees read of an event, its times in China time.
struct EventCard<'a> {
    title: &'a str,
    description: &'a str,
    starts: String,
    ends: String,
    venue: &'a str,
    partner_name: &'a str,
    spots_left: i32,
}

enum Body<'a> {
    /// A card with one sentence.
    Message(&'a str),
    /// The event no longer takes registrations.
    Closed,
    /// The registration form, with what to fix and what was typed when it comes back.
    Form { code: &'a str, error: Option<&'a str>, name: &'a str, phone: &'a str, consent: &'static str },
    /// The ticket: where the registration stands, its code and its QR.
    Ticket { code: &'a str, state: String, ticket_code: &'a str },
}

fn page(status: StatusCode, content: &PublicPage<'_>) -> HttpResponse {
    let html = match content.render() {
        Ok(html) => html,
        Err(e) => {
            tracing::error!(error = %e, "public page");
            return HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .insert_header(("Cache-Control", "no-store"))
                .body("系统繁忙，请稍后再试。");
        }
    };
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header((
            "Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'",
        ))
        .insert_header(("Cache-Control", "no-store"))
        .body(html)
}

/// Attendees read times in China time.
fn china_time(t: chrono::DateTime<chrono::Utc>) -> String {
    match FixedOffset::east_opt(8 * 3600) {
        Some(china) => t.with_timezone(&china).format("%Y年%m月%d日 %H:%M").to_string(),
        None => t.format("%Y-%m-%d %H:%M UTC").to_string(),
    }
}

fn event_card(e: &PublicEvent) -> EventCard<'_> {
    EventCard {
        title: &e.title,
        description: &e.description,
        starts: china_time(e.starts_at),
        ends: china_time(e.ends_at),
        venue: &e.venue,
        partner_name: &e.partner_name,
        spots_left: e.spots_left,
    }
}

fn form<'a>(code: &'a str, error: Option<&'a str>, name: &'a str, phone: &'a str) -> Body<'a> {
    Body::Form { code, error, name, phone, consent: CONSENT_TEXT }
}

fn message(status: StatusCode, text: &str) -> HttpResponse {
    page(status, &PublicPage { title: "活动报名", event: None, body: Body::Message(text) })
}

/// The page for a link that names nothing.
pub fn not_found() -> HttpResponse {
    message(StatusCode::NOT_FOUND, "没有找到这个活动，请确认二维码或链接。")
}

fn valid_code(code: &str) -> bool {
    (8..=32).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The registration page of an event.
#[utoipa::path(tag = "public", params(("code" = String, Path)), responses(
    (status = 200, description = "HTML page", content_type = "text/html"),
    (status = 404, description = "HTML page", content_type = "text/html"),
))]
#[get("/e/{code}")]
pub async fn registration_page(state: web::Data<AppState>, code: web::Path<String>) -> HttpResponse {
    let code = code.into_inner();
    if !valid_code(&code) {
        return message(StatusCode::NOT_FOUND, "没有找到这个活动，请确认二维码或链接。");
    }
    let lookup = code.clone();
    match state.db.run(move |conn| registrations::public_view(conn, &lookup)).await {
        Ok(e) => {
            let body = if e.registration_open { form(&code, None, "", "") } else { Body::Closed };
            page(StatusCode::OK, &PublicPage { title: &e.title, event: Some(event_card(&e)), body })
        }
        Err(DomainError::NotFound(_)) => message(StatusCode::NOT_FOUND, "没有找到这个活动，请确认二维码或链接。"),
        Err(e) => {
            tracing::error!(error = %e, "registration page");
            message(StatusCode::INTERNAL_SERVER_ERROR, "系统繁忙，请稍后再试。")
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RegistrationForm {
    pub name: String,
    pub phone: String,
    /// Present (`yes`) when the box is ticked.
    pub consent: Option<String>,
}

fn ticket_page<'a>(code: &'a str, ticket: &'a Ticket, event: Option<&'a PublicEvent>) -> PublicPage<'a> {
    let state = match (ticket.status, ticket.waitlist_position) {
        (RegistrationStatus::Registered, _) => "报名成功！活动当天请出示下方二维码签到。".to_owned(),
        (RegistrationStatus::Waitlisted, Some(n)) => format!("名额已满，您在候补名单第 {n} 位；有人取消时将自动递补。"),
        (RegistrationStatus::Waitlisted, None) => "名额已满，您已进入候补名单。".to_owned(),
        (RegistrationStatus::Cancelled, _) => "该报名已取消。".to_owned(),
    };
    PublicPage {
        title: "报名结果",
        event: event.map(event_card),
        body: Body::Ticket { code, state, ticket_code: &ticket.ticket_code },
    }
}

/// Submits the registration form; answers with the ticket page, or the form with what to fix.
#[utoipa::path(tag = "public", params(("code" = String, Path)),
    request_body(content = RegistrationForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "HTML ticket page", content_type = "text/html"),
        (status = 400, description = "HTML page: the form could not be read", content_type = "text/html"),
        (status = 404, description = "HTML page: no such event", content_type = "text/html"),
        (status = 422, description = "HTML form with the problem", content_type = "text/html"),
        (status = 429, description = "HTML page", content_type = "text/html"),
    ))]
#[post("/e/{code}")]
pub async fn submit_registration(
    req: HttpRequest,
    state: web::Data<AppState>,
    code: web::Path<String>,
    form_data: Option<web::Form<RegistrationForm>>,
) -> HttpResponse {
    let code = code.into_inner();
    let Some(web::Form(input)) = form_data else {
        return message(StatusCode::BAD_REQUEST, "提交的内容无法识别，请返回重试。");
    };
    let client = req.peer_addr().map(|a| a.ip());
    if state.public_throttle.attempt(&format!("event:{code}"), client).is_err() {
        return message(StatusCode::TOO_MANY_REQUESTS, "提交太频繁，请稍后再试。");
    }
    let consent = input.consent.is_some();
    let (lookup, name, phone) = (code.clone(), input.name.clone(), input.phone.clone());
    let result = state.db.run(move |conn| registrations::register(conn, &lookup, &name, &phone, consent)).await;
    let lookup = code.clone();
    let event = state.db.run(move |conn| registrations::public_view(conn, &lookup)).await.ok();
    match result {
        Ok(ticket) => page(StatusCode::OK, &ticket_page(&code, &ticket, event.as_ref())),
        Err(DomainError::Validation(errors)) => {
            let text = if errors.contains_key("consent") {
                "请勾选同意个人信息使用说明。"
            } else if errors.contains_key("phone") {
                "请填写正确的 11 位手机号。"
            } else {
                "请填写姓名。"
            };
            let content = PublicPage {
                title: "活动报名",
                event: event.as_ref().map(event_card),
                body: form(&code, Some(text), &input.name, &input.phone),
            };
            page(StatusCode::UNPROCESSABLE_ENTITY, &content)
        }
        Err(DomainError::NotFound(_)) => message(StatusCode::NOT_FOUND, "没有找到这个活动，请确认二维码或链接。"),
        Err(DomainError::Gone { .. }) => message(StatusCode::GONE, "报名已截止。"),
        Err(DomainError::Conflict { .. }) => message(StatusCode::CONFLICT, "报名暂停中，请稍后再试。"),
        Err(e) => {
            tracing::error!(error = %e, "registration form");
            message(StatusCode::INTERNAL_SERVER_ERROR, "系统繁忙，请稍后再试。")
        }
    }
}

/// The ticket's QR code (it holds the ticket code), for staff to scan at the door.
#[utoipa::path(tag = "public", params(("code" = String, Path), ("ticket" = String, Path)), responses(
    (status = 200, description = "PNG", content_type = "image/png", body = Vec<u8>),
    (status = 404, body = crate::http::common::problem::Problem, content_type = "application/problem+json"),
))]
#[get("/e/{code}/tickets/{ticket}.png")]
pub async fn ticket_qr(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (code, ticket) = path.into_inner();
    let lookup = ticket.clone();
    let known = state.db.run(move |conn| registrations::ticket_belongs(conn, &code, &lookup)).await?;
    if !known {
        return Err(ApiError::not_found("ticket"));
    }
    let png = actix_web::rt::task::spawn_blocking(move || crate::media::qr::png(&ticket, 240))
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(|_| ApiError::internal())?;
    Ok(HttpResponse::Ok()
        .content_type("image/png")
        .insert_header(("Cache-Control", "private, max-age=86400"))
        .body(png))
}
