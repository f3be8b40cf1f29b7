//! Leads (线索): people and micro-businesses outreach finds, one per phone within a branch, moving
//! from `new` to `converted` or `lost`. Their points follow them through the ledger.

use chrono::{DateTime, SubsecRound, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::domain::common::create::Created;
use crate::domain::common::error::Validator;
use crate::domain::common::phone_privacy::{Contact, PhoneHolder};
use crate::domain::common::text::{amount_fen, bounded_text, list_col, list_text, text_list, yuan};
use crate::domain::kinds::lead_kind::{LeadKind, LeadSource, LeadStatus, Segment};
use crate::domain::kinds::project_kind::PointsAction;
use crate::domain::org::audit::{self, Action};
use crate::domain::projects::points::{self, Credit, Source};
use crate::domain::{Actor, DomainError, ErrorCode, Phone, Role};
use crate::store::events::leads::{self as store, LeadFilter, LeadHistoryRow, LeadRow};
use crate::store::{DbConn, Page, PageRequest, StoreError, enum_col, now_utc, uuid_col};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lead {
    pub id: Uuid,
    #[serde(skip)]
    pub branch_id: String,
    pub org_unit_id: Uuid,
    #[serde(skip)]
    pub org_path: String,
    pub owner_id: Uuid,
    pub project_id: Option<Uuid>,
    pub kind: LeadKind,
    pub name: String,
    pub phone: String,
    pub source: LeadSource,
    pub source_id: Option<Uuid>,
    pub partner_id: Option<Uuid>,
    pub segment: Segment,
    pub portrait_tags: Vec<String>,
    pub needs: String,
    pub product_interest: Vec<String>,
    pub expected_amount_fen: Option<i64>,
    pub status: LeadStatus,
    pub converted_amount_fen: Option<i64>,
    pub converted_at: Option<DateTime<Utc>>,
    pub lost_reason: Option<String>,
    pub do_not_contact: bool,
    pub conversion_product: Option<String>,
    pub conversion_reference: Option<String>,
    pub conversion_confirmed_at: Option<DateTime<Utc>>,
    pub conversion_confirmed_by: Option<Uuid>,
    #[serde(skip)]
    create_digest: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<LeadRow> for Lead {
    type Error = StoreError;
    fn try_from(r: LeadRow) -> Result<Self, StoreError> {
        Ok(Lead {
            id: uuid_col(&r.id)?,
            org_unit_id: uuid_col(&r.org_unit_id)?,
            owner_id: uuid_col(&r.owner_id)?,
            project_id: r.project_id.as_deref().map(uuid_col).transpose()?,
            kind: enum_col(&r.kind)?,
            source: enum_col(&r.source)?,
            source_id: r.source_id.as_deref().map(uuid_col).transpose()?,
            partner_id: r.partner_id.as_deref().map(uuid_col).transpose()?,
            segment: enum_col(&r.segment)?,
            portrait_tags: list_col(&r.portrait_tags)?,
            product_interest: list_col(&r.product_interest)?,
            status: enum_col(&r.status)?,
            branch_id: r.branch_id,
            org_path: r.org_path,
            name: r.name,
            phone: r.phone,
            needs: r.needs,
            expected_amount_fen: r.expected_amount_fen,
            converted_amount_fen: r.converted_amount_fen,
            converted_at: r.converted_at.map(|t| t.and_utc()),
            lost_reason: r.lost_reason,
            do_not_contact: r.do_not_contact,
            conversion_product: r.conversion_product,
            conversion_reference: r.conversion_reference,
            conversion_confirmed_at: r.conversion_confirmed_at.map(|t| t.and_utc()),
            conversion_confirmed_by: r.conversion_confirmed_by.as_deref().map(uuid_col).transpose()?,
            create_digest: r.create_digest,
            version: r.version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        })
    }
}

impl Lead {
    fn to_row(&self) -> LeadRow {
        LeadRow {
            id: self.id.to_string(),
            branch_id: self.branch_id.clone(),
            org_unit_id: self.org_unit_id.to_string(),
            org_path: self.org_path.clone(),
            owner_id: self.owner_id.to_string(),
            project_id: self.project_id.map(|p| p.to_string()),
            name: self.name.clone(),
            phone: self.phone.clone(),
            source: self.source.as_str().to_owned(),
            source_id: self.source_id.map(|s| s.to_string()),
            status: self.status.as_str().to_owned(),
            version: self.version,
            created_at: self.created_at.naive_utc(),
            updated_at: self.updated_at.naive_utc(),
            kind: self.kind.as_str().to_owned(),
            partner_id: self.partner_id.map(|p| p.to_string()),
            segment: self.segment.as_str().to_owned(),
            portrait_tags: list_text(&self.portrait_tags),
            needs: self.needs.clone(),
            product_interest: list_text(&self.product_interest),
            expected_amount_fen: self.expected_amount_fen,
            converted_amount_fen: self.converted_amount_fen,
            converted_at: self.converted_at.map(|t| t.naive_utc()),
            lost_reason: self.lost_reason.clone(),
            do_not_contact: self.do_not_contact,
            conversion_product: self.conversion_product.clone(),
            conversion_reference: self.conversion_reference.clone(),
            conversion_confirmed_at: self.conversion_confirmed_at.map(|t| t.naive_utc()),
            conversion_confirmed_by: self.conversion_confirmed_by.map(|u| u.to_string()),
            create_digest: self.create_digest.clone(),
        }
    }

    /// The person behind the lead's phone: in the owner's care, unless they opted out.
    pub fn phone_holder(&self) -> PhoneHolder {
        PhoneHolder::in_care_of(self.owner_id).with_contact(Contact::from_do_not_contact(self.do_not_contact))
    }

    /// What the audit log keeps of a lead: its workflow, not the person. Erasing a lead must
    /// leave nothing personal behind, and the log is append-only.
    fn audit_view(&self) -> serde_json::Value {
        let mut view = serde_json::to_value(self).unwrap_or_default();
        if let Some(fields) = view.as_object_mut() {
            for personal in ["name", "phone", "needs", "portrait_tags", "product_interest"] {
                fields.remove(personal);
            }
        }
        view
    }

    fn points_for_new_lead(&self) -> Option<Credit> {
        self.project_id.map(|project_id| Credit { project_id, user_id: self.owner_id, occurred_at: self.created_at })
    }

    /// A conversion waiting for a manager's confirmation: it neither counts nor earns yet.
    pub fn conversion_pending(&self) -> bool {
        self.status == LeadStatus::Converted && self.conversion_confirmed_at.is_none()
    }

    fn points_for_conversion(&self) -> Option<Credit> {
        match (self.status, self.project_id, self.converted_at, self.conversion_confirmed_at) {
            (LeadStatus::Converted, Some(project_id), Some(at), Some(_)) => {
                Some(Credit { project_id, user_id: self.owner_id, occurred_at: at })
            }
            _ => None,
        }
    }

    /// Settles the ledger after a change from `before` (`None` for a new lead); `after` is `None`
    /// when the lead is gone.
    fn settle_points(
        conn: &mut DbConn,
        id: Uuid,
        before: Option<&Lead>,
        after: Option<&Lead>,
    ) -> Result<(), StoreError> {
        let id = id.to_string();
        let source = Source { kind: "lead", id: &id };
        let new_lead = (before.and_then(Lead::points_for_new_lead), after.and_then(Lead::points_for_new_lead));
        points::settle(conn, PointsAction::NewLead, source, new_lead.0, new_lead.1)?;
        let conversion = (before.and_then(Lead::points_for_conversion), after.and_then(Lead::points_for_conversion));
        points::settle(conn, PointsAction::Conversion, source, conversion.0, conversion.1)
    }
}

/// A lead as a client creates it.
#[derive(Debug, Clone, Serialize)]
pub struct NewLead {
    pub id: Option<Uuid>,
    pub kind: Option<LeadKind>,
    pub name: String,
    pub phone: String,
    pub source: LeadSource,
    pub source_id: Option<Uuid>,
    pub partner_id: Option<Uuid>,
    pub segment: Option<Segment>,
    pub portrait_tags: Option<Vec<String>>,
    pub needs: Option<String>,
    pub product_interest: Option<Vec<String>>,
    pub expected_amount: Option<f64>,
    pub do_not_contact: Option<bool>,
    pub project_id: Option<Uuid>,
    pub owner_id: Option<Uuid>,
}

/// A change to a lead; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct LeadPatch {
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
    pub status: Option<LeadStatus>,
    pub converted_amount: Option<f64>,
    pub converted_at: Option<DateTime<Utc>>,
    /// The product sold, with a conversion (required at or above the confirmation amount).
    pub conversion_product: Option<String>,
    /// The bank's own reference of the sale (an account or contract number), optional.
    pub conversion_reference: Option<String>,
    pub lost_reason: Option<String>,
    /// Kept in the history with a status move or a reassignment.
    pub note: Option<String>,
    pub owner_id: Option<Uuid>,
    pub version: Option<i64>,
}

/// Account managers see the leads they own; everyone else their subtree.
fn visible(actor: &Actor, row: &LeadRow) -> bool {
    actor.scope().contains(&row.org_path)
        && (actor.role != Role::AccountManager || row.owner_id == actor.user_id.to_string())
}

fn may_write(actor: &Actor) -> Result<(), DomainError> {
    if actor.role == Role::Supervisor {
        return Err(DomainError::forbidden(
            ErrorCode::RoleNotAllowed,
            "supervisors read leads; they do not change them",
        ));
    }
    Ok(())
}

/// Which of these leads the caller may read: a record that names a lead (an attendee, a
/// check-in) names it only to them, so no answer carries the id of a lead they cannot open.
pub fn readable_ids(
    conn: &mut DbConn,
    actor: &Actor,
    ids: &[String],
) -> Result<std::collections::HashSet<String>, StoreError> {
    let mut readable = std::collections::HashSet::new();
    for chunk in ids.chunks(500) {
        for row in store::find_many(conn, chunk)? {
            if visible(actor, &row) {
                readable.insert(row.id);
            }
        }
    }
    Ok(readable)
}

pub fn get(conn: &mut DbConn, actor: &Actor, id: Uuid) -> Result<Lead, DomainError> {
    let row = store::find(conn, &id.to_string())?.filter(|r| visible(actor, r)).ok_or(DomainError::NotFound("lead"))?;
    Ok(Lead::try_from(row)?)
}

/// The owner a manager assigns: an active user inside the manager's own subtree.
fn assignee(conn: &mut DbConn, actor: &Actor, owner_id: Uuid) -> Result<crate::domain::org::users::User, DomainError> {
    let owner = crate::domain::org::users::get(conn, actor, owner_id).map_err(|e| match e {
        DomainError::NotFound(_) => DomainError::NotFound("owner"),
        other => other,
    })?;
    if !owner.active {
        return Err(DomainError::invalid("owner_id", "the owner's account is disabled"));
    }
    if owner.org_unit_id.is_none() {
        return Err(DomainError::invalid("owner_id", "the owner belongs to no org unit"));
    }
    Ok(owner)
}

/// The source record must exist in the caller's scope.
fn check_source(conn: &mut DbConn, actor: &Actor, source: LeadSource, id: Option<Uuid>) -> Result<(), DomainError> {
    match (source, id) {
        (LeadSource::Visit | LeadSource::Event | LeadSource::Partner, None) => {
            Err(DomainError::invalid("source_id", "required for a lead from a visit, an event or a partner"))
        }
        (LeadSource::Visit, Some(id)) => crate::domain::field::visits::get(conn, actor, id).map(|_| ()),
        (LeadSource::Event, Some(id)) => crate::domain::events::events::get(conn, actor, id).map(|_| ()),
        (LeadSource::Partner, Some(id)) => crate::domain::field::partners::get(conn, actor, id).map(|_| ()),
        (LeadSource::Referral | LeadSource::WalkIn, _) => Ok(()),
    }
}

fn history(
    conn: &mut DbConn,
    lead: &Lead,
    actor: &Actor,
    kind: &str,
    from: Option<String>,
    to: String,
    note: Option<String>,
) -> Result<(), StoreError> {
    store::insert_history(
        conn,
        &LeadHistoryRow {
            id: Uuid::now_v7().to_string(),
            lead_id: lead.id.to_string(),
            kind: kind.to_owned(),
            from_value: from,
            to_value: to,
            note,
            changed_by: actor.user_id.to_string(),
            changed_at: now_utc(),
        },
    )
}

pub fn create(conn: &mut DbConn, actor: &Actor, input: NewLead) -> Result<Created<Lead>, DomainError> {
    may_write(actor)?;
    if actor.role == Role::AccountManager && input.owner_id.is_some_and(|o| o != actor.user_id) {
        return Err(DomainError::forbidden(ErrorCode::CannotAssign, "only managers assign a lead's owner"));
    }
    let mut v = Validator::default();
    let name = v.check("name", crate::domain::common::text::name(&input.name, 100)).unwrap_or_default();
    let phone = v.check("phone", Phone::parse(&input.phone)).map(|p| p.as_str().to_owned()).unwrap_or_default();
    let portrait_tags = text_list(&mut v, "portrait_tags", input.portrait_tags.as_deref().unwrap_or(&[]));
    let product_interest = text_list(&mut v, "product_interest", input.product_interest.as_deref().unwrap_or(&[]));
    let needs = bounded_text(&mut v, "needs", input.needs.as_deref().unwrap_or(""), 1000);
    let expected = input.expected_amount.map(|a| amount_fen(&mut v, "expected_amount", a));
    v.finish()?;
    let digest = crate::domain::common::create::create_digest(&input);
    crate::domain::common::create::retry_on_race(|| {
        conn.write_tx(|conn| {
            let id = input.id.unwrap_or_else(Uuid::now_v7);
            if let Some(existing) = store::find(conn, &id.to_string())? {
                return if existing.create_digest == digest && visible(actor, &existing) {
                    Ok(Created::Existing(Lead::try_from(existing)?))
                } else {
                    Err(DomainError::conflict(ErrorCode::IdConflict, "another lead already has this id"))
                };
            }
            let owner = assignee(conn, actor, input.owner_id.unwrap_or(actor.user_id))?;
            let unit_id = owner.org_unit_id.ok_or(DomainError::NotFound("org unit"))?;
            let unit = crate::domain::org::org_units::get(conn, &Actor::system(), unit_id)?;
            let branch_id = unit.branch_id.to_string();
            if let Some(existing) = store::find_by_phone(conn, &branch_id, &phone)? {
                let existing_id = visible(actor, &existing).then(|| uuid_col(&existing.id)).transpose()?;
                return Err(DomainError::Duplicate {
                    code: ErrorCode::DuplicateLead,
                    detail: "this phone is already a lead in your branch".to_owned(),
                    existing_id,
                });
            }
            check_source(conn, actor, input.source, input.source_id)?;
            if let Some(partner) = input.partner_id {
                crate::domain::field::partners::get(conn, actor, partner)?;
            }
            if let Some(project) = input.project_id {
                crate::domain::projects::projects::check_link(conn, actor, project, &branch_id)?;
            }
            let now = now_utc().and_utc();
            let lead = Lead {
                id,
                branch_id,
                org_unit_id: unit.id,
                org_path: unit.path,
                owner_id: owner.id,
                project_id: input.project_id,
                kind: input.kind.unwrap_or(LeadKind::Person),
                name: name.clone(),
                phone: phone.clone(),
                source: input.source,
                source_id: input.source_id,
                partner_id: input.partner_id,
                segment: input.segment.unwrap_or(Segment::Outreach),
                portrait_tags: portrait_tags.clone(),
                needs: needs.clone(),
                product_interest: product_interest.clone(),
                expected_amount_fen: expected,
                status: LeadStatus::New,
                converted_amount_fen: None,
                converted_at: None,
                lost_reason: None,
                do_not_contact: input.do_not_contact.unwrap_or(false),
                conversion_product: None,
                conversion_reference: None,
                conversion_confirmed_at: None,
                conversion_confirmed_by: None,
                create_digest: digest.clone(),
                version: 1,
                created_at: now,
                updated_at: now,
            };
            store::insert(conn, &lead.to_row())?;
            history(conn, &lead, actor, "status", None, LeadStatus::New.as_str().to_owned(), None)?;
            audit::record(conn, actor, "lead", lead.id, &lead.org_path, Action::Create, lead.audit_view())?;
            Lead::settle_points(conn, lead.id, None, Some(&lead))?;
            Ok(Created::New(lead))
        })
    })
}

#[derive(Debug, Default, Clone)]
pub struct LeadQuery {
    pub status: Option<LeadStatus>,
    pub segment: Option<Segment>,
    pub source: Option<LeadSource>,
    pub owner_id: Option<Uuid>,
    pub org_unit_id: Option<Uuid>,
    pub project_id: Option<Uuid>,
    pub partner_id: Option<Uuid>,
    pub q: Option<String>,
    pub include_do_not_contact: bool,
}

/// Reading leads in bulk is audited like an export (PIPL) when the page shows the caller full
/// phones of leads in another's care (a manager reading the team's); an account manager reading
/// their own leaves no entry.
pub fn record_bulk_read(conn: &mut DbConn, actor: &Actor, leads: &[Lead]) -> Result<(), StoreError> {
    let full = leads.iter().filter(|l| l.owner_id != actor.user_id && l.phone_holder().shown_in_full_to(actor)).count();
    if full == 0 {
        return Ok(());
    }
    let path = actor.scope().path_prefix().unwrap_or_else(|| "/".to_owned());
    audit::record(
        conn,
        actor,
        "lead_list",
        actor.user_id,
        &path,
        Action::Read,
        serde_json::json!({"read": "leads", "rows": leads.len(), "full_phones": full}),
    )
}

pub fn list(
    conn: &mut DbConn,
    actor: &Actor,
    query: &LeadQuery,
    page: &PageRequest,
) -> Result<Page<Lead>, DomainError> {
    let own = (actor.role == Role::AccountManager).then_some(actor.user_id);
    if let (Some(me), Some(asked)) = (own, query.owner_id)
        && me != asked
    {
        return Ok(Page { items: Vec::new(), next_cursor: None });
    }
    let filter = LeadFilter {
        path_prefix: actor.scope().path_prefix(),
        owner_id: own.or(query.owner_id).map(|u| u.to_string()),
        status: query.status.map(|s| s.as_str().to_owned()),
        segment: query.segment.map(|s| s.as_str().to_owned()),
        source: query.source.map(|s| s.as_str().to_owned()),
        org_unit_id: query.org_unit_id.map(|u| u.to_string()),
        project_id: query.project_id.map(|u| u.to_string()),
        partner_id: query.partner_id.map(|u| u.to_string()),
        q: query.q.as_ref().map(|q| q.trim().to_owned()).filter(|q| !q.is_empty()),
        include_do_not_contact: query.include_do_not_contact,
    };
    Ok(store::list(conn, &filter, page)?.try_map(Lead::try_from)?)
}

/// Validates the fields of a patch before any read, so a bad request learns everything at once.
struct CheckedPatch {
    name: Option<String>,
    portrait_tags: Option<Vec<String>>,
    product_interest: Option<Vec<String>>,
    needs: Option<String>,
    expected_fen: Option<i64>,
    converted_fen: Option<i64>,
    conversion_product: Option<String>,
    conversion_reference: Option<String>,
    lost_reason: Option<String>,
    note: Option<String>,
}

fn check_patch(patch: &LeadPatch) -> Result<CheckedPatch, DomainError> {
    let mut v = Validator::default();
    let checked = CheckedPatch {
        name: patch
            .name
            .as_deref()
            .map(|n| v.check("name", crate::domain::common::text::name(n, 100)).unwrap_or_default()),
        portrait_tags: patch.portrait_tags.as_deref().map(|t| text_list(&mut v, "portrait_tags", t)),
        product_interest: patch.product_interest.as_deref().map(|t| text_list(&mut v, "product_interest", t)),
        needs: patch.needs.as_deref().map(|t| bounded_text(&mut v, "needs", t, 1000)),
        expected_fen: patch.expected_amount.map(|a| amount_fen(&mut v, "expected_amount", a)),
        converted_fen: patch.converted_amount.map(|a| amount_fen(&mut v, "converted_amount", a)),
        conversion_product: patch
            .conversion_product
            .as_deref()
            .map(|t| bounded_text(&mut v, "conversion_product", t, 100))
            .filter(|t| !t.is_empty()),
        conversion_reference: patch
            .conversion_reference
            .as_deref()
            .map(|t| bounded_text(&mut v, "conversion_reference", t, 100))
            .filter(|t| !t.is_empty()),
        lost_reason: patch.lost_reason.as_deref().map(|t| bounded_text(&mut v, "lost_reason", t, 500)),
        note: patch.note.as_deref().map(|t| bounded_text(&mut v, "note", t, 500)).filter(|t| !t.is_empty()),
    };
    if let Some(at) = patch.converted_at {
        v.check("converted_at", crate::domain::common::text::sane_time(at));
        if at > Utc::now() + chrono::Duration::minutes(5) {
            v.add("converted_at", "must not be in the future");
        }
    }
    v.finish()?;
    Ok(checked)
}

/// Applies a status move with what it needs (amount, reason), or refuses it.
fn move_status(
    actor: &Actor,
    next: &mut Lead,
    to: LeadStatus,
    checked: &CheckedPatch,
    patch: &LeadPatch,
    confirm_above_fen: i64,
) -> Result<(), DomainError> {
    let from = next.status;
    if from.is_revert(to) {
        if !actor.role.manages_people() {
            return Err(DomainError::forbidden(ErrorCode::RoleNotAllowed, "only managers revert a conversion"));
        }
        next.converted_amount_fen = None;
        next.converted_at = None;
        clear_conversion(next);
    } else if !from.can_move_to(to) {
        let allowed: Vec<&str> = from.next().iter().map(|s| s.as_str()).collect();
        return Err(DomainError::conflict(
            ErrorCode::InvalidTransition,
            format!("a {} lead cannot become {}; allowed next: {}", from.as_str(), to.as_str(), allowed.join(", ")),
        ));
    }
    match to {
        LeadStatus::Converted => {
            let amount = checked
                .converted_fen
                .ok_or_else(|| DomainError::invalid("converted_amount", "required to convert a lead"))?;
            let at = patch.converted_at.unwrap_or_else(Utc::now).trunc_subsecs(6);
            if at < next.created_at.trunc_subsecs(0) {
                return Err(DomainError::invalid("converted_at", "must not be before the lead was created"));
            }
            next.converted_amount_fen = Some(amount);
            next.converted_at = Some(at);
            next.conversion_product = checked.conversion_product.clone().or(next.conversion_product.take());
            next.conversion_reference = checked.conversion_reference.clone().or(next.conversion_reference.take());
            judge_conversion(actor, next, confirm_above_fen)?;
        }
        LeadStatus::Lost => {
            let reason = checked.lost_reason.clone().filter(|r| !r.is_empty());
            next.lost_reason =
                Some(reason.ok_or_else(|| DomainError::invalid("lost_reason", "required to lose a lead"))?);
        }
        _ => next.lost_reason = None,
    }
    next.status = to;
    Ok(())
}

fn clear_conversion(lead: &mut Lead) {
    lead.conversion_product = None;
    lead.conversion_reference = None;
    lead.conversion_confirmed_at = None;
    lead.conversion_confirmed_by = None;
}

/// Whether a conversion stands at once or waits for a manager: at or above the confirmation
/// amount (`OUTREACH_CONFIRM_CONVERSIONS_ABOVE_YUAN`) it names its product and waits — unless a
/// manager who does not own the lead records it, which is the confirmation.
fn judge_conversion(actor: &Actor, lead: &mut Lead, confirm_above_fen: i64) -> Result<(), DomainError> {
    let amount = lead.converted_amount_fen.unwrap_or(0);
    if amount < confirm_above_fen {
        lead.conversion_confirmed_at = lead.converted_at;
        lead.conversion_confirmed_by = None;
        return Ok(());
    }
    if lead.conversion_product.is_none() {
        return Err(DomainError::invalid(
            "conversion_product",
            format!("required for a conversion of {} yuan or more, which a manager confirms", yuan(confirm_above_fen)),
        ));
    }
    if actor.role.manages_people() && actor.user_id != lead.owner_id {
        lead.conversion_confirmed_at = Some(now_utc().and_utc());
        lead.conversion_confirmed_by = Some(actor.user_id);
    } else {
        lead.conversion_confirmed_at = None;
        lead.conversion_confirmed_by = None;
    }
    Ok(())
}

/// A manager's decision on a conversion that waits: confirmed, it counts and earns from its
/// conversion time; rejected, the lead goes back to `qualified` with the reason in its history.
pub fn review_conversion(
    conn: &mut DbConn,
    actor: &Actor,
    id: Uuid,
    confirm: bool,
    reason: Option<&str>,
) -> Result<Lead, DomainError> {
    let mut v = Validator::default();
    let reason = reason.map(|r| bounded_text(&mut v, "reason", r, 500)).filter(|r| !r.is_empty());
    if !confirm && reason.is_none() {
        v.add("reason", "required to reject a conversion");
    }
    v.finish()?;
    conn.write_tx(|conn| {
        let current = get(conn, actor, id)?;
        if !actor.role.manages_people() || actor.user_id == current.owner_id {
            return Err(DomainError::forbidden(
                ErrorCode::RoleNotAllowed,
                "a manager other than the lead's owner confirms a conversion",
            ));
        }
        if !current.conversion_pending() {
            return Err(DomainError::conflict(
                ErrorCode::InvalidTransition,
                "no conversion of this lead waits for review",
            ));
        }
        let mut next = current.clone();
        if confirm {
            next.conversion_confirmed_at = Some(now_utc().and_utc());
            next.conversion_confirmed_by = Some(actor.user_id);
        } else {
            next.status = LeadStatus::Qualified;
            next.converted_amount_fen = None;
            next.converted_at = None;
            clear_conversion(&mut next);
        }
        next.version = current.version + 1;
        next.updated_at = now_utc().and_utc();
        if !store::replace(conn, &next.to_row(), current.version)? {
            return Err(DomainError::conflict(ErrorCode::VersionConflict, "the lead changed since you read it"));
        }
        let decision = if confirm { "confirmed" } else { "rejected" };
        history(conn, &next, actor, "conversion", Some("pending".to_owned()), decision.to_owned(), reason.clone())?;
        let changes = audit::diff(&current.audit_view(), &next.audit_view());
        audit::record(conn, actor, "lead", id, &next.org_path, Action::Update, changes)?;
        Lead::settle_points(conn, id, Some(&current), Some(&next))?;
        Ok(next)
    })
}

pub fn update(
    conn: &mut DbConn,
    actor: &Actor,
    thresholds: &crate::domain::field::verification::Thresholds,
    id: Uuid,
    patch: LeadPatch,
) -> Result<Lead, DomainError> {
    let checked = check_patch(&patch)?;
    conn.write_tx(|conn| {
        // Visibility first: a lead outside the caller's scope is 404 whoever asks, never 403.
        let current = get(conn, actor, id)?;
        may_write(actor)?;
        if actor.role == Role::AccountManager && patch.owner_id.is_some_and(|o| o != actor.user_id) {
            return Err(DomainError::forbidden(ErrorCode::CannotAssign, "only managers assign a lead's owner"));
        }
        if patch.version.is_some_and(|v| v != current.version) {
            return Err(DomainError::conflict(ErrorCode::VersionConflict, "the lead changed since you read it"));
        }
        let mut next = current.clone();
        if let Some(name) = &checked.name {
            next.name = name.clone();
        }
        next.kind = patch.kind.unwrap_or(next.kind);
        next.segment = patch.segment.unwrap_or(next.segment);
        next.portrait_tags = checked.portrait_tags.clone().unwrap_or(next.portrait_tags);
        next.product_interest = checked.product_interest.clone().unwrap_or(next.product_interest);
        next.needs = checked.needs.clone().unwrap_or(next.needs);
        next.expected_amount_fen = checked.expected_fen.or(next.expected_amount_fen);
        if let Some(flag) = patch.do_not_contact.filter(|f| *f != current.do_not_contact) {
            // Anyone may honour a request not to be called; only a manager may lift it.
            if !flag && !actor.role.manages_people() {
                return Err(DomainError::forbidden(
                    ErrorCode::RoleNotAllowed,
                    "only managers lift a do-not-contact request",
                ));
            }
            next.do_not_contact = flag;
        }
        if let Some(partner) = patch.partner_id.filter(|p| Some(*p) != current.partner_id) {
            crate::domain::field::partners::get(conn, actor, partner)?;
            next.partner_id = Some(partner);
        }
        if let Some(project) = patch.project_id.filter(|p| Some(*p) != current.project_id) {
            crate::domain::projects::projects::check_link(conn, actor, project, &current.branch_id)?;
            next.project_id = Some(project);
        }
        let confirm_above = thresholds.confirm_conversions_above_fen;
        if let Some(to) = patch.status.filter(|s| *s != current.status) {
            move_status(actor, &mut next, to, &checked, &patch, confirm_above)?;
        } else if current.status == LeadStatus::Converted
            && (checked.converted_fen.is_some_and(|f| Some(f) != current.converted_amount_fen)
                || checked.conversion_product.is_some()
                || checked.conversion_reference.is_some())
        {
            // Correcting a conversion: judged again, as if recorded now.
            next.converted_amount_fen = checked.converted_fen.or(next.converted_amount_fen);
            next.conversion_product = checked.conversion_product.clone().or(next.conversion_product.take());
            next.conversion_reference = checked.conversion_reference.clone().or(next.conversion_reference.take());
            let before = (next.converted_amount_fen, next.conversion_product.clone());
            if before != (current.converted_amount_fen, current.conversion_product.clone()) {
                judge_conversion(actor, &mut next, confirm_above)?;
            }
        }
        if let Some(owner_id) = patch.owner_id.filter(|o| *o != current.owner_id) {
            let owner = assignee(conn, actor, owner_id)?;
            let unit_id = owner.org_unit_id.ok_or(DomainError::NotFound("org unit"))?;
            let unit = crate::domain::org::org_units::get(conn, actor, unit_id)?;
            if unit.branch_id.to_string() != current.branch_id {
                return Err(DomainError::NotFound("owner"));
            }
            next.owner_id = owner.id;
            next.org_unit_id = unit.id;
            next.org_path = unit.path;
        }
        if next == current {
            return Ok(current);
        }
        next.version = current.version + 1;
        next.updated_at = now_utc().and_utc();
        if !store::replace(conn, &next.to_row(), current.version)? {
            return Err(DomainError::conflict(ErrorCode::VersionConflict, "the lead changed since you read it"));
        }
        if next.owner_id != current.owner_id {
            // The former owner's phone holds it no more (managers' phones still read it).
            let seq = crate::store::sync::next_seq(conn)?;
            crate::store::sync::tombstone(conn, seq, "leads", id, &current.org_path, Some(current.owner_id))?;
        }
        if next.status != current.status {
            let from = Some(current.status.as_str().to_owned());
            let note = checked.note.clone().or(next.lost_reason.clone().filter(|_| next.status == LeadStatus::Lost));
            history(conn, &next, actor, "status", from, next.status.as_str().to_owned(), note)?;
        }
        if next.do_not_contact != current.do_not_contact {
            let (from, to) = (current.do_not_contact.to_string(), next.do_not_contact.to_string());
            history(conn, &next, actor, "do_not_contact", Some(from), to, checked.note.clone())?;
        }
        if next.owner_id != current.owner_id {
            let from = Some(current.owner_id.to_string());
            history(conn, &next, actor, "owner", from, next.owner_id.to_string(), checked.note.clone())?;
        }
        let changes = audit::diff(&current.audit_view(), &next.audit_view());
        audit::record(conn, actor, "lead", id, &next.org_path, Action::Update, changes)?;
        Lead::settle_points(conn, id, Some(&current), Some(&next))?;
        Ok(next)
    })
}

/// Erases the lead (its personal data and history); its points are reversed in the ledger.
pub fn delete(conn: &mut DbConn, actor: &Actor, id: Uuid) -> Result<(), DomainError> {
    conn.write_tx(|conn| {
        let current = get(conn, actor, id)?;
        may_write(actor)?;
        store::erase(conn, &id.to_string())?;
        Lead::settle_points(conn, id, Some(&current), None)?;
        audit::record(conn, actor, "lead", id, &current.org_path, Action::Delete, serde_json::json!({}))?;
        Ok(())
    })
}

#[derive(Debug, Clone)]
pub struct HistoryEntry {
    pub id: Uuid,
    pub kind: String,
    pub from: Option<String>,
    pub to: String,
    pub note: Option<String>,
    pub changed_by: Uuid,
    pub changed_at: DateTime<Utc>,
}

pub fn history_of(
    conn: &mut DbConn,
    actor: &Actor,
    id: Uuid,
    page: &PageRequest,
) -> Result<Page<HistoryEntry>, DomainError> {
    get(conn, actor, id)?;
    Ok(store::history(conn, &id.to_string(), page)?.try_map(|r| -> Result<HistoryEntry, StoreError> {
        Ok(HistoryEntry {
            id: uuid_col(&r.id)?,
            kind: r.kind,
            from: r.from_value,
            to: r.to_value,
            note: r.note,
            changed_by: uuid_col(&r.changed_by)?,
            changed_at: r.changed_at.and_utc(),
        })
    })?)
}

/// Amount helpers for the HTTP layer.
pub fn fen_to_yuan(fen: Option<i64>) -> Option<f64> {
    fen.map(yuan)
}

/// A lead made by a check-in: the attendee as the event's owner's new lead, in the event's project.
pub fn from_checkin(
    conn: &mut DbConn,
    event: &crate::domain::events::events::Event,
    name: &str,
    phone: &str,
) -> Result<String, StoreError> {
    if let Some(lead) = store::find_by_phone(conn, &event.branch_id, phone)? {
        return Ok(lead.id);
    }
    let now = now_utc().and_utc();
    let lead = Lead {
        id: Uuid::now_v7(),
        branch_id: event.branch_id.clone(),
        org_unit_id: event.org_unit_id,
        org_path: event.org_path.clone(),
        owner_id: event.owner_id,
        project_id: event.project_id,
        kind: LeadKind::Person,
        name: name.to_owned(),
        phone: phone.to_owned(),
        source: LeadSource::Event,
        source_id: Some(event.id),
        partner_id: Some(event.partner_id),
        segment: Segment::Outreach,
        portrait_tags: Vec::new(),
        needs: String::new(),
        product_interest: Vec::new(),
        expected_amount_fen: None,
        status: LeadStatus::New,
        converted_amount_fen: None,
        converted_at: None,
        lost_reason: None,
        conversion_product: None,
        conversion_reference: None,
        conversion_confirmed_at: None,
        conversion_confirmed_by: None,
        do_not_contact: false,
        create_digest: String::new(),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    store::insert(conn, &lead.to_row())?;
    let owner = Actor { user_id: event.owner_id, ..Actor::system() };
    history(conn, &lead, &owner, "status", None, LeadStatus::New.as_str().to_owned(), Some("活动签到".to_owned()))?;
    Lead::settle_points(conn, lead.id, None, Some(&lead))?;
    Ok(lead.id.to_string())
}

/// Brings a lead's points in line with its current state (after a bulk load, or a repair).
pub fn resettle(conn: &mut DbConn, id: &str) -> Result<(), StoreError> {
    match store::find(conn, id)? {
        Some(row) => {
            let lead = Lead::try_from(row)?;
            Lead::settle_points(conn, lead.id, None, Some(&lead))
        }
        None => settle_erased(conn, id),
    }
}

/// Reverses the points of a lead that was erased by other means (a registration's withdrawal).
pub fn settle_erased(conn: &mut DbConn, lead_id: &str) -> Result<(), StoreError> {
    let source = Source { kind: "lead", id: lead_id };
    points::settle(conn, PointsAction::NewLead, source, None, None)?;
    points::settle(conn, PointsAction::Conversion, source, None, None)
}
