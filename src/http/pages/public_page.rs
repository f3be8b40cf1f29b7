//! The registration page attendees open from the QR code: server-rendered HTML with a plain
//! form, Chinese text, no scripts and nothing loaded from elsewhere, so it works in WeChat's
//! built-in browser on any phone.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::FixedOffset;
use serde::Deserialize;

use crate::context::state::AppState;
use crate::domain::DomainError;
use crate::domain::events::registrations::{self, CONSENT_TEXT, PublicEvent, RegistrationStatus, Ticket};
use crate::http::common::problem::ApiError;

fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            other => other.to_string(),
        })
        .collect()
}

fn page(status: StatusCode, title: &str, body: &str) -> HttpResponse {
    let html = format!(
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{}</title>\
         <style>body{{font-family:-apple-system,'PingFang SC','Microsoft YaHei',sans-serif;margin:0;padding:16px;background:#f6f6f6;color:#222}}\
         .card{{background:#fff;border-radius:8px;padding:16px;margin-bottom:12px}}h1{{font-size:20px;margin:0 0 8px}}\
         label{{display:block;margin:12px 0 4px}}input[type=text],input[type=tel]{{width:100%;box-sizing:border-box;font-size:16px;padding:10px;border:1px solid #ccc;border-radius:6px}}\
         button{{width:100%;font-size:17px;padding:12px;margin-top:16px;border:0;border-radius:6px;background:#c8102e;color:#fff}}\
         .muted{{color:#666;font-size:14px}}.error{{color:#c8102e}}.ticket{{font-size:28px;letter-spacing:3px;font-weight:bold}}</style>\
         </head><body>{body}</body></html>",
        escape(title)
    );
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

fn event_card(e: &PublicEvent) -> String {
    format!(
        "<div class=\"card\"><h1>{}</h1><p>{}</p><p class=\"muted\">时间：{} – {}<br>地点：{}<br>合作方：{}<br>剩余名额：{}</p></div>",
        escape(&e.title),
        escape(&e.description),
        china_time(e.starts_at),
        china_time(e.ends_at),
        escape(&e.venue),
        escape(&e.partner_name),
        e.spots_left
    )
}

fn form(code: &str, error: Option<&str>, name: &str, phone: &str) -> String {
    let error = error.map(|e| format!("<p class=\"error\">{}</p>", escape(e))).unwrap_or_default();
    format!(
        "<form class=\"card\" method=\"post\" action=\"/e/{code}\">{error}\
         <label for=\"name\">姓名</label><input type=\"text\" id=\"name\" name=\"name\" maxlength=\"50\" required value=\"{}\">\
         <label for=\"phone\">手机号</label><input type=\"tel\" id=\"phone\" name=\"phone\" maxlength=\"20\" required value=\"{}\">\
         <label><input type=\"checkbox\" name=\"consent\" value=\"yes\" required> {}</label>\
         <button type=\"submit\">提交报名</button></form>",
        escape(name),
        escape(phone),
        escape(CONSENT_TEXT),
        code = escape(code),
    )
}

fn message(status: StatusCode, text: &str) -> HttpResponse {
    page(status, "活动报名", &format!("<div class=\"card\"><p>{}</p></div>", escape(text)))
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
            let body = if e.registration_open {
                format!("{}{}", event_card(&e), form(&code, None, "", ""))
            } else {
                format!("{}<div class=\"card\"><p>报名已关闭。</p></div>", event_card(&e))
            };
            page(StatusCode::OK, &e.title, &body)
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

fn ticket_page(code: &str, ticket: &Ticket, event: Option<&PublicEvent>) -> String {
    let state = match (ticket.status, ticket.waitlist_position) {
        (RegistrationStatus::Registered, _) => "报名成功！活动当天请出示下方二维码签到。".to_owned(),
        (RegistrationStatus::Waitlisted, Some(n)) => format!("名额已满，您在候补名单第 {n} 位；有人取消时将自动递补。"),
        (RegistrationStatus::Waitlisted, None) => "名额已满，您已进入候补名单。".to_owned(),
        (RegistrationStatus::Cancelled, _) => "该报名已取消。".to_owned(),
    };
    format!(
        "{}<div class=\"card\"><p>{}</p><p>票号</p><p class=\"ticket\">{}</p>\
         <img src=\"/e/{}/tickets/{}.png\" alt=\"签到二维码\" width=\"240\" height=\"240\">\
         <p class=\"muted\">请截图保存本页。</p></div>",
        event.map(event_card).unwrap_or_default(),
        escape(&state),
        escape(&ticket.ticket_code),
        escape(code),
        escape(&ticket.ticket_code)
    )
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
        Ok(ticket) => page(StatusCode::OK, "报名结果", &ticket_page(&code, &ticket, event.as_ref())),
        Err(DomainError::Validation(errors)) => {
            let text = if errors.contains_key("consent") {
                "请勾选同意个人信息使用说明。"
            } else if errors.contains_key("phone") {
                "请填写正确的 11 位手机号。"
            } else {
                "请填写姓名。"
            };
            let card = event.as_ref().map(event_card).unwrap_or_default();
            page(
                StatusCode::UNPROCESSABLE_ENTITY,
                "活动报名",
                &format!("{card}{}", form(&code, Some(text), &input.name, &input.phone)),
            )
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
