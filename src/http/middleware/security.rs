//! What every response carries for the browser's sake, and the cross-origin allowlist.
//!
//! The API's clients are the phone app (not a browser) and the same-origin map page, so by
//! default no other origin may call it; `OUTREACH_CORS_ORIGINS` names the ones that may.

use actix_cors::Cors;
use actix_web::ResponseError;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::{DefaultHeaders, Next};

use crate::domain::ErrorCode;
use crate::http::common::problem::ApiError;

/// One year, with subdomains: the policy browsers keep once they have seen it over TLS.
const HSTS: &str = "max-age=31536000; includeSubDomains";

/// The allowlist as a middleware; with no origins configured it is left off entirely.
pub fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .expose_headers([header::ETAG, header::LOCATION, header::RETRY_AFTER, header::CONTENT_DISPOSITION])
        .expose_headers([HeaderName::from_static("x-request-id")])
        // A same-origin request carries an Origin header too (the map page's fetches); it must
        // not be refused for being absent from a list that names only other origins.
        .block_on_origin_mismatch(false)
        .max_age(3600);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

/// The headers every response carries unless it sets its own, fixed at start-up: HSTS only when
/// the server is reached over TLS (`OUTREACH_PUBLIC_URL=https://…`, e.g. behind a
/// TLS-terminating proxy), since only then may it ask browsers to insist on it.
pub fn default_headers(tls: bool) -> DefaultHeaders {
    let headers = DefaultHeaders::new()
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::REFERRER_POLICY, "no-referrer"))
        // Personal data (names, phones, locations) must not stay in a shared or browser cache;
        // what may be cached (photos by hash, the map's assets, tickets) says so itself.
        .add((header::CACHE_CONTROL, "no-store"));
    if tls { headers.add((header::STRICT_TRANSPORT_SECURITY, HSTS)) } else { headers }
}

/// Turns the CORS layer's plain-text refusal of a preflight into a problem document like every
/// other error.
pub async fn cors_refusal_as_problem(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let preflight = req.method() == Method::OPTIONS && req.headers().contains_key(header::ORIGIN);
    let res = next.call(req).await?;
    Ok(if preflight && res.status() == StatusCode::BAD_REQUEST && !is_problem(&res) {
        let refusal = ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::CorsNotAllowed,
            "this origin, method or header is not allowed to call the API from a browser",
        );
        res.into_response(refusal.error_response())
    } else {
        res.map_into_boxed_body()
    })
}

fn is_problem<B>(res: &ServiceResponse<B>) -> bool {
    res.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"))
}

/// Refuses a request whose path or query escapes a NUL character (`%00`): PostgreSQL cannot hold
/// one in text, and no id, code or filter ever contains one. On every route, the public pages
/// included (`POST /e/%00` was a 500 there). The path is 404 like any name that names nothing; an
/// API query is 422 like any malformed parameter; a page answers with its own 404 page.
pub async fn refuse_nul(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let nul = |text: &str| text.as_bytes().windows(3).any(|w| w.eq_ignore_ascii_case(b"%00"));
    if !req.path().starts_with("/api/") {
        if nul(req.uri().path()) || req.uri().query().is_some_and(nul) {
            // The public event pages answer in HTML; the map page and its assets, as their spec
            // says, in problem+json.
            let page = if req.path().starts_with("/e/") {
                crate::http::pages::public_page::not_found()
            } else {
                ApiError::not_found("resource").error_response()
            };
            return Ok(req.into_response(page));
        }
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    if nul(req.uri().path()) {
        return Ok(req.into_response(ApiError::not_found("resource").error_response()));
    }
    if req.uri().query().is_some_and(nul) {
        let problem = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::InvalidQuery,
            "the query must not contain NUL (%00)",
        );
        return Ok(req.into_response(problem.error_response()));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}
