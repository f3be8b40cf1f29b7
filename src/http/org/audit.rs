//! `/api/v1/audit`: who changed what, for managers and supervisors.

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::context::state::AppState;
use crate::domain::org::audit::{self, AuditQuery};
use crate::http::common::extract::{Caller, PageParams};
use crate::http::common::problem::{ApiError, Problem};

#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditEntryBody {
    pub id: Uuid,
    pub actor_id: Uuid,
    /// `partner`, `org_unit`, `user`.
    pub entity: String,
    pub entity_id: Uuid,
    /// `create`, `update`, `delete`.
    pub action: String,
    /// For an update, `{"field": {"from": …, "to": …}}`; for a create, the new values.
    pub changes: serde_json::Value,
    pub at: DateTime<Utc>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEntryBody>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditFilters {
    pub entity: Option<String>,
    pub entity_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
}

/// The audit log of your subtree, oldest first.
#[utoipa::path(tag = "audit", security(("bearer" = [])), params(PageParams, AuditFilters), responses(
    (status = 200, body = AuditPage),
    (status = 403, body = Problem, content_type = "application/problem+json"),
))]
#[get("/audit")]
pub async fn list_audit(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    page: web::Query<PageParams>,
    filters: web::Query<AuditFilters>,
) -> Result<HttpResponse, ApiError> {
    let page = page.to_request()?;
    let query = AuditQuery { entity: filters.entity.clone(), entity_id: filters.entity_id, actor_id: filters.actor_id };
    let page = state.db.run(move |conn| audit::list(conn, &actor, &query, &page)).await?;
    Ok(HttpResponse::Ok().json(AuditPage {
        items: page
            .items
            .into_iter()
            .map(|e| AuditEntryBody {
                id: e.id,
                actor_id: e.actor_id,
                entity: e.entity,
                entity_id: e.entity_id,
                action: e.action,
                changes: e.changes,
                at: e.at,
            })
            .collect(),
        next_cursor: page.next_cursor,
    }))
}
