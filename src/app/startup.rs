//! Builds the application from settings and a listener; the binary and the tests share it.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::http::StatusCode;
use actix_web::{App, HttpMessage, HttpServer, web};
use anyhow::Context;
use chrono::TimeDelta;
use tracing_actix_web::{RequestId, TracingLogger};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::{AuthService, HashCost, LoginThrottle, PasswordHasher, TokenKeys};
use crate::context::config::Settings;
use crate::context::state::AppState;
use crate::domain::ErrorCode;
use crate::http::common::json::JsonLimit;
use crate::http::common::problem::ApiError;
use crate::http::middleware::deadline::BodyDeadline;
use crate::http::middleware::logging::PrivateRootSpan;
use crate::media::card::CardFont;
use crate::store::org::refresh_tokens;
use crate::store::{Backend, Db, PoolOptions};

pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
}

/// Opens the database (migrating it) and the auth machinery; shared by `serve` and the CLI.
pub async fn open_state(settings: Settings) -> anyhow::Result<AppState> {
    open_state_with(settings, 2).await
}

/// For one-shot commands (`migrate`, `user create`, `purge`): no idle connections, so no pool
/// thread is still opening one when the process exits.
pub async fn open_state_for_command(settings: Settings) -> anyhow::Result<AppState> {
    open_state_with(settings, 0).await
}

async fn open_state_with(settings: Settings, min_idle: u32) -> anyhow::Result<AppState> {
    let url = settings.database_url.clone();
    let options = PoolOptions { min_idle, ..PoolOptions::for_backend(Backend::of_url(&url)) };
    let db = tokio::task::spawn_blocking(move || Db::connect(&url, options)).await?.context("opening the database")?;
    let cost = HashCost::default();
    let concurrency = settings.hash_concurrency;
    let hasher = tokio::task::spawn_blocking(move || PasswordHasher::new(cost, concurrency)).await??;
    let tokens = TokenKeys::new(settings.jwt_secret_bytes(), settings.access_token_ttl).context("JWT keys")?;
    let refresh_lifetime = TimeDelta::from_std(settings.refresh_token_ttl).context("refresh token lifetime")?;
    let auth = AuthService {
        db: db.clone(),
        hasher,
        tokens,
        throttle: LoginThrottle::new(settings.login_limits),
        refresh_lifetime,
        standing: crate::auth::Standing::default(),
    };
    let blobs = crate::media::FsBlobStore::new(settings.data_dir.join("media"));
    let media = crate::media::Pipeline::new(Arc::new(blobs), settings.photo_limits, settings.hash_concurrency)
        .context("photo intake threads")?;
    let public_throttle = LoginThrottle::new(settings.registration_limits);
    let card_font = showcase_font(settings.showcase_font.as_deref())?;
    Ok(AppState { db, auth, settings: Arc::new(settings), media, public_throttle, map: Arc::default(), card_font })
}

/// The showcase card's font: the configured file, refused at start-up unless it draws Chinese
/// (a Latin-only font would put empty boxes on every card), or the one built into the binary.
fn showcase_font(path: Option<&std::path::Path>) -> anyhow::Result<CardFont> {
    let Some(path) = path else { return CardFont::embedded().context("the built-in showcase font") };
    let bytes = std::fs::read(path).with_context(|| format!("OUTREACH_SHOWCASE_FONT: reading {}", path.display()))?;
    let font = CardFont::from_bytes(bytes).with_context(|| format!("OUTREACH_SHOWCASE_FONT: {}", path.display()))?;
    anyhow::ensure!(
        font.covers("今日业绩晒单进度明星榜排行日周月之星分"),
        "OUTREACH_SHOWCASE_FONT: {} has no Chinese glyphs; name a CJK font such as wqy-microhei.ttc",
        path.display()
    );
    Ok(font)
}

/// Builds the map's index in the background, so the first map request need not wait for it.
fn warm_map(state: &AppState) {
    let (db, map) = (state.db.clone(), state.map.clone());
    tokio::spawn(async move {
        let started = std::time::Instant::now();
        match db.run(move |conn| map.current(conn).map(|_| ())).await {
            Ok(()) => tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, "map index loaded"),
            Err(e) => tracing::warn!(error = %e, "map index not loaded; the first map request will load it"),
        }
    });
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let listener = TcpListener::bind(&settings.bind).with_context(|| format!("binding {}", settings.bind))?;
        Application::build_with_listener(settings, listener).await
    }

    /// Serves on a listener it is given, so tests can bind port 0 and ask which port they got.
    pub async fn build_with_listener(settings: Settings, listener: TcpListener) -> anyhow::Result<Application> {
        let workers = settings.workers;
        let state = open_state(settings).await?;
        crate::context::bootstrap::ensure_admin(&state).await?;
        warm_map(&state);
        let port = listener.local_addr()?.port();
        let limit = JsonLimit(state.settings.json_body_limit);
        let deadline = BodyDeadline(state.settings.body_timeout);
        let app_state = state.clone();
        let tls = state.settings.public_url.starts_with("https://");
        // Built once: every worker serves the same document.
        let spec = crate::http::openapi();
        let mut server = HttpServer::new(move || {
            let origins = &app_state.settings.cors_origins;
            let (app, _) = App::new()
                .wrap(actix_web::middleware::Condition::new(
                    !origins.is_empty(),
                    crate::http::middleware::security::cors(origins),
                ))
                .wrap(actix_web::middleware::from_fn(crate::http::middleware::security::cors_refusal_as_problem))
                // Outside the refusal above, which builds a new response.
                .wrap(crate::http::middleware::security::default_headers(tls))
                .wrap(actix_web::middleware::from_fn(crate::http::middleware::tap::tap_responses))
                .wrap(actix_web::middleware::from_fn(crate::http::middleware::security::refuse_nul))
                .wrap(actix_web::middleware::from_fn(crate::http::middleware::deadline::body_deadline))
                .wrap(actix_web::middleware::from_fn(request_id_header))
                .wrap(TracingLogger::<PrivateRootSpan>::new())
                // Outermost: gzip for clients that accept it (a phone's first sync is mostly
                // repeated keys and ids: about a tenth on the wire); images are left as they are.
                .wrap(actix_web::middleware::Compress::default())
                .app_data(web::Data::new(app_state.clone()))
                .app_data(web::Data::new(limit))
                .app_data(web::Data::new(deadline))
                .app_data(web::QueryConfig::default().error_handler(|err, _| {
                    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::InvalidQuery, err.to_string()).into()
                }))
                .app_data(web::PathConfig::default().error_handler(|_, _| ApiError::not_found("resource").into()))
                .into_utoipa_app()
                .openapi(<crate::http::openapi::ApiDoc as utoipa::OpenApi>::openapi())
                .configure(crate::http::routes)
                .split_for_parts();
            app.service(SwaggerUi::new("/docs/{_:.*}").url("/api-spec/openapi.json", spec.clone()))
                .default_service(web::to(|| async { Err::<actix_web::HttpResponse, _>(ApiError::not_found("route")) }))
        })
        .listen(listener)?
        // A client has 5 s to send its request line and headers (slowloris gets 408 and a
        // closed connection); the body has its own deadline (`OUTREACH_BODY_TIMEOUT_SECS`).
        .client_request_timeout(Duration::from_secs(5))
        .shutdown_timeout(30);
        if let Some(workers) = workers {
            server = server.workers(workers);
        }
        Ok(Application { port, server: server.run(), state })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGINT/SIGTERM, then lets in-flight requests finish (up to 30 s).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let maintenance = tokio::spawn(maintain(self.state.clone()));
        let result = self.server.await;
        maintenance.abort();
        result
    }
}

/// Hourly upkeep: forget idle throttle keys, drop expired refresh tokens, erase attendees'
/// personal data past their event's retention.
async fn maintain(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tick.tick().await;
        state.auth.throttle.prune();
        state.public_throttle.prune();
        match purge(&state).await {
            Ok(n) if n > 0 => tracing::info!(erased = n, "attendee data past retention erased"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "retention purge failed"),
        }
        let now = crate::store::now_utc();
        match state.db.run(move |conn| refresh_tokens::delete_expired(conn, now)).await {
            Ok(n) if n > 0 => tracing::info!(deleted = n, "expired refresh tokens removed"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "refresh token cleanup failed"),
        }
    }
}

/// Echoes the request id as `X-Request-Id`, so a user's bug report can name the log lines.
async fn request_id_header(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let id = req.extensions().get::<RequestId>().map(ToString::to_string);
    let mut res = next.call(req).await?;
    if let Some(value) = id.and_then(|id| actix_web::http::header::HeaderValue::from_str(&id).ok()) {
        res.headers_mut().insert(actix_web::http::header::HeaderName::from_static("x-request-id"), value);
    }
    Ok(res)
}

/// Erases attendees' personal data past their events' retention; what `outreach purge` runs.
pub async fn purge(state: &AppState) -> Result<usize, crate::store::StoreError> {
    state
        .db
        .run(|conn| {
            conn.write_tx(|conn| crate::store::events::registrations::purge_expired(conn, crate::store::now_utc()))
        })
        .await
}
