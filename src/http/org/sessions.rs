//! Login, token refresh and logout.

use actix_web::{HttpRequest, HttpResponse, post, web};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::auth::Session;
use crate::context::state::AppState;
use crate::http::common::json::Json;
use crate::http::common::problem::{ApiError, Problem};
use crate::http::org::users::UserBody;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Mainland mobile number, e.g. `13800000001` or `+86 138 0000 0001`.
    #[schema(example = "13800000001")]
    pub phone: String,
    #[schema(format = Password)]
    pub password: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionResponse {
    pub access_token: String,
    /// Single use: each refresh returns a new one and spends this one.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    pub user: UserBody,
}

impl SessionResponse {
    fn from_session(session: Session) -> SessionResponse {
        let viewer = session.user.as_actor();
        SessionResponse {
            access_token: session.access_token,
            refresh_token: session.refresh_token,
            token_type: "Bearer",
            expires_in: session.expires_in.as_secs(),
            user: UserBody::for_viewer(session.user, &viewer),
        }
    }
}

/// Log in with phone and password.
///
/// Unknown phone and wrong password get the same answer. Attempts are throttled per account and
/// per client address (429 with `Retry-After`).
#[utoipa::path(tag = "auth", request_body = LoginRequest, responses(
    (status = 200, body = SessionResponse),
    (status = 401, description = "wrong phone or password", body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
    (status = 429, description = "too many attempts", body = Problem, content_type = "application/problem+json"),
))]
#[post("/auth/login")]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    Json(body): Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let client = crate::http::common::client::address(&req, &state.settings);
    let session = state.auth.login(&body.phone, SecretString::from(body.password), client).await?;
    Ok(HttpResponse::Ok().json(SessionResponse::from_session(session)))
}

/// Exchange a refresh token for a new pair.
///
/// The presented token is spent. Presenting a spent token again revokes every token of that login.
#[utoipa::path(tag = "auth", request_body = RefreshRequest, responses(
    (status = 200, body = SessionResponse),
    (status = 401, body = Problem, content_type = "application/problem+json"),
))]
#[post("/auth/refresh")]
pub async fn refresh(state: web::Data<AppState>, Json(body): Json<RefreshRequest>) -> Result<HttpResponse, ApiError> {
    let session = state.auth.refresh(body.refresh_token).await?;
    Ok(HttpResponse::Ok().json(SessionResponse::from_session(session)))
}

/// End the login the refresh token belongs to (idempotent; works with an expired access token).
#[utoipa::path(tag = "auth", request_body = RefreshRequest, responses((status = 204, description = "logged out")))]
#[post("/auth/logout")]
pub async fn logout(state: web::Data<AppState>, Json(body): Json<RefreshRequest>) -> Result<HttpResponse, ApiError> {
    state.auth.logout(body.refresh_token).await?;
    Ok(HttpResponse::NoContent().finish())
}
