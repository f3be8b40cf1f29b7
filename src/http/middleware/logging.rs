//! Request spans and the access log. Only the path is logged, never the query string or a body,
//! so no password, token or phone number reaches the logs through a request — and a ticket's
//! secret, which its page's path carries, is masked.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{Error, HttpMessage};
use tracing::Span;
use tracing_actix_web::{RequestId, RootSpanBuilder};

pub struct PrivateRootSpan;

impl RootSpanBuilder for PrivateRootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let request_id = request.extensions().get::<RequestId>().map(ToString::to_string).unwrap_or_default();
        tracing::info_span!(
            "request",
            method = %request.method(),
            path = %loggable(request.path()),
            request_id = %request_id,
            status = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let status = match outcome {
            Ok(response) => response.status().as_u16(),
            Err(error) => error.as_response_error().status_code().as_u16(),
        };
        span.record("status", status);
        span.in_scope(|| {
            if status >= 500 {
                tracing::error!(status, "request failed");
            } else {
                tracing::info!(status, "request done");
            }
        });
    }
}

/// The path with a ticket's secret masked: it acts for the attendee, and logs are read by many.
fn loggable(path: &str) -> std::borrow::Cow<'_, str> {
    let mut parts: Vec<&str> = path.split('/').collect();
    let mut masked = false;
    for i in 1..parts.len() {
        if matches!(parts[i - 1], "t" | "tickets") && !parts[i].is_empty() {
            parts[i] = "…";
            masked = true;
        }
    }
    if masked { parts.join("/").into() } else { path.into() }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_ticket_secret_never_reaches_the_log() {
        assert_eq!(super::loggable("/e/ABCDEFGH/t/s3cr3t-s3cr3t/withdraw"), "/e/ABCDEFGH/t/…/withdraw");
        assert_eq!(
            super::loggable("/api/v1/public/events/ABCDEFGH/tickets/s3cr3t"),
            "/api/v1/public/events/ABCDEFGH/tickets/…"
        );
        assert_eq!(super::loggable("/api/v1/partners"), "/api/v1/partners");
    }
}
