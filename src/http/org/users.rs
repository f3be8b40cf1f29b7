//! `/api/v1/users` and `/api/v1/me`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::context::state::AppState;
use crate::domain::common::phone_privacy::PhoneHolder;
use crate::domain::org::users::{self, NewUserInput, User, UserPatch, UserQuery};
use crate::domain::{Actor, ErrorCode, Role};
use crate::http::common::extract::{Caller, PageParams};
use crate::http::common::json::Json;
use crate::http::common::problem::{ApiError, Problem};

#[derive(Serialize, utoipa::ToSchema)]
pub struct UserBody {
    pub id: Uuid,
    /// Full for the user themself and for managers; masked (`138****5678`) for everyone else.
    pub phone: String,
    pub name: String,
    pub role: Role,
    pub org_unit_id: Option<Uuid>,
    pub active: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl UserBody {
    pub fn for_viewer(user: User, viewer: &Actor) -> UserBody {
        let phone = PhoneHolder::in_care_of(user.id).show(viewer, user.phone);
        UserBody {
            id: user.id,
            phone,
            name: user.name,
            role: user.role,
            org_unit_id: user.org_unit_id,
            active: user.active,
            version: user.version,
            created_at: user.created_at,
            updated_at: user.updated_at,
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    #[schema(example = "13800000009")]
    pub phone: String,
    pub name: String,
    /// At least 10 characters.
    #[schema(format = Password)]
    pub password: String,
    pub role: Role,
    /// Required for every role but `admin`.
    pub org_unit_id: Option<Uuid>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub org_unit_id: Option<Uuid>,
    pub active: Option<bool>,
    /// A new password; changing your own needs `current_password`.
    #[schema(format = Password)]
    pub password: Option<String>,
    #[schema(format = Password)]
    pub current_password: Option<String>,
    /// The `version` you last read; a stale one answers 409 instead of overwriting.
    pub version: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct UserPage {
    pub items: Vec<UserBody>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserFilters {
    pub role: Option<Role>,
    pub org_unit_id: Option<Uuid>,
    pub active: Option<bool>,
}

/// The caller.
#[utoipa::path(tag = "users", security(("bearer" = [])), responses(
    (status = 200, body = UserBody),
    (status = 401, body = Problem, content_type = "application/problem+json"),
))]
#[get("/me")]
pub async fn get_me(Caller(actor): Caller, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let viewer = actor.clone();
    let user = state.db.run(move |conn| users::get(conn, &actor, actor.user_id)).await?;
    Ok(HttpResponse::Ok().json(UserBody::for_viewer(user, &viewer)))
}

/// Create a user in your subtree, with a role no higher than your own.
#[utoipa::path(tag = "users", security(("bearer" = [])), request_body = CreateUser, responses(
    (status = 201, body = UserBody),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "org unit not in your scope", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "phone taken", body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[post("/users")]
pub async fn create_user(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    Json(body): Json<CreateUser>,
) -> Result<HttpResponse, ApiError> {
    let input = NewUserInput {
        phone: body.phone,
        name: body.name,
        password: body.password,
        role: body.role,
        org_unit_id: body.org_unit_id,
    };
    let checked = users::check_new(&actor, input)?;
    let hash = state.auth.hasher.hash(SecretString::from(checked.password.expose().to_owned())).await?;
    let viewer = actor.clone();
    let user = state.db.run(move |conn| users::create(conn, &actor, &checked, hash)).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/users/{}", user.id)))
        .json(UserBody::for_viewer(user, &viewer)))
}

/// List users in your subtree.
#[utoipa::path(tag = "users", security(("bearer" = [])), params(PageParams, UserFilters), responses(
    (status = 200, body = UserPage),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[get("/users")]
pub async fn list_users(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    page: web::Query<PageParams>,
    filters: web::Query<UserFilters>,
) -> Result<HttpResponse, ApiError> {
    let page = page.to_request()?;
    let query = UserQuery { role: filters.role, org_unit_id: filters.org_unit_id, active: filters.active };
    let viewer = actor.clone();
    let page = state.db.run(move |conn| users::list(conn, &actor, &query, &page)).await?;
    Ok(HttpResponse::Ok().json(UserPage {
        items: page.items.into_iter().map(|u| UserBody::for_viewer(u, &viewer)).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One user of your subtree.
#[utoipa::path(tag = "users", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = UserBody),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/users/{id}")]
pub async fn get_user(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let viewer = actor.clone();
    let user = state.db.run(move |conn| users::get(conn, &actor, id)).await?;
    Ok(HttpResponse::Ok().json(UserBody::for_viewer(user, &viewer)))
}

/// Change a user: name and password for yourself; role, org unit, active flag and password resets
/// for managers over users of a role up to their own. Password, role, unit and deactivation
/// changes end the user's sessions.
#[utoipa::path(tag = "users", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = UpdateUser, responses(
    (status = 200, body = UserBody),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "stale version", body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[patch("/users/{id}")]
pub async fn update_user(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    Json(body): Json<UpdateUser>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let reader = actor.clone();
    let target = state.db.run(move |conn| users::get(conn, &reader, id)).await?;
    let patch = UserPatch {
        name: body.name,
        role: body.role,
        org_unit_id: body.org_unit_id,
        active: body.active,
        password: body.password,
        current_password: body.current_password,
        version: body.version,
    };
    let checked = users::check_patch(&actor, &target, patch)?;
    if let Some(current) = &checked.verify_current
        && !state.auth.verify_password_of(actor.user_id, SecretString::from(current.clone())).await?
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::WrongCurrentPassword,
            "the current password is wrong",
        ));
    }
    let hash = match &checked.password {
        Some(p) => Some(state.auth.hasher.hash(SecretString::from(p.expose().to_owned())).await?),
        None => None,
    };
    let viewer = actor.clone();
    let user = state.db.run(move |conn| users::apply_patch(conn, &actor, id, &checked, hash)).await?;
    state.auth.standing.forget(id);
    Ok(HttpResponse::Ok().json(UserBody::for_viewer(user, &viewer)))
}
