//! Every request body must arrive whole within `OUTREACH_BODY_TIMEOUT_SECS`: a body that
//! trickles in (a slow-body attack, or a phone whose network died mid-upload) then fails with a
//! timed-out read, which the body extractors answer 408, instead of holding its connection and
//! buffer for ever. Request heads have actix's own 5 s limit (see `app::startup`).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::rt::time::{Sleep, sleep};
use actix_web::web::{self, Bytes};
use futures_util::Stream;

use crate::http::common::problem::TIMED_OUT;

/// How long a client may take to send a whole body (app data; 120 s when absent).
#[derive(Debug, Clone, Copy)]
pub struct BodyDeadline(pub Duration);

struct Deadline {
    inner: Payload,
    sleep: Pin<Box<Sleep>>,
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let Poll::Ready(item) = Pin::new(&mut this.inner).poll_next(cx) {
            return Poll::Ready(item);
        }
        match this.sleep.as_mut().poll(cx) {
            Poll::Ready(()) => {
                Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(std::io::ErrorKind::TimedOut, TIMED_OUT)))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

pub async fn body_deadline(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        let limit = req.app_data::<web::Data<BodyDeadline>>().map_or(Duration::from_secs(120), |d| d.0);
        let inner = req.take_payload();
        let timed: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> =
            Box::pin(Deadline { inner, sleep: Box::pin(sleep(limit)) });
        req.set_payload(Payload::from(timed));
    }
    next.call(req).await
}
