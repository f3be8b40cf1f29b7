//! `/api/v1/leads`: leads with validated status moves, dedupe by phone, masking and assignment.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::context::state::AppState;
use crate::domain::Actor;
use crate::domain::common::create::Created;
use crate::domain::events::leads::{self, Lead, LeadPatch, LeadQuery, NewLead, fen_to_yuan};
use crate::domain::kinds::lead_kind::{LeadKind, LeadSource, LeadStatus, Segment};
use crate::http::common::extract::{Caller, PageParams};
use crate::http::common::json::Json;
use crate::http::common::problem::{ApiError, Problem};

#[derive(Serialize, utoipa::ToSchema)]
pub struct LeadBody {
    pub id: Uuid,
    pub kind: LeadKind,
    pub name: String,
    /// Full for the owner and managers, masked (`138****5678`) for others; masked for all but
    /// managers when the person asked not to be contacted.
    pub phone: String,
    pub source: LeadSource,
    /// The visit, event or partner the lead came from.
    pub source_id: Option<Uuid>,
    pub partner_id: Option<Uuid>,
    pub segment: Segment,
    pub portrait_tags: Vec<String>,
    pub needs: String,
    pub product_interest: Vec<String>,
    /// Yuan.
    pub expected_amount: Option<f64>,
    pub status: LeadStatus,
    /// Yuan, set when converted.
    pub converted_amount: Option<f64>,
    pub converted_at: Option<DateTime<Utc>>,
    /// The product sold, and the bank's own reference of the sale.
    pub conversion_product: Option<String>,
    pub conversion_reference: Option<String>,
    /// A conversion at or above the confirmation amount waits for a manager who does not own
    /// the lead (`POST /leads/{id}/conversion-review`): until then it neither counts nor earns.
    pub conversion_pending: bool,
    pub conversion_confirmed_at: Option<DateTime<Utc>>,
    /// The manager who confirmed; none when it stood at once (below the amount).
    pub conversion_confirmed_by: Option<Uuid>,
    pub lost_reason: Option<String>,
    pub do_not_contact: bool,
    pub owner_id: Uuid,
    pub org_unit_id: Uuid,
    pub project_id: Option<Uuid>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl LeadBody {
    pub fn render(l: Lead, viewer: &Actor) -> LeadBody {
        let phone = l.phone_holder().show(viewer, l.phone.clone());
        let conversion_pending = l.conversion_pending();
        LeadBody {
            id: l.id,
            kind: l.kind,
            name: l.name,
            phone,
            source: l.source,
            source_id: l.source_id,
            partner_id: l.partner_id,
            segment: l.segment,
            portrait_tags: l.portrait_tags,
            needs: l.needs,
            product_interest: l.product_interest,
            expected_amount: fen_to_yuan(l.expected_amount_fen),
            status: l.status,
            converted_amount: fen_to_yuan(l.converted_amount_fen),
            converted_at: l.converted_at,
            conversion_pending,
            conversion_product: l.conversion_product,
            conversion_reference: l.conversion_reference,
            conversion_confirmed_at: l.conversion_confirmed_at,
            conversion_confirmed_by: l.conversion_confirmed_by,
            lost_reason: l.lost_reason,
            do_not_contact: l.do_not_contact,
            owner_id: l.owner_id,
            org_unit_id: l.org_unit_id,
            project_id: l.project_id,
            version: l.version,
            created_at: l.created_at,
            updated_at: l.updated_at,
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateLead {
    /// Optional client-made id: the same id and body again return the same lead (200).
    pub id: Option<Uuid>,
    /// Default `person`.
    pub kind: Option<LeadKind>,
    #[schema(example = "陈大姐")]
    pub name: String,
    /// A mainland mobile number; `+86`, spaces and dashes are accepted.
    #[schema(example = "13800138000")]
    pub phone: String,
    pub source: LeadSource,
    /// Required for `visit`, `event` and `partner`: that record, in your scope.
    pub source_id: Option<Uuid>,
    pub partner_id: Option<Uuid>,
    /// Default `outreach`.
    pub segment: Option<Segment>,
    pub portrait_tags: Option<Vec<String>>,
    pub needs: Option<String>,
    pub product_interest: Option<Vec<String>>,
    /// Yuan, 0–10 000 000 000.
    pub expected_amount: Option<f64>,
    pub do_not_contact: Option<bool>,
    /// A running project you can see.
    pub project_id: Option<Uuid>,
    /// Managers only; default the caller.
    pub owner_id: Option<Uuid>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateLead {
    pub name: Option<String>,
    pub kind: Option<LeadKind>,
    pub segment: Option<Segment>,
    pub portrait_tags: Option<Vec<String>>,
    pub needs: Option<String>,
    pub product_interest: Option<Vec<String>>,
    pub expected_amount: Option<f64>,
    pub partner_id: Option<Uuid>,
    pub project_id: Option<Uuid>,
    pub do_not_contact: Option<bool>,
    /// `new → contacted → qualified → converted`, any open status `→ lost`, `lost → contacted`;
    /// `converted → qualified` reverts a conversion (managers). Others answer 409 `invalid_transition`.
    pub status: Option<LeadStatus>,
    /// Yuan; required to convert.
    pub converted_amount: Option<f64>,
    /// Default now.
    pub converted_at: Option<DateTime<Utc>>,
    /// The product sold: required to convert at or above the confirmation amount
    /// (`OUTREACH_CONFIRM_CONVERSIONS_ABOVE_YUAN`, default 50,000), which waits for a manager.
    #[schema(example = "三年期定期存款")]
    pub conversion_product: Option<String>,
    /// The bank's own reference of the sale (an account or contract number), optional.
    pub conversion_reference: Option<String>,
    /// Required to lose a lead.
    pub lost_reason: Option<String>,
    /// Kept in the history with a status move or a reassignment.
    pub note: Option<String>,
    /// Managers only: an active user in your subtree; the lead's org unit follows them.
    pub owner_id: Option<Uuid>,
    /// The version you last read; a stale one answers 409 `version_conflict`.
    pub version: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LeadPage {
    pub items: Vec<LeadBody>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LeadFilters {
    pub status: Option<LeadStatus>,
    pub segment: Option<Segment>,
    pub source: Option<LeadSource>,
    pub owner_id: Option<Uuid>,
    pub org_unit_id: Option<Uuid>,
    pub project_id: Option<Uuid>,
    pub partner_id: Option<Uuid>,
    /// Text in the name.
    pub q: Option<String>,
    /// Leads that must not be contacted are left out unless this is `true`.
    pub include_do_not_contact: Option<bool>,
}

/// Create a lead. A phone that is already a lead of the branch answers 409 `duplicate_lead`
/// with `existing_id` when you may see that lead.
#[utoipa::path(tag = "leads", security(("bearer" = [])), request_body = CreateLead, responses(
    (status = 201, body = LeadBody),
    (status = 200, description = "the same id and body were sent before", body = LeadBody),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "owner, source, partner or project not in your scope", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "duplicate_lead or id_conflict", body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[post("/leads")]
pub async fn create_lead(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    Json(body): Json<CreateLead>,
) -> Result<HttpResponse, ApiError> {
    let input = NewLead {
        id: body.id,
        kind: body.kind,
        name: body.name,
        phone: body.phone,
        source: body.source,
        source_id: body.source_id,
        partner_id: body.partner_id,
        segment: body.segment,
        portrait_tags: body.portrait_tags,
        needs: body.needs,
        product_interest: body.product_interest,
        expected_amount: body.expected_amount,
        do_not_contact: body.do_not_contact,
        project_id: body.project_id,
        owner_id: body.owner_id,
    };
    let viewer = actor.clone();
    Ok(match state.db.run(move |conn| leads::create(conn, &actor, input)).await? {
        Created::New(l) => HttpResponse::Created()
            .insert_header(("Location", format!("/api/v1/leads/{}", l.id)))
            .json(LeadBody::render(l, &viewer)),
        Created::Existing(l) => HttpResponse::Ok().json(LeadBody::render(l, &viewer)),
    })
}

/// List leads: yours (account managers) or your subtree's.
#[utoipa::path(tag = "leads", security(("bearer" = [])), params(PageParams, LeadFilters), responses(
    (status = 200, body = LeadPage),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[get("/leads")]
pub async fn list_leads(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    page: web::Query<PageParams>,
    filters: web::Query<LeadFilters>,
) -> Result<HttpResponse, ApiError> {
    let page = page.to_request()?;
    let f = filters.into_inner();
    let query = LeadQuery {
        status: f.status,
        segment: f.segment,
        source: f.source,
        owner_id: f.owner_id,
        org_unit_id: f.org_unit_id,
        project_id: f.project_id,
        partner_id: f.partner_id,
        q: f.q,
        include_do_not_contact: f.include_do_not_contact.unwrap_or(false),
    };
    let viewer = actor.clone();
    let page = state
        .db
        .run(move |conn| {
            let page = leads::list(conn, &actor, &query, &page)?;
            leads::record_bulk_read(conn, &actor, &page.items)?;
            Ok::<_, crate::domain::DomainError>(page)
        })
        .await?;
    Ok(HttpResponse::Ok().json(LeadPage {
        items: page.items.into_iter().map(|l| LeadBody::render(l, &viewer)).collect(),
        next_cursor: page.next_cursor,
    }))
}

#[utoipa::path(tag = "leads", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 200, body = LeadBody),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/leads/{id}")]
pub async fn get_lead(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let viewer = actor.clone();
    let lead = state.db.run(move |conn| leads::get(conn, &actor, id)).await?;
    Ok(HttpResponse::Ok().json(LeadBody::render(lead, &viewer)))
}

/// Change a lead: fields, a status move (kept in its history), its owner (managers).
#[utoipa::path(tag = "leads", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = UpdateLead, responses(
    (status = 200, body = LeadBody),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "invalid_transition or version_conflict", body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[patch("/leads/{id}")]
pub async fn update_lead(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    Json(body): Json<UpdateLead>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let patch = LeadPatch {
        name: body.name,
        kind: body.kind,
        segment: body.segment,
        portrait_tags: body.portrait_tags,
        needs: body.needs,
        product_interest: body.product_interest,
        expected_amount: body.expected_amount,
        partner_id: body.partner_id,
        project_id: body.project_id,
        do_not_contact: body.do_not_contact,
        status: body.status,
        converted_amount: body.converted_amount,
        converted_at: body.converted_at,
        conversion_product: body.conversion_product,
        conversion_reference: body.conversion_reference,
        lost_reason: body.lost_reason,
        note: body.note,
        owner_id: body.owner_id,
        version: body.version,
    };
    let viewer = actor.clone();
    let thresholds = state.settings.verification;
    let lead = state.db.run(move |conn| leads::update(conn, &actor, &thresholds, id, patch)).await?;
    Ok(HttpResponse::Ok().json(LeadBody::render(lead, &viewer)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConversionReview {
    /// `true` confirms the conversion; `false` rejects it (the lead goes back to `qualified`).
    pub confirm: bool,
    /// Required to reject; kept in the lead's history.
    pub reason: Option<String>,
}

/// A manager other than the owner confirms or rejects a conversion that waits for it.
#[utoipa::path(tag = "leads", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = ConversionReview, responses(
    (status = 200, body = LeadBody),
    (status = 403, description = "not a manager, or the lead's owner", body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "no conversion of this lead waits", body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[post("/leads/{id}/conversion-review")]
pub async fn review_conversion(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    Json(body): Json<ConversionReview>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let viewer = actor.clone();
    let lead = state
        .db
        .run(move |conn| leads::review_conversion(conn, &actor, id, body.confirm, body.reason.as_deref()))
        .await?;
    Ok(HttpResponse::Ok().json(LeadBody::render(lead, &viewer)))
}

/// Erase a lead (personal data, with its history); points it earned are reversed.
#[utoipa::path(tag = "leads", security(("bearer" = [])), params(("id" = Uuid, Path)), responses(
    (status = 204, description = "erased"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[delete("/leads/{id}")]
pub async fn delete_lead(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    state.db.run(move |conn| leads::delete(conn, &actor, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LeadHistoryBody {
    pub id: Uuid,
    /// `status` or `owner`.
    pub kind: String,
    pub from: Option<String>,
    pub to: String,
    pub note: Option<String>,
    pub changed_by: Uuid,
    pub changed_at: DateTime<Utc>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LeadHistoryPage {
    pub items: Vec<LeadHistoryBody>,
    pub next_cursor: Option<String>,
}

/// The lead's status moves and reassignments, oldest first.
#[utoipa::path(tag = "leads", security(("bearer" = [])), params(("id" = Uuid, Path), PageParams), responses(
    (status = 200, body = LeadHistoryPage),
    (status = 404, body = Problem, content_type = "application/problem+json"),
))]
#[get("/leads/{id}/history")]
pub async fn lead_history(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let page = page.to_request()?;
    let page = state.db.run(move |conn| leads::history_of(conn, &actor, id, &page)).await?;
    Ok(HttpResponse::Ok().json(LeadHistoryPage {
        items: page
            .items
            .into_iter()
            .map(|h| LeadHistoryBody {
                id: h.id,
                kind: h.kind,
                from: h.from,
                to: h.to,
                note: h.note,
                changed_by: h.changed_by,
                changed_at: h.changed_at,
            })
            .collect(),
        next_cursor: page.next_cursor,
    }))
}
