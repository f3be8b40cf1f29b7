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
use crate::domain::events::registrations::{self, CONSENT_TEXT, PublicEvent, RegistrationStatus, Ticket};
use crate::domain::kinds::event_kind::EventStatus;
use crate::domain::{DomainError, ErrorCode};
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

/// What attendees read of an event, its times in China time, and who organises it.
struct EventCard<'a> {
    title: &'a str,
    description: &'a str,
    starts: String,
    ends: String,
    venue: &'a str,
    partner_name: &'a str,
    spots_left: i32,
    organiser: &'a registrations::Organiser,
}

enum Body<'a> {
    /// A card with one sentence.
    Message(&'a str),
    /// The event no longer takes registrations; `cancelled` when it was called off.
    Closed { cancelled: bool },
    /// The registration form, with what to fix and what was typed when it comes back, the
    /// submission's key (a resubmission gets the same ticket) and, when every place is taken,
    /// the waitlist said before submitting.
    Form {
        code: &'a str,
        error: Option<&'a str>,
        name: &'a str,
        phone: &'a str,
        consent: &'static str,
        notice: String,
        request_id: String,
        waitlist: bool,
    },
    /// The ticket page: where the registration stands, the QR when it admits, cancel, withdraw.
    Ticket { code: &'a str, secret: &'a str, state: String, ticket_code: &'a str, admits: bool, can_cancel: bool },
    /// What withdrawing erases, and the button that does it.
    Withdraw { code: &'a str, secret: &'a str, notice: String },
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
        // A ticket page's address is its secret: never sent on to another site.
        .insert_header(("Referrer-Policy", "no-referrer"))
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
        organiser: &e.organiser,
    }
}

fn form<'a>(
    state: &AppState,
    e: &'a PublicEvent,
    code: &'a str,
    error: Option<&'a str>,
    typed: (&'a str, &'a str),
    request_id: String,
) -> Body<'a> {
    Body::Form {
        code,
        error,
        name: typed.0,
        phone: typed.1,
        consent: CONSENT_TEXT,
        notice: registrations::privacy_notice(e, state.settings.privacy_notice.as_deref()),
        request_id,
        waitlist: e.spots_left == 0,
    }
}

fn message(status: StatusCode, text: &str) -> HttpResponse {
    page(status, &PublicPage { title: "活动报名", event: None, body: Body::Message(text) })
}

const NO_EVENT: &str = "没有找到这个活动，请确认二维码或链接。";
const NO_TICKET: &str = "没有找到这张票据：链接不完整，或报名信息已撤回删除。";
const BUSY: &str = "系统繁忙，请稍后再试。";

/// The page for a link that names nothing.
pub fn not_found() -> HttpResponse {
    message(StatusCode::NOT_FOUND, NO_EVENT)
}

fn valid_code(code: &str) -> bool {
    (8..=32).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn failed(e: &DomainError, what: &str) -> HttpResponse {
    match e {
        DomainError::NotFound("ticket") => message(StatusCode::NOT_FOUND, NO_TICKET),
        DomainError::NotFound(_) => message(StatusCode::NOT_FOUND, NO_EVENT),
        e => {
            tracing::error!(error = %e, "{what}");
            message(StatusCode::INTERNAL_SERVER_ERROR, BUSY)
        }
    }
}

async fn event(state: &AppState, code: &str) -> Result<PublicEvent, DomainError> {
    let lookup = code.to_owned();
    state.db.run(move |conn| registrations::public_view(conn, &lookup)).await
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
        return not_found();
    }
    match event(&state, &code).await {
        Ok(e) => {
            let body = if e.registration_open {
                form(&state, &e, &code, None, ("", ""), registrations::fresh_request_key())
            } else {
                Body::Closed { cancelled: e.status == EventStatus::Cancelled }
            };
            page(StatusCode::OK, &PublicPage { title: &e.title, event: Some(event_card(&e)), body })
        }
        Err(e) => failed(&e, "registration page"),
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RegistrationForm {
    pub name: String,
    pub phone: String,
    /// Present (`yes`) when the box is ticked.
    pub consent: Option<String>,
    /// The form's key for this submission (a hidden field): submitting it again gets the same
    /// ticket.
    pub request_id: Option<String>,
}

fn see(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("Location", location))
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .finish()
}

/// Submits the registration form; a registration goes on to its ticket page (303), which the
/// attendee keeps; otherwise the form comes back with what to fix.
#[utoipa::path(tag = "public", params(("code" = String, Path)),
    request_body(content = RegistrationForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "registered: on to the ticket page `/e/{code}/t/{secret}`"),
        (status = 400, description = "HTML page: the form could not be read", content_type = "text/html"),
        (status = 404, description = "HTML page: no such event", content_type = "text/html"),
        (status = 409, description = "HTML page: this phone has registered already, or registration is paused", content_type = "text/html"),
        (status = 410, description = "HTML page: registration has closed", content_type = "text/html"),
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
    let client = crate::http::common::client::address(&req, &state.settings);
    if state.public_throttle.attempt(&format!("event:{code}"), client).is_err() {
        return message(StatusCode::TOO_MANY_REQUESTS, "提交太频繁，请稍后再试。");
    }
    let key =
        registrations::request_key(input.request_id.as_deref()).unwrap_or_else(|_| registrations::fresh_request_key());
    let consent = input.consent.is_some();
    let (lookup, name, phone, submitted) = (code.clone(), input.name.clone(), input.phone.clone(), key.clone());
    let result =
        state.db.write(move |conn| registrations::register(conn, &lookup, &name, &phone, consent, &submitted)).await;
    let e = match event(&state, &code).await {
        Ok(e) => e,
        Err(e) => return failed(&e, "registration form"),
    };
    let error = match result {
        Ok(done) => return see(&format!("/e/{code}/t/{}", done.secret.as_str())),
        Err(DomainError::Validation(errors)) => {
            if errors.contains_key("consent") {
                "请勾选同意个人信息使用说明。"
            } else if errors.contains_key("phone") {
                "请填写正确的 11 位手机号。"
            } else {
                "请填写姓名。"
            }
        }
        Err(DomainError::Gone { .. }) => {
            let body = Body::Closed { cancelled: e.status == EventStatus::Cancelled };
            return page(StatusCode::GONE, &PublicPage { title: &e.title, event: Some(event_card(&e)), body });
        }
        Err(DomainError::Conflict { code: ErrorCode::AlreadyRegistered, .. }) => {
            let text = "这个手机号已经报名了本活动。请打开报名成功时收藏的票据页面；找不到时，请联系主办方。";
            let content = PublicPage { title: &e.title, event: Some(event_card(&e)), body: Body::Message(text) };
            return page(StatusCode::CONFLICT, &content);
        }
        Err(DomainError::Conflict { .. }) => return message(StatusCode::CONFLICT, "报名暂停中，请稍后再试。"),
        Err(e) => return failed(&e, "registration form"),
    };
    let content = PublicPage {
        title: "活动报名",
        event: Some(event_card(&e)),
        body: form(&state, &e, &code, Some(error), (&input.name, &input.phone), key),
    };
    page(StatusCode::UNPROCESSABLE_ENTITY, &content)
}

fn ticket_state(ticket: &Ticket) -> String {
    match (ticket.status, ticket.waitlist_position, ticket.checked_in_at) {
        (_, _, Some(at)) => format!("已于 {} 签到，欢迎参加！", china_time(at)),
        (RegistrationStatus::Registered, _, None) => "报名成功！活动当天请向工作人员出示下方二维码签到。".to_owned(),
        (RegistrationStatus::Waitlisted, Some(n), None) => format!(
            "您在候补名单第 {n} 位，目前还不能入场。有人取消时按顺序递补，递补成功后本页会显示入场二维码，请收藏本页留意。"
        ),
        (RegistrationStatus::Waitlisted, None, None) => {
            "您在候补名单中，目前还不能入场。递补成功后本页会显示入场二维码。".to_owned()
        }
        (RegistrationStatus::Cancelled, _, None) => "该报名已取消。".to_owned(),
    }
}

/// A ticket's page: the attendee's bookmark, with the QR when it admits, cancel and withdraw.
#[utoipa::path(tag = "public", params(("code" = String, Path), ("secret" = String, Path)), responses(
    (status = 200, description = "HTML page", content_type = "text/html"),
    (status = 404, description = "HTML page", content_type = "text/html"),
))]
#[get("/e/{code}/t/{secret}")]
pub async fn ticket_page(state: web::Data<AppState>, path: web::Path<(String, String)>) -> HttpResponse {
    let (code, secret) = path.into_inner();
    let (lookup, key) = (code.clone(), secret.clone());
    let ticket = match state.db.run(move |conn| registrations::ticket(conn, &lookup, &key)).await {
        Ok(t) => t,
        Err(e) => return failed(&e, "ticket page"),
    };
    let e = match event(&state, &code).await {
        Ok(e) => e,
        Err(e) => return failed(&e, "ticket page"),
    };
    let live = matches!(ticket.status, RegistrationStatus::Registered | RegistrationStatus::Waitlisted);
    let body = Body::Ticket {
        code: &code,
        secret: &secret,
        state: ticket_state(&ticket),
        ticket_code: &ticket.ticket_code,
        admits: ticket.status == RegistrationStatus::Registered && e.status != EventStatus::Cancelled,
        can_cancel: live && ticket.checked_in_at.is_none() && e.status == EventStatus::Planned,
    };
    page(StatusCode::OK, &PublicPage { title: "我的活动票据", event: Some(event_card(&e)), body })
}

/// Cancels from the ticket page, and comes back to it.
#[utoipa::path(tag = "public", params(("code" = String, Path), ("secret" = String, Path)), responses(
    (status = 303, description = "cancelled: back to the ticket page"),
    (status = 404, description = "HTML page", content_type = "text/html"),
    (status = 409, description = "HTML page: the ticket was used at the event", content_type = "text/html"),
    (status = 429, description = "HTML page", content_type = "text/html"),
))]
#[post("/e/{code}/t/{secret}/cancel")]
pub async fn cancel_ticket(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (code, secret) = path.into_inner();
    let client = crate::http::common::client::address(&req, &state.settings);
    if state.public_throttle.attempt(&format!("event:{code}"), client).is_err() {
        return message(StatusCode::TOO_MANY_REQUESTS, "提交太频繁，请稍后再试。");
    }
    let (lookup, key) = (code.clone(), secret.clone());
    match state.db.run(move |conn| registrations::cancel(conn, &lookup, &key)).await {
        Ok(_) => see(&format!("/e/{code}/t/{secret}")),
        Err(DomainError::Conflict { .. }) => message(StatusCode::CONFLICT, "这张票据已在活动现场签到，不能取消。"),
        Err(e) => failed(&e, "cancel"),
    }
}

/// What withdrawing erases, before the attendee confirms it.
#[utoipa::path(tag = "public", params(("code" = String, Path), ("secret" = String, Path)), responses(
    (status = 200, description = "HTML page", content_type = "text/html"),
    (status = 404, description = "HTML page", content_type = "text/html"),
))]
#[get("/e/{code}/t/{secret}/withdraw")]
pub async fn withdraw_page(state: web::Data<AppState>, path: web::Path<(String, String)>) -> HttpResponse {
    let (code, secret) = path.into_inner();
    let (lookup, key) = (code.clone(), secret.clone());
    if let Err(e) = state.db.run(move |conn| registrations::ticket(conn, &lookup, &key)).await {
        return failed(&e, "withdraw page");
    }
    let e = match event(&state, &code).await {
        Ok(e) => e,
        Err(e) => return failed(&e, "withdraw page"),
    };
    let notice = registrations::privacy_notice(&e, state.settings.privacy_notice.as_deref());
    let body = Body::Withdraw { code: &code, secret: &secret, notice };
    page(StatusCode::OK, &PublicPage { title: "撤回同意并删除个人信息", event: Some(event_card(&e)), body })
}

/// Withdraws consent: the attendee's name and phone are erased at once.
#[utoipa::path(tag = "public", params(("code" = String, Path), ("secret" = String, Path)), responses(
    (status = 200, description = "HTML page: erased", content_type = "text/html"),
    (status = 404, description = "HTML page", content_type = "text/html"),
    (status = 429, description = "HTML page", content_type = "text/html"),
))]
#[post("/e/{code}/t/{secret}/withdraw")]
pub async fn withdraw_ticket(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (code, secret) = path.into_inner();
    let client = crate::http::common::client::address(&req, &state.settings);
    if state.public_throttle.attempt(&format!("event:{code}"), client).is_err() {
        return message(StatusCode::TOO_MANY_REQUESTS, "提交太频繁，请稍后再试。");
    }
    match state.db.run(move |conn| registrations::withdraw(conn, &code, &secret)).await {
        Ok(()) => {
            message(StatusCode::OK, "已撤回同意：您在本活动中的姓名和手机号已删除，报名同时取消。这张票据不再有效。")
        }
        Err(e) => failed(&e, "withdraw"),
    }
}

/// The ticket's QR code (it holds the door code), for staff to scan; only the ticket page has it.
#[utoipa::path(tag = "public", params(("code" = String, Path), ("secret" = String, Path)), responses(
    (status = 200, description = "PNG", content_type = "image/png", body = Vec<u8>),
    (status = 404, body = crate::http::common::problem::Problem, content_type = "application/problem+json"),
))]
#[get("/e/{code}/t/{secret}/qr.png")]
pub async fn ticket_qr(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (code, secret) = path.into_inner();
    let ticket = state.db.run(move |conn| registrations::ticket(conn, &code, &secret)).await?;
    if ticket.status != RegistrationStatus::Registered {
        return Err(ApiError::not_found("ticket"));
    }
    let png = actix_web::rt::task::spawn_blocking(move || crate::media::qr::png(&ticket.ticket_code, 240))
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(|_| ApiError::internal())?;
    Ok(HttpResponse::Ok()
        .content_type("image/png")
        .insert_header(("Cache-Control", "private, no-store"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .body(png))
}
