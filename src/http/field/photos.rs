//! Visit photos: upload (multipart `file` or a raw image body), list, serve, delete.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use chrono::{DateTime, NaiveDateTime, Utc};
use futures_util::StreamExt;
use serde::Serialize;
use uuid::Uuid;

use crate::context::state::AppState;
use crate::domain::ErrorCode;
use crate::domain::common::create::Created;
use crate::domain::field::photos::{self, Photo, StoredImage};
use crate::geo::LatLon;
use crate::http::common::extract::{Caller, CoordParam};
use crate::http::common::problem::{ApiError, Problem};
use crate::http::field::visits::VerificationBody;
use crate::media::MediaError;

impl From<MediaError> for ApiError {
    fn from(err: MediaError) -> Self {
        match err {
            MediaError::TooLarge { .. } => {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::PayloadTooLarge, err.to_string())
            }
            MediaError::Unsupported(message) => {
                ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, ErrorCode::UnsupportedMediaType, message)
            }
            MediaError::TooManyPixels { .. } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::ImageTooLarge, err.to_string())
            }
            MediaError::Corrupt(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::ImageUnreadable, err.to_string())
            }
            MediaError::Storage(message) => {
                tracing::error!(%message, "photo storage failure");
                ApiError::internal()
            }
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PhotoExif {
    /// Where the camera says the photo was taken, in the datum of `?coord=`.
    pub location: Option<LatLon>,
    /// The camera's local time, as written in EXIF (no zone).
    #[schema(value_type = Option<String>, example = "2026-11-28T10:15:00")]
    pub taken_at: Option<NaiveDateTime>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PhotoBody {
    pub id: Uuid,
    pub visit_id: Uuid,
    pub width: i32,
    pub height: i32,
    /// SHA-256 of the stored JPEG (also its ETag).
    pub sha256: String,
    pub bytes: i64,
    pub url: String,
    pub thumbnail_url: String,
    pub exif: PhotoExif,
    pub uploaded_by: Uuid,
    pub created_at: DateTime<Utc>,
}

impl PhotoBody {
    pub fn render(p: Photo, coord: &CoordParam) -> PhotoBody {
        PhotoBody {
            url: format!("/api/v1/photos/{}", p.id),
            thumbnail_url: format!("/api/v1/photos/{}/thumbnail", p.id),
            exif: PhotoExif { location: p.exif_position.map(|l| coord.outgoing(l)), taken_at: p.exif_time },
            id: p.id,
            visit_id: p.visit_id,
            width: p.width,
            height: p.height,
            sha256: p.sha256,
            bytes: p.bytes,
            uploaded_by: p.uploaded_by,
            created_at: p.created_at,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct UploadedPhoto {
    #[serde(flatten)]
    pub photo: PhotoBody,
    /// The visit's verdict, re-judged with this photo's EXIF.
    pub visit_verification: VerificationBody,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PhotoList {
    pub items: Vec<PhotoBody>,
}

fn multipart_error(err: actix_multipart::MultipartError) -> ApiError {
    match err {
        actix_multipart::MultipartError::Payload(e) => {
            crate::http::common::problem::unreadable(&e, ErrorCode::BadMultipart)
        }
        other => ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::BadMultipart, other.to_string()),
    }
}

/// Reads the upload: the `file` part of a multipart form, or the raw body. Stops at the limit
/// without reading the rest, and refuses at once when Content-Length already says too much.
pub(crate) async fn read_upload(req: &HttpRequest, payload: web::Payload, limit: usize) -> Result<Vec<u8>, ApiError> {
    let too_large = || ApiError::from(MediaError::TooLarge { limit });
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    // A multipart envelope adds a few hundred bytes around the file.
    if declared.is_some_and(|n| n > limit + 64 * 1024) {
        return Err(too_large());
    }
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("multipart/form-data"));
    let mut body = Vec::new();
    if multipart {
        let mut form = actix_multipart::Multipart::new(req.headers(), payload);
        let mut skipped = 0usize;
        while let Some(field) = form.next().await {
            let mut field = field.map_err(multipart_error)?;
            if field.name() != Some("file") {
                // Other parts are read and dropped, but count against the limit all the same.
                while let Some(chunk) = field.next().await {
                    let chunk = chunk.map_err(multipart_error)?;
                    skipped += chunk.len();
                    if skipped > limit {
                        return Err(too_large());
                    }
                }
                continue;
            }
            while let Some(chunk) = field.next().await {
                let chunk = chunk.map_err(multipart_error)?;
                if body.len() + chunk.len() > limit {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            return Ok(body);
        }
        return Err(ApiError::field("file", "send the image in a multipart field named `file`"));
    }
    let mut payload = payload;
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| crate::http::common::problem::unreadable(&e, ErrorCode::BadPayload))?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Add a photo to a visit (multipart field `file`, or a raw `image/jpeg`, `image/png` or
/// `image/webp` body). The stored image is re-encoded as JPEG with the EXIF orientation applied
/// and no metadata left; the EXIF position and time are kept as data and re-judge the visit.
#[utoipa::path(tag = "visits", security(("bearer" = [])), params(("id" = Uuid, Path), CoordParam),
    request_body(content = Vec<u8>, description = "the image, raw or as multipart field `file`", content_type = "image/jpeg"),
    responses(
        (status = 201, body = UploadedPhoto),
        (status = 200, description = "this image is already on the visit", body = UploadedPhoto),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "not JPEG, PNG or WebP (HEIC included)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "too many pixels, or unreadable", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/visits/{id}/photos")]
pub async fn upload_photo(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    coord: web::Query<CoordParam>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let visit_id = id.into_inner();
    let checker = actor.clone();
    // Refuse before reading megabytes from someone who may not attach here.
    state.db.run(move |conn| photos::check_can_attach(conn, &checker, visit_id)).await?;
    let bytes = read_upload(&req, payload, state.media.limits.max_bytes).await?;
    let ingested = state.media.ingest(bytes).await?;
    let image = StoredImage {
        sha256: ingested.sha256,
        thumb_sha256: ingested.thumb_sha256,
        width: ingested.width,
        height: ingested.height,
        bytes: ingested.bytes,
        exif_position: ingested.exif.position,
        exif_time: ingested.exif.taken_at,
        exif_offset_minutes: ingested.exif.offset_minutes,
    };
    let thresholds = state.settings.verification;
    let (photo, visit) = state.db.run(move |conn| photos::attach(conn, &actor, &thresholds, visit_id, &image)).await?;
    let verification = VerificationBody {
        verified: visit.verified,
        distance_m: visit.distance_m.map(|m| (m * 10.0).round() / 10.0),
        reasons: visit.reasons,
    };
    Ok(match photo {
        Created::New(p) => HttpResponse::Created()
            .insert_header(("Location", format!("/api/v1/photos/{}", p.id)))
            .json(UploadedPhoto { photo: PhotoBody::render(p, &coord), visit_verification: verification }),
        Created::Existing(p) => HttpResponse::Ok()
            .json(UploadedPhoto { photo: PhotoBody::render(p, &coord), visit_verification: verification }),
    })
}

/// A visit's photos.
#[utoipa::path(tag = "visits", security(("bearer" = [])), params(("id" = Uuid, Path), CoordParam), responses(
    (status = 200, body = PhotoList),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/visits/{id}/photos")]
pub async fn list_photos(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    coord: web::Query<CoordParam>,
) -> Result<HttpResponse, ApiError> {
    let visit_id = id.into_inner();
    let found = state.db.run(move |conn| photos::list(conn, &actor, visit_id)).await?;
    Ok(HttpResponse::Ok().json(PhotoList { items: found.into_iter().map(|p| PhotoBody::render(p, &coord)).collect() }))
}

pub(crate) async fn serve(req: &HttpRequest, state: &AppState, sha256: String) -> Result<HttpResponse, ApiError> {
    let etag = format!("\"{sha256}\"");
    let cached = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut response = if cached { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    response
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "private, max-age=31536000, immutable"))
        .insert_header(("X-Content-Type-Options", "nosniff"));
    if cached {
        return Ok(response.finish());
    }
    let bytes = state.media.read(sha256).await?.ok_or_else(|| {
        tracing::error!("photo blob missing from the store");
        ApiError::not_found("photo")
    })?;
    Ok(response.content_type("image/jpeg").body(bytes))
}

/// The photo (JPEG), for users who may see its visit.
#[utoipa::path(tag = "visits", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, description = "JPEG", content_type = "image/jpeg", body = Vec<u8>),
    (status = 304, description = "not modified (If-None-Match)"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/photos/{id}")]
pub async fn get_photo(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let photo = state.db.run(move |conn| photos::get(conn, &actor, id)).await?;
    serve(&req, &state, photo.sha256).await
}

/// The photo's thumbnail (JPEG, ≤ 320 px on the long side).
#[utoipa::path(tag = "visits", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, description = "JPEG", content_type = "image/jpeg", body = Vec<u8>),
    (status = 304, description = "not modified (If-None-Match)"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/photos/{id}/thumbnail")]
pub async fn get_thumbnail(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let photo = state.db.run(move |conn| photos::get(conn, &actor, id)).await?;
    serve(&req, &state, photo.thumb_sha256).await
}

/// Remove a photo from its visit; the visit is re-judged without it.
#[utoipa::path(tag = "visits", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 204, description = "deleted"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[delete("/photos/{id}")]
pub async fn delete_photo(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let thresholds = state.settings.verification;
    state.db.run(move |conn| photos::delete(conn, &actor, &thresholds, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
