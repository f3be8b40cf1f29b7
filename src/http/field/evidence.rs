//! The evidence-photo sub-resource, one handler set for every record that keeps evidence (an
//! event's steps, a case, a supervision's items; see [`EvidenceHolder`]): an upload is checked
//! against the record before it is read, goes through the same intake as a visit photo, and is
//! served with the same caching headers. The record's own handlers add only what differs: the
//! path, the slot (step, item) and the body they answer with.

use actix_web::{HttpRequest, HttpResponse, web};
use uuid::Uuid;

use crate::context::state::AppState;
use crate::domain::Actor;
use crate::domain::common::evidence::{Evidence, EvidenceHolder, PhotoSignal, Rendition};
use crate::http::common::problem::ApiError;
use crate::http::field::photos::{read_upload, serve};

/// Checks the caller may add a photo to record `id` at `slot`, then reads and stores the upload:
/// the evidence to hand to the record's own attach rule. A refused caller's upload is never read.
pub async fn upload<H: EvidenceHolder>(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    slot: H::Slot,
) -> Result<Evidence, ApiError> {
    let checker = actor.clone();
    state.db.run(move |conn| H::check_can_attach(conn, &checker, id, slot)).await?;
    let bytes = read_upload(req, payload, state.media.limits.max_bytes).await?;
    let stored = state.media.ingest(bytes).await?;
    Ok(Evidence {
        sha256: stored.sha256,
        thumb_sha256: stored.thumb_sha256,
        width: stored.width,
        height: stored.height,
        uploaded_by: actor.user_id,
        uploaded_at: crate::store::now_utc().and_utc(),
        exif: Some(PhotoSignal {
            position: stored.exif.position,
            taken_at: stored.exif.taken_at,
            offset_minutes: stored.exif.offset_minutes,
        })
        .filter(|s| s.position.is_some() || s.taken_at.is_some()),
    })
}

/// Serves one of record `id`'s photos (by its hash) as asked, if the caller may see the record.
pub async fn download<H: EvidenceHolder>(
    actor: Actor,
    state: web::Data<AppState>,
    path: web::Path<(Uuid, String)>,
    req: HttpRequest,
    rendition: Rendition,
) -> Result<HttpResponse, ApiError> {
    let (id, sha256) = path.into_inner();
    let blob = state.db.run(move |conn| H::blob(conn, &actor, id, &sha256, rendition)).await?;
    serve(&req, &state, blob).await
}

/// Declares a holder's two download routes (the image and its thumbnail), documented in the spec
/// under the holder's tag. The expansion site needs `get` (actix-web's route attribute) in scope,
/// as every resource module has.
macro_rules! evidence_downloads {
    (
        holder: $holder:ty, tag: $tag:tt,
        full: $full:ident => $full_path:tt, $full_doc:tt,
        thumbnail: $thumb:ident => $thumb_path:tt, $thumb_doc:tt $(,)?
    ) => {
        $crate::http::field::evidence::evidence_downloads!(@route $holder, $tag, $full, $full_path, $full_doc, Full);
        $crate::http::field::evidence::evidence_downloads!(@route $holder, $tag, $thumb, $thumb_path, $thumb_doc, Thumbnail);
    };
    (@route $holder:ty, $tag:tt, $name:ident, $path:tt, $doc:tt, $rendition:ident) => {
        #[doc = $doc]
        #[utoipa::path(tag = $tag, security(("bearer" = [])), params(("id" = uuid::Uuid, Path), ("sha256" = String, Path)), responses(
            (status = 200, description = "JPEG", content_type = "image/jpeg", body = Vec<u8>),
            (status = 304, description = "not modified (If-None-Match)"),
            (status = 404, body = crate::http::common::problem::Problem, content_type = "application/problem+json"),
        ))]
        #[get($path)]
        pub async fn $name(
            crate::http::common::extract::Caller(actor): crate::http::common::extract::Caller,
            state: actix_web::web::Data<crate::context::state::AppState>,
            path: actix_web::web::Path<(uuid::Uuid, String)>,
            req: actix_web::HttpRequest,
        ) -> Result<actix_web::HttpResponse, crate::http::common::problem::ApiError> {
            crate::http::field::evidence::download::<$holder>(
                actor,
                state,
                path,
                req,
                crate::domain::common::evidence::Rendition::$rendition,
            )
            .await
        }
    };
}
pub(crate) use evidence_downloads;
