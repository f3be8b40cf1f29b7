//! Alliance partners (联盟商户): geolocated records that move through the alliance pipeline.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::domain::common::create::Created;
use crate::domain::common::error::Validator;
use crate::domain::common::text::{bounded_text, text_list};
use crate::domain::kinds::partner_kind::{AudienceUnit, PartnerCategory, PartnerStatus};
use crate::domain::org::audit::{self, Action};
use crate::domain::org::org_units::OrgUnit;
use crate::domain::org::territories::BranchTerritories;
use crate::domain::{Actor, DomainError, ErrorCode, Phone, Role};
use crate::geo::bbox::lat_band;
use crate::geo::{BBox, LatLon, distance_m};
use crate::store::field::partners::{self as store, BoxFilter, PartnerFilter, PartnerRow, StatusChangeRow};
use crate::store::{DbConn, Page, PageRequest, StoreError, enum_col, now_utc, sync, uuid_col};

pub const DEFAULT_GEOFENCE_M: i32 = 200;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Partner {
    pub id: Uuid,
    #[serde(skip)]
    pub branch_id: String,
    pub org_unit_id: Uuid,
    #[serde(skip)]
    pub org_path: String,
    pub owner_id: Uuid,
    pub name: String,
    pub category: PartnerCategory,
    pub status: PartnerStatus,
    pub location: LatLon,
    pub address: String,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub audience_size: Option<i64>,
    pub audience_unit: Option<AudienceUnit>,
    pub pain_points: Vec<String>,
    pub agreed_benefits: Vec<String>,
    pub visit_cadence_days: i32,
    pub geofence_m: i32,
    pub territory_unit_id: Option<Uuid>,
    #[serde(skip)]
    create_digest: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(skip)]
    pub deleted_at: Option<DateTime<Utc>>,
    #[serde(skip)]
    pub seq: i64,
    #[serde(skip)]
    pub created_seq: i64,
}

fn json_list(text: &str, id: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("list of partner {id}: {e}")))
}

impl TryFrom<PartnerRow> for Partner {
    type Error = StoreError;
    fn try_from(r: PartnerRow) -> Result<Self, StoreError> {
        Ok(Partner {
            id: uuid_col(&r.id)?,
            org_unit_id: uuid_col(&r.org_unit_id)?,
            owner_id: uuid_col(&r.owner_id)?,
            category: enum_col(&r.category)?,
            status: enum_col(&r.status)?,
            location: LatLon { lat: r.lat, lon: r.lon },
            audience_unit: r.audience_unit.as_deref().map(enum_col).transpose()?,
            pain_points: json_list(&r.pain_points, &r.id)?,
            agreed_benefits: json_list(&r.agreed_benefits, &r.id)?,
            territory_unit_id: r.territory_unit_id.as_deref().map(uuid_col).transpose()?,
            branch_id: r.branch_id,
            org_path: r.org_path,
            name: r.name,
            address: r.address,
            contact_name: r.contact_name,
            contact_phone: r.contact_phone,
            audience_size: r.audience_size,
            visit_cadence_days: r.visit_cadence_days,
            geofence_m: r.geofence_m,
            create_digest: r.create_digest,
            version: r.version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
            deleted_at: r.deleted_at.map(|t| t.and_utc()),
            seq: r.seq,
            created_seq: r.created_seq,
        })
    }
}

impl Partner {
    fn to_row(&self) -> PartnerRow {
        PartnerRow {
            id: self.id.to_string(),
            branch_id: self.branch_id.clone(),
            org_unit_id: self.org_unit_id.to_string(),
            org_path: self.org_path.clone(),
            owner_id: self.owner_id.to_string(),
            name: self.name.clone(),
            category: self.category.as_str().to_owned(),
            status: self.status.as_str().to_owned(),
            lat: self.location.lat,
            lon: self.location.lon,
            lat_band: lat_band(self.location.lat),
            address: self.address.clone(),
            contact_name: self.contact_name.clone(),
            contact_phone: self.contact_phone.clone(),
            audience_size: self.audience_size,
            audience_unit: self.audience_unit.map(|u| u.as_str().to_owned()),
            pain_points: serde_json::to_string(&self.pain_points).unwrap_or_else(|_| "[]".to_owned()),
            agreed_benefits: serde_json::to_string(&self.agreed_benefits).unwrap_or_else(|_| "[]".to_owned()),
            visit_cadence_days: self.visit_cadence_days,
            geofence_m: self.geofence_m,
            territory_unit_id: self.territory_unit_id.map(|u| u.to_string()),
            create_digest: self.create_digest.clone(),
            version: self.version,
            created_at: self.created_at.naive_utc(),
            updated_at: self.updated_at.naive_utc(),
            deleted_at: self.deleted_at.map(|t| t.naive_utc()),
            seq: self.seq,
            created_seq: self.created_seq,
        }
    }

    /// The partner as the audit log keeps it: contact phones masked, since audit readers include
    /// roles that may not see them.
    fn audit_view(&self) -> serde_json::Value {
        let mut view = serde_json::to_value(self).unwrap_or_default();
        if let Some(phone) = &self.contact_phone {
            view["contact_phone"] =
                serde_json::Value::String(crate::domain::common::phone_privacy::for_the_audit_log(phone));
        }
        view
    }
}

/// What a client sends to create a partner; the location is already WGS-84.
#[derive(Debug, Clone, Serialize)]
pub struct NewPartner {
    pub id: Option<Uuid>,
    pub name: String,
    pub category: PartnerCategory,
    pub status: Option<PartnerStatus>,
    pub location: LatLon,
    pub address: Option<String>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub audience_size: Option<i64>,
    pub audience_unit: Option<AudienceUnit>,
    pub pain_points: Option<Vec<String>>,
    pub agreed_benefits: Option<Vec<String>>,
    pub visit_cadence_days: Option<i32>,
    pub geofence_m: Option<i32>,
    pub owner_id: Option<Uuid>,
    pub org_unit_id: Option<Uuid>,
}

/// A change to a partner; `None` leaves a field as it is, an empty text clears an optional one.
#[derive(Debug, Clone, Default)]
pub struct PartnerPatch {
    pub name: Option<String>,
    pub category: Option<PartnerCategory>,
    pub status: Option<PartnerStatus>,
    pub status_note: Option<String>,
    pub location: Option<LatLon>,
    pub address: Option<String>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub audience_size: Option<i64>,
    pub audience_unit: Option<AudienceUnit>,
    pub pain_points: Option<Vec<String>>,
    pub agreed_benefits: Option<Vec<String>>,
    pub visit_cadence_days: Option<i32>,
    pub geofence_m: Option<i32>,
    pub owner_id: Option<Uuid>,
    pub org_unit_id: Option<Uuid>,
    pub version: Option<i64>,
}

/// A close-by partner with a similar name, shown (not enforced) when creating.
#[derive(Debug, Clone)]
pub struct PossibleDuplicate {
    pub id: Uuid,
    pub name: String,
    pub distance_m: f64,
}

/// How far [`as_duplicate`] looks.
pub const DUPLICATE_RADIUS_M: f64 = 100.0;

/// Lower-cased, without spaces and punctuation: "华润万家 (江门店)" ~ "华润万家江门店".
fn normalise(name: &str) -> Vec<char> {
    name.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// Dice similarity of character bigrams; works for Chinese, where words are not spaced.
fn similarity(a: &str, b: &str) -> f64 {
    let (a, b) = (normalise(a), normalise(b));
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    if a == b {
        return 1.0;
    }
    let contains = |x: &[char], y: &[char]| y.len() >= 2 && x.windows(y.len()).any(|w| w == y);
    if contains(&a, &b) || contains(&b, &a) {
        return 0.9;
    }
    let bigrams = |s: &[char]| s.windows(2).map(|w| (w[0], w[1])).collect::<Vec<_>>();
    let (ba, mut bb) = (bigrams(&a), bigrams(&b));
    if ba.is_empty() || bb.is_empty() {
        return 0.0;
    }
    let total = ba.len() + bb.len();
    let mut shared = 0;
    for g in ba {
        if let Some(i) = bb.iter().position(|x| *x == g) {
            bb.swap_remove(i);
            shared += 1;
        }
    }
    2.0 * shared as f64 / total as f64
}

/// The duplicate rule: a partner within [`DUPLICATE_RADIUS_M`] of `partner` whose name is
/// similar, given the id, name and position of a partner found near it.
pub fn as_duplicate(partner: &Partner, id: Uuid, name: &str, at: LatLon) -> Option<PossibleDuplicate> {
    if id == partner.id {
        return None;
    }
    let d = distance_m(partner.location, at);
    (d <= DUPLICATE_RADIUS_M && similarity(name, &partner.name) >= 0.5).then(|| PossibleDuplicate {
        id,
        name: name.to_owned(),
        distance_m: d,
    })
}

fn check_location(v: &mut Validator, location: LatLon) -> LatLon {
    v.check("location", location.validated()).unwrap_or(location)
}

fn check_numbers(v: &mut Validator, audience: Option<i64>, cadence: Option<i32>, geofence: Option<i32>) {
    if audience.is_some_and(|a| !(0..=10_000_000).contains(&a)) {
        v.add("audience_size", "must be between 0 and 10000000");
    }
    if cadence.is_some_and(|c| !(1..=365).contains(&c)) {
        v.add("visit_cadence_days", "must be between 1 and 365");
    }
    if geofence.is_some_and(|g| !(20..=5000).contains(&g)) {
        v.add("geofence_m", "must be between 20 and 5000 metres");
    }
}

/// An optional text: empty clears it.
fn optional_text(v: &mut Validator, field: &str, text: &str, max: usize) -> Option<String> {
    let cleaned = bounded_text(v, field, text, max);
    if cleaned.is_empty() { None } else { Some(cleaned) }
}

fn optional_phone(v: &mut Validator, text: &str) -> Option<String> {
    if text.trim().is_empty() {
        return None;
    }
    v.check("contact_phone", Phone::parse(text)).map(|p| p.as_str().to_owned())
}

/// Supervisors read; account managers write only what they own; managers write their subtree.
fn may_write(actor: &Actor, owner_id: Uuid) -> Result<(), DomainError> {
    match actor.role {
        Role::Supervisor => Err(DomainError::forbidden(ErrorCode::RoleNotAllowed, "supervisors do not edit partners")),
        Role::AccountManager if owner_id != actor.user_id => {
            Err(DomainError::forbidden(ErrorCode::NotOwner, "account managers change only the partners they own"))
        }
        _ => Ok(()),
    }
}

/// Resolves who owns a partner and which unit it belongs to, enforcing who may assign them.
fn placement(
    conn: &mut DbConn,
    actor: &Actor,
    owner_id: Option<Uuid>,
    org_unit_id: Option<Uuid>,
    current: Option<(Uuid, Uuid)>,
) -> Result<(Uuid, OrgUnit), DomainError> {
    if actor.role == Role::AccountManager {
        let current_owner = current.map_or(actor.user_id, |c| c.0);
        let current_unit = current.map(|c| c.1).or(actor.org_unit_id);
        if owner_id.is_some_and(|o| o != current_owner) || org_unit_id.is_some_and(|u| Some(u) != current_unit) {
            return Err(DomainError::forbidden(
                ErrorCode::CannotAssign,
                "only managers assign a partner's owner and org unit",
            ));
        }
    }
    let owner_id = owner_id.or(current.map(|c| c.0)).unwrap_or(actor.user_id);
    let owner_changed = current.is_some_and(|c| c.0 != owner_id);
    let owner = crate::domain::org::users::get(conn, actor, owner_id).map_err(|e| match e {
        DomainError::NotFound(_) => DomainError::NotFound("owner"),
        other => other,
    })?;
    if !owner.active {
        return Err(DomainError::invalid("owner_id", "the owner's account is disabled"));
    }
    let unit_id = match (org_unit_id, current) {
        (Some(unit), _) => Some(unit),
        (None, Some((_, unit))) if !owner_changed => Some(unit),
        _ => owner.org_unit_id,
    };
    let unit_id = unit_id.ok_or_else(|| DomainError::invalid("org_unit_id", "required: the owner has no org unit"))?;
    let unit = crate::domain::org::org_units::get(conn, actor, unit_id).map_err(|e| match e {
        DomainError::NotFound(_) => DomainError::NotFound("org unit"),
        other => other,
    })?;
    Ok((owner_id, unit))
}

fn status_change(
    conn: &mut DbConn,
    partner: &Partner,
    from: Option<PartnerStatus>,
    actor: &Actor,
    note: Option<String>,
    at: NaiveDateTime,
) -> Result<(), StoreError> {
    store::insert_status_change(
        conn,
        &StatusChangeRow {
            id: Uuid::now_v7().to_string(),
            partner_id: partner.id.to_string(),
            from_status: from.map(|s| s.as_str().to_owned()),
            to_status: partner.status.as_str().to_owned(),
            changed_by: actor.user_id.to_string(),
            note,
            changed_at: at,
        },
    )
}

/// Creates a partner. Its possible duplicates are a separate read
/// ([`super::partner_search::possible_duplicates`]), after the commit: the search is advice, not a
/// rule, and inside the write it held the database's one writer for a quarter of the create.
pub fn create(conn: &mut DbConn, actor: &Actor, input: NewPartner) -> Result<Created<Partner>, DomainError> {
    if actor.role == Role::Supervisor {
        return Err(DomainError::forbidden(ErrorCode::RoleNotAllowed, "supervisors do not create partners"));
    }
    let mut v = Validator::default();
    let name = v.check("name", crate::domain::common::text::name(&input.name, 100)).unwrap_or_default();
    let location = check_location(&mut v, input.location);
    let address = bounded_text(&mut v, "address", input.address.as_deref().unwrap_or(""), 200);
    let contact_name = optional_text(&mut v, "contact_name", input.contact_name.as_deref().unwrap_or(""), 50);
    let contact_phone = optional_phone(&mut v, input.contact_phone.as_deref().unwrap_or(""));
    let pain_points = text_list(&mut v, "pain_points", input.pain_points.as_deref().unwrap_or(&[]));
    let agreed_benefits = text_list(&mut v, "agreed_benefits", input.agreed_benefits.as_deref().unwrap_or(&[]));
    check_numbers(&mut v, input.audience_size, input.visit_cadence_days, input.geofence_m);
    v.finish()?;
    let digest = crate::domain::common::create::create_digest(&input);

    crate::domain::common::create::retry_on_race(|| {
        conn.write_tx(|conn| {
            let id = input.id.unwrap_or_else(Uuid::now_v7);
            if let Some(existing) = store::find(conn, &id.to_string())? {
                let existing = Partner::try_from(existing)?;
                let visible = existing.deleted_at.is_none() && actor.scope().contains(&existing.org_path);
                return if visible && existing.create_digest == digest {
                    Ok(Created::Existing(existing))
                } else {
                    Err(DomainError::conflict(ErrorCode::IdConflict, "another partner already has this id"))
                };
            }
            let (owner_id, unit) = placement(conn, actor, input.owner_id, input.org_unit_id, None)?;
            let now = now_utc();
            let territories = BranchTerritories::load(conn, &unit.branch_id.to_string())?;
            let seq = sync::next_seq(conn)?;
            let partner = Partner {
                id,
                branch_id: unit.branch_id.to_string(),
                org_unit_id: unit.id,
                org_path: unit.path.clone(),
                owner_id,
                name: name.clone(),
                category: input.category,
                status: input.status.unwrap_or(PartnerStatus::Prospect),
                location,
                address: address.clone(),
                contact_name: contact_name.clone(),
                contact_phone: contact_phone.clone(),
                audience_size: input.audience_size,
                audience_unit: input
                    .audience_unit
                    .or(input.audience_size.map(|_| input.category.default_audience_unit())),
                pain_points: pain_points.clone(),
                agreed_benefits: agreed_benefits.clone(),
                visit_cadence_days: input.visit_cadence_days.unwrap_or(input.category.default_cadence_days()),
                geofence_m: input.geofence_m.unwrap_or(DEFAULT_GEOFENCE_M),
                territory_unit_id: territories.unit_at(location),
                create_digest: digest.clone(),
                version: 1,
                created_at: now.and_utc(),
                updated_at: now.and_utc(),
                deleted_at: None,
                seq,
                created_seq: seq,
            };
            store::insert(conn, &partner.to_row())?;
            status_change(conn, &partner, None, actor, None, now)?;
            audit::record(conn, actor, "partner", partner.id, &partner.org_path, Action::Create, partner.audit_view())?;
            Ok(Created::New(partner))
        })
    })
}

/// Whether [`get`] answers this row to the caller: a live partner in their scope.
fn readable(actor: &Actor, row: &PartnerRow) -> bool {
    row.deleted_at.is_none() && actor.scope().contains(&row.org_path)
}

/// A live partner in the caller's scope.
pub fn get(conn: &mut DbConn, actor: &Actor, id: Uuid) -> Result<Partner, DomainError> {
    let row =
        store::find(conn, &id.to_string())?.filter(|r| readable(actor, r)).ok_or(DomainError::NotFound("partner"))?;
    Ok(Partner::try_from(row)?)
}

/// Of these partner ids, the ones [`get`] answers to the caller, in one query whatever their number.
pub fn readable_ids(conn: &mut DbConn, actor: &Actor, ids: &[String]) -> Result<HashSet<String>, StoreError> {
    Ok(store::find_many(conn, ids)?.into_iter().filter(|r| readable(actor, r)).map(|r| r.id).collect())
}

/// Beyond this many 0.01° bands (2° of latitude) the box is not a local search: the band list is
/// dropped rather than bound as a huge `IN (…)`, and the plain range filters do the work.
const MAX_BANDS: usize = 200;

pub fn box_filter(b: &BBox) -> BoxFilter {
    let bands = b.bands();
    let bands = if bands.len() > MAX_BANDS { Vec::new() } else { bands };
    BoxFilter { bands, min_lat: b.min.lat, max_lat: b.max.lat, min_lon: b.min.lon, max_lon: b.max.lon }
}

#[derive(Debug, Default, Clone)]
pub struct PartnerQuery {
    pub category: Option<PartnerCategory>,
    pub status: Option<PartnerStatus>,
    pub owner_id: Option<Uuid>,
    pub org_unit_id: Option<Uuid>,
    pub territory_unit_id: Option<Uuid>,
    pub q: Option<String>,
    pub bbox: Option<crate::geo::BBox>,
    pub updated_since: Option<DateTime<Utc>>,
}

pub fn list(
    conn: &mut DbConn,
    actor: &Actor,
    query: &PartnerQuery,
    page: &PageRequest,
) -> Result<Page<Partner>, DomainError> {
    let filter = PartnerFilter {
        path_prefix: actor.scope().path_prefix(),
        category: query.category.map(|c| c.as_str().to_owned()),
        status: query.status.map(|s| s.as_str().to_owned()),
        owner_id: query.owner_id.map(|u| u.to_string()),
        org_unit_id: query.org_unit_id.map(|u| u.to_string()),
        territory_unit_id: query.territory_unit_id.map(|u| u.to_string()),
        q: query.q.as_ref().map(|q| q.trim().to_owned()).filter(|q| !q.is_empty()),
        within: query.bbox.map(|b| box_filter(&b)),
        updated_since: query.updated_since.map(|t| t.naive_utc()),
    };
    Ok(store::list(conn, &filter, page)?.try_map(Partner::try_from)?)
}

pub fn update(conn: &mut DbConn, actor: &Actor, id: Uuid, patch: PartnerPatch) -> Result<Partner, DomainError> {
    conn.write_tx(|conn| {
        let current = get(conn, actor, id)?;
        may_write(actor, current.owner_id)?;
        if patch.version.is_some_and(|v| v != current.version) {
            return Err(DomainError::conflict(ErrorCode::VersionConflict, "the partner changed since you read it"));
        }
        let mut v = Validator::default();
        let mut next = current.clone();
        if let Some(name) = &patch.name {
            next.name = v.check("name", crate::domain::common::text::name(name, 100)).unwrap_or_default();
        }
        if let Some(category) = patch.category {
            next.category = category;
        }
        if let Some(location) = patch.location {
            next.location = check_location(&mut v, location);
        }
        if let Some(address) = &patch.address {
            next.address = bounded_text(&mut v, "address", address, 200);
        }
        if let Some(text) = &patch.contact_name {
            next.contact_name = optional_text(&mut v, "contact_name", text, 50);
        }
        if let Some(text) = &patch.contact_phone {
            next.contact_phone = optional_phone(&mut v, text);
        }
        if let Some(items) = &patch.pain_points {
            next.pain_points = text_list(&mut v, "pain_points", items);
        }
        if let Some(items) = &patch.agreed_benefits {
            next.agreed_benefits = text_list(&mut v, "agreed_benefits", items);
        }
        check_numbers(&mut v, patch.audience_size, patch.visit_cadence_days, patch.geofence_m);
        if patch.status_note.as_ref().is_some_and(|n| n.chars().count() > 500) {
            v.add("status_note", "must be at most 500 characters");
        }
        v.finish()?;
        next.audience_size = patch.audience_size.or(next.audience_size);
        next.audience_unit = patch.audience_unit.or(next.audience_unit);
        next.visit_cadence_days = patch.visit_cadence_days.unwrap_or(next.visit_cadence_days);
        next.geofence_m = patch.geofence_m.unwrap_or(next.geofence_m);
        if let Some(status) = patch.status.filter(|s| *s != current.status) {
            if !current.status.can_move_to(status) {
                let allowed: Vec<&str> = current.status.next().iter().map(|s| s.as_str()).collect();
                return Err(DomainError::conflict(
                    ErrorCode::InvalidTransition,
                    format!(
                        "a {} partner cannot become {}; allowed next: {}",
                        current.status.as_str(),
                        status.as_str(),
                        allowed.join(", ")
                    ),
                ));
            }
            next.status = status;
        }
        if patch.owner_id.is_some() || patch.org_unit_id.is_some() {
            let (owner_id, unit) = placement(
                conn,
                actor,
                patch.owner_id,
                patch.org_unit_id,
                Some((current.owner_id, current.org_unit_id)),
            )?;
            next.owner_id = owner_id;
            next.org_unit_id = unit.id;
            next.org_path = unit.path;
            // An admin may move a partner to another branch: it then belongs to that branch.
            next.branch_id = unit.branch_id.to_string();
        }
        if next == current {
            return Ok(current);
        }
        if next.location != current.location || next.branch_id != current.branch_id {
            next.territory_unit_id = BranchTerritories::load(conn, &next.branch_id)?.unit_at(next.location);
        }
        let now = now_utc();
        next.version = current.version + 1;
        next.updated_at = now.and_utc();
        next.seq = sync::next_seq(conn)?;
        if next.org_path != current.org_path {
            // Phones of the old subtree must drop it; the new subtree gets it as a change.
            sync::tombstone(conn, next.seq, "partners", id, &current.org_path, None)?;
        }
        if !store::replace(conn, &next.to_row(), current.version)? {
            return Err(DomainError::conflict(ErrorCode::VersionConflict, "the partner changed since you read it"));
        }
        if next.status != current.status {
            status_change(conn, &next, Some(current.status), actor, patch.status_note.clone(), now)?;
        }
        let changes = audit::diff(&current.audit_view(), &next.audit_view());
        audit::record(conn, actor, "partner", id, &next.org_path, Action::Update, changes)?;
        Ok(next)
    })
}

/// Soft delete: the row stays as a tombstone so offline phones learn of the deletion.
pub fn delete(conn: &mut DbConn, actor: &Actor, id: Uuid) -> Result<(), DomainError> {
    conn.write_tx(|conn| {
        let current = get(conn, actor, id)?;
        may_write(actor, current.owner_id)?;
        let now = now_utc();
        let mut gone = current.clone();
        gone.version += 1;
        gone.updated_at = now.and_utc();
        gone.deleted_at = Some(now.and_utc());
        gone.seq = sync::next_seq(conn)?;
        sync::tombstone(conn, gone.seq, "partners", id, &current.org_path, None)?;
        if !store::replace(conn, &gone.to_row(), current.version)? {
            return Err(DomainError::conflict(ErrorCode::VersionConflict, "the partner changed meanwhile"));
        }
        audit::record(conn, actor, "partner", id, &current.org_path, Action::Delete, serde_json::json!({}))?;
        Ok(())
    })
}

#[derive(Debug, Clone)]
pub struct StatusChange {
    pub id: Uuid,
    pub from_status: Option<PartnerStatus>,
    pub to_status: PartnerStatus,
    pub changed_by: Uuid,
    pub note: Option<String>,
    pub changed_at: DateTime<Utc>,
}

pub fn history(
    conn: &mut DbConn,
    actor: &Actor,
    id: Uuid,
    page: &PageRequest,
) -> Result<Page<StatusChange>, DomainError> {
    get(conn, actor, id)?;
    Ok(store::status_changes(conn, &id.to_string(), page)?.try_map(|r| -> Result<StatusChange, StoreError> {
        Ok(StatusChange {
            id: uuid_col(&r.id)?,
            from_status: r.from_status.as_deref().map(enum_col).transpose()?,
            to_status: enum_col(&r.to_status)?,
            changed_by: uuid_col(&r.changed_by)?,
            note: r.note,
            changed_at: r.changed_at.and_utc(),
        })
    })?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similar_names_are_recognised() {
        assert!(similarity("华润万家(江门店)", "华润万家 江门店") >= 0.99);
        assert!(similarity("华润万家", "华润万家江门店") >= 0.5);
        assert!(similarity("江门一中", "江门第一中学") >= 0.3);
        assert!(similarity("华润万家", "海鲜批发市场") < 0.5);
        assert_eq!(similarity("", "x"), 0.0);
    }
}
