//! `GET/POST /api/v1/sync` and `GET /api/v1/sync/schema`: WatermelonDB's own sync protocol, so
//! that the app's `pullChanges` and `pushChanges` return these answers as they are (docs/SYNC.md
//! has the whole contract and the React Native wiring).

use std::collections::BTreeMap;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};

use crate::context::state::AppState;
use crate::domain::DomainError;
use crate::domain::sync::View;
use crate::domain::sync::declare::Row;
use crate::domain::sync::pull::{self, Migration, PullRequest};
use crate::domain::sync::push::{self, PushSummary, TablePush};
use crate::domain::sync::schema::{self, SchemaJson, current_version};
use crate::http::common::extract::{Caller, CoordParam};
use crate::http::common::json::LargeJson;
use crate::http::common::problem::{ApiError, Problem};

/// The most records one push may carry, and the largest body (a long day offline, at once).
pub const MAX_PUSH_RECORDS: usize = 10_000;
const MAX_PUSH_BYTES: usize = 32 * 1024 * 1024;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PullParams {
    /// The `timestamp` of your last pull; absent, `0` or `null` for a first sync.
    pub last_pulled_at: Option<String>,
    /// Your app's schema version (`GET /sync/schema`); the newest when absent.
    pub schema_version: Option<u32>,
    /// WatermelonDB's `migration` argument as JSON (`null` when none).
    pub migration: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PulledTable {
    /// Always empty: every record comes in `updated` (sync with `sendCreatedAsUpdated: true`).
    #[schema(value_type = Vec<Object>)]
    pub created: Vec<Row>,
    /// Records as flat columns, as the table's schema declares them.
    #[schema(value_type = Vec<Object>)]
    pub updated: Vec<Row>,
    /// Ids to drop: deleted, or gone out of your scope.
    pub deleted: Vec<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PullAnswer {
    /// Every table of your schema version.
    pub changes: BTreeMap<&'static str, PulledTable>,
    /// Send it back as `last_pulled_at`: a position in the server's change feed, not a clock.
    pub timestamp: i64,
}

fn last_pulled_at(text: Option<&str>) -> Result<Option<i64>, ApiError> {
    match text.map(str::trim) {
        None | Some("" | "null" | "undefined") => Ok(None),
        Some(t) => t
            .parse::<i64>()
            .map(Some)
            .map_err(|_| ApiError::field("last_pulled_at", "must be the integer timestamp of your last pull")),
    }
}

/// The changes of your scope since your last pull, in one change set.
#[utoipa::path(tag = "sync", security(("bearer" = [])), params(PullParams, CoordParam), responses(
    (status = 200, body = PullAnswer),
    (status = 409, description = "resync_required: the timestamp is not one of this server's feed", body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[get("/sync")]
pub async fn pull_changes(
    req: HttpRequest,
    Caller(actor): Caller,
    state: web::Data<AppState>,
    params: web::Query<PullParams>,
    coord: web::Query<CoordParam>,
) -> Result<HttpResponse, ApiError> {
    let migration = match params.migration.as_deref().map(str::trim) {
        None | Some("" | "null") => None,
        Some(text) => Some(
            serde_json::from_str::<Migration>(text)
                .map_err(|e| ApiError::field("migration", format!("not WatermelonDB's migration argument: {e}")))?,
        ),
    };
    let request = PullRequest {
        last_pulled_at: last_pulled_at(params.last_pulled_at.as_deref())?,
        schema_version: params.schema_version.unwrap_or_else(current_version),
        migration,
    };
    let (datum, thresholds) = (coord.datum(), state.settings.verification);
    let pulled = state
        .db
        .run(move |conn| -> Result<_, DomainError> {
            let view = View::new(conn, actor, datum, thresholds)?;
            pull::pull(conn, &view, &request)
        })
        .await?;
    let changes = pulled
        .changes
        .into_iter()
        .map(|(name, t)| (name, PulledTable { created: Vec::new(), updated: t.updated, deleted: t.deleted }))
        .collect();
    let body = serde_json::to_vec(&PullAnswer { changes, timestamp: pulled.timestamp }).map_err(|e| {
        tracing::error!(error = %e, "pull answer not serialisable");
        ApiError::internal()
    })?;
    Ok(gzipped_json(&req, body))
}

/// A first sync is megabytes of JSON: compressed here at zlib level 3 (a fifth of the size
/// actix's `Compress` reaches with its fastest level, for a few more milliseconds), which
/// `Compress` then leaves alone.
fn gzipped_json(req: &HttpRequest, body: Vec<u8>) -> HttpResponse {
    use std::io::Write;
    let accepts = req
        .headers()
        .get_all(header::ACCEPT_ENCODING)
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|e| e.split(';').next().is_some_and(|e| e.trim().eq_ignore_ascii_case("gzip"))));
    let mut response = HttpResponse::Ok();
    response.content_type("application/json").insert_header((header::VARY, "accept-encoding"));
    if !accepts || body.len() < 1024 {
        return response.body(body);
    }
    let mut encoder = flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 5), flate2::Compression::new(3));
    match encoder.write_all(&body).and_then(|()| encoder.finish()) {
        Ok(gzip) => response.insert_header((header::CONTENT_ENCODING, "gzip")).body(gzip),
        Err(_) => response.body(body),
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushedTable {
    /// Records created on the phone, as WatermelonDB sends them (`id`, `_status`, `_changed`
    /// and every column); taken whole.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub created: Vec<Row>,
    /// Records changed on the phone; only the columns named in `_changed` are applied.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub updated: Vec<Row>,
    #[serde(default)]
    pub deleted: Vec<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushBody {
    /// WatermelonDB's `changes`, as `pushChanges` receives them.
    pub changes: BTreeMap<String, PushedTable>,
    /// WatermelonDB's `lastPulledAt`, if the app sends it in the body (it may send it as the
    /// query parameter instead); not needed to apply the push.
    #[serde(default, rename = "lastPulledAt")]
    pub last_pulled_at: Option<i64>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PushParams {
    /// WatermelonDB's `lastPulledAt` (informative).
    pub last_pulled_at: Option<String>,
}

/// Your phone's pending changes. Acknowledged whole: what the server did not take as sent comes
/// back with your next pull (the server's copy, or a deletion), the reason in `sync_rejections`.
#[utoipa::path(tag = "sync", security(("bearer" = [])), params(PushParams, CoordParam), request_body = PushBody, responses(
    (status = 200, description = "taken: the app marks its changes synced; how each record went, for logs", body = PushSummary),
    (status = 413, body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "an unknown table, more than 10,000 records, or a malformed batch", body = Problem, content_type = "application/problem+json"),
))]
#[post("/sync")]
pub async fn push_changes(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    params: web::Query<PushParams>,
    coord: web::Query<CoordParam>,
    LargeJson(body): LargeJson<PushBody, MAX_PUSH_BYTES>,
) -> Result<HttpResponse, ApiError> {
    last_pulled_at(params.last_pulled_at.as_deref())?;
    let changes: Vec<(String, TablePush)> = body
        .changes
        .into_iter()
        .map(|(name, t)| (name, TablePush { created: t.created, updated: t.updated, deleted: t.deleted }))
        .collect();
    push::check(&changes, MAX_PUSH_RECORDS)?;
    let (datum, thresholds) = (coord.datum(), state.settings.verification);
    let user = actor.user_id;
    let summary = state
        .db
        .run(move |conn| -> Result<_, DomainError> {
            let view = View::new(conn, actor, datum, thresholds)?;
            push::push(conn, &view, changes)
        })
        .await?;
    tracing::info!(%user, applied = summary.applied, unchanged = summary.unchanged, refused = summary.refused, "sync push");
    Ok(HttpResponse::Ok().json(summary))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SchemaParams {
    /// A schema version (the newest when absent): what an app of that version has.
    pub version: Option<u32>,
}

/// The WatermelonDB schema of the synced tables and every migration up to it, generated from the
/// server's table declarations (the kit in `clients/react-native` builds its models from it).
/// Public: it holds no data.
#[utoipa::path(tag = "sync", params(SchemaParams), responses(
    (status = 200, body = SchemaJson),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[get("/sync/schema")]
pub async fn sync_schema(params: web::Query<SchemaParams>) -> Result<HttpResponse, ApiError> {
    let newest = current_version();
    if params.version.is_some_and(|v| v == 0 || v > newest) {
        return Err(ApiError::field("version", format!("this server publishes schema versions 1 to {newest}")));
    }
    Ok(HttpResponse::Ok().json(schema::schema(params.version)))
}
