//! A seam for the test suite's exposure scan: when a tap is installed, every response body is
//! shown to it after the handler ran. Nothing is installed in production (one atomic load per
//! response); the suite installs one that fails any test whose answers carry a password hash, a
//! token, a stack trace or SQL (see `tests/api/helpers.rs`).

use std::sync::OnceLock;

use actix_web::HttpResponse;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;

/// One answer, as the tap sees it.
pub struct Tapped<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub host: &'a str,
    pub authorization: Option<&'a str>,
    pub status: u16,
    pub content_type: &'a str,
    pub body: &'a [u8],
}

static TAP: OnceLock<fn(&Tapped)> = OnceLock::new();

/// Installs the tap for the life of the process; a second install is ignored.
pub fn install(tap: fn(&Tapped)) {
    let _ = TAP.set(tap);
}

pub async fn tap_responses(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(tap) = TAP.get() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let text = |name| req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (method, path, host, authorization) =
        (req.method().to_string(), req.path().to_owned(), text(header::HOST), text(header::AUTHORIZATION));
    let res = next.call(req).await?;
    let (request, response) = res.into_parts();
    let (head, body) = response.into_parts();
    let bytes =
        actix_web::body::to_bytes(body).await.map_err(|e| actix_web::error::ErrorInternalServerError(e.into()))?;
    let content_type = head.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    tap(&Tapped {
        method: &method,
        path: &path,
        host: host.as_deref().unwrap_or(""),
        authorization: authorization.as_deref(),
        status: head.status().as_u16(),
        content_type: &content_type,
        body: &bytes,
    });
    let response: HttpResponse<BoxBody> = head.set_body(bytes).map_into_boxed_body();
    Ok(ServiceResponse::new(request, response))
}
