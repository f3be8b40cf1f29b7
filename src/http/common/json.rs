//! The JSON body extractor: content type checked, size bounded, unknown fields and wrong types
//! reported per field (by JSON path) instead of one opaque parser message.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use crate::domain::{ErrorCode, FieldErrors};
use crate::http::common::problem::ApiError;

/// The largest JSON body accepted, in bytes (app data; 1 MiB when absent).
#[derive(Debug, Clone, Copy)]
pub struct JsonLimit(pub usize);

pub struct Json<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req.app_data::<web::Data<JsonLimit>>().map_or(1024 * 1024, |l| l.0);
        extract(req, payload, limit)
    }
}

/// A JSON body of up to `LIMIT` bytes, whatever the app's limit: for the few bodies that are
/// large by nature (a phone's offline day, pushed at once).
pub struct LargeJson<T, const LIMIT: usize>(pub T);

impl<T: DeserializeOwned + 'static, const LIMIT: usize> FromRequest for LargeJson<T, LIMIT> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let fut = extract::<T>(req, payload, LIMIT);
        Box::pin(async move { fut.await.map(|Json(t)| LargeJson(t)) })
    }
}

fn extract<T: DeserializeOwned + 'static>(
    req: &HttpRequest,
    payload: &mut Payload,
    limit: usize,
) -> Pin<Box<dyn Future<Output = Result<Json<T>, ApiError>>>> {
    let is_json = req
        .mime_type()
        .ok()
        .flatten()
        .is_some_and(|m| m.subtype() == mime_json() || m.suffix().is_some_and(|s| s == mime_json()));
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    let mut payload = payload.take();
    Box::pin(async move {
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
                "send the body as application/json",
            ));
        }
        if declared.is_some_and(|n| n > limit) {
            return Err(too_large(limit));
        }
        let mut body = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| crate::http::common::problem::unreadable(&e, ErrorCode::BadPayload))?;
            if body.len() + chunk.len() > limit {
                return Err(too_large(limit));
            }
            body.extend_from_slice(&chunk);
        }
        parse(&body).map(Json)
    })
}

fn mime_json() -> &'static str {
    "json"
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::PayloadTooLarge, format!("the body exceeds {limit} bytes"))
}

/// Parses a body, telling syntax errors (400) from well-formed JSON of the wrong shape (422).
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if escapes_nul(body) {
        // PostgreSQL cannot store U+0000 in text (SQLite can): refused here, for both.
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::InvalidBody,
            "the body does not fit the schema: text must not contain NUL characters (\\u0000)",
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(value) => match de.end() {
            Ok(()) => Ok(value),
            Err(e) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::MalformedJson,
                format!("the body is not valid JSON: {e}"),
            )),
        },
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner();
            if inner.is_syntax() || inner.is_eof() {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::MalformedJson,
                    format!("the body is not valid JSON: {inner}"),
                ));
            }
            let field = if path == "." { String::new() } else { path };
            let message = strip_position(&inner.to_string());
            Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::InvalidBody,
                format!("the body does not fit the schema: {message}"),
            )
            .with_errors(FieldErrors::from([(field, message)])))
        }
    }
}

/// Whether a JSON text holds `\u0000` as an escape (not as an escaped backslash followed by
/// `u0000`). Raw NUL bytes cannot appear in a JSON string, so this is the only way in.
fn escapes_nul(body: &[u8]) -> bool {
    body.windows(6).enumerate().any(|(i, w)| {
        w.eq_ignore_ascii_case(b"\\u0000") && body[..i].iter().rev().take_while(|&&b| b == b'\\').count() % 2 == 0
    })
}

/// serde_json appends " at line 1 column 42"; the JSON path says where far better.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        count: u32,
    }

    #[test]
    fn reports_the_path_of_a_wrong_type() {
        let err = parse::<Body>(br#"{"name": "a", "count": "many"}"#).err().map(|e| (e.code(), e.to_string()));
        assert_eq!(err.map(|(c, _)| c), Some(ErrorCode::InvalidBody));
    }

    #[test]
    fn a_nul_escape_is_found_and_an_escaped_backslash_is_not() {
        assert!(escapes_nul(br#"{"a": "x\u0000y"}"#));
        assert!(escapes_nul(br#"{"a": "\\\u0000"}"#));
        assert!(!escapes_nul(br#"{"a": "\\u0000"}"#));
        assert!(!escapes_nul(br#"{"a": "u0000"}"#));
    }

    #[test]
    fn tells_syntax_from_shape() {
        assert_eq!(parse::<Body>(br#"{"name": "a", "#).err().map(|e| e.code()), Some(ErrorCode::MalformedJson));
        assert_eq!(
            parse::<Body>(br#"{"name": "a", "count": 1, "x": 1}"#).err().map(|e| e.code()),
            Some(ErrorCode::InvalidBody)
        );
        assert_eq!(
            parse::<Body>(br#"{"name": "a", "count": 1} trailing"#).err().map(|e| e.code()),
            Some(ErrorCode::MalformedJson)
        );
        assert!(parse::<Body>(br#"{"name": "a", "count": 1}"#).is_ok());
    }
}
