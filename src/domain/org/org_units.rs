//! The org tree: branch → sub-branch → outlet. Every business row hangs off one of these units,
//! and a caller sees the subtree under their own unit.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::common::create::Created;
use crate::domain::common::error::Validator;
use crate::domain::{Actor, DomainError, ErrorCode, Role};
use crate::geo::{LatLon, Territory};
use crate::store::org::org_units::{self as store, OrgUnitFilter, OrgUnitRow};
use crate::store::{DbConn, Page, PageRequest, StoreError, enum_col, now_utc, uuid_col};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrgUnitKind {
    Branch,
    SubBranch,
    Outlet,
}

impl OrgUnitKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OrgUnitKind::Branch => "branch",
            OrgUnitKind::SubBranch => "sub_branch",
            OrgUnitKind::Outlet => "outlet",
        }
    }

    /// The kind a unit of this kind must hang under (`None`: it is a root).
    pub fn parent_kind(self) -> Option<OrgUnitKind> {
        match self {
            OrgUnitKind::Branch => None,
            OrgUnitKind::SubBranch => Some(OrgUnitKind::Branch),
            OrgUnitKind::Outlet => Some(OrgUnitKind::SubBranch),
        }
    }

    /// Who may open a unit of this kind (inside their own subtree).
    fn may_be_created_by(self, role: Role) -> bool {
        match self {
            OrgUnitKind::Branch => role == Role::Admin,
            OrgUnitKind::SubBranch => matches!(role, Role::Admin | Role::BranchManager),
            OrgUnitKind::Outlet => matches!(role, Role::Admin | Role::BranchManager | Role::SubBranchManager),
        }
    }
}

impl std::str::FromStr for OrgUnitKind {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        [OrgUnitKind::Branch, OrgUnitKind::SubBranch, OrgUnitKind::Outlet]
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or(())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct OrgUnit {
    pub id: Uuid,
    pub parent_id: Option<Uuid>,
    pub branch_id: Uuid,
    pub path: String,
    pub kind: OrgUnitKind,
    pub name: String,
    pub territory: Option<Territory>,
    /// Where the unit is (an outlet's door), WGS-84.
    pub location: Option<LatLon>,
    /// The organiser's address and phone on the public pages of the unit's events.
    pub address: String,
    pub contact_phone: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<OrgUnitRow> for OrgUnit {
    type Error = StoreError;
    fn try_from(row: OrgUnitRow) -> Result<Self, StoreError> {
        let territory = row
            .territory
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("territory of {}: {e}", row.id)))?;
        Ok(OrgUnit {
            id: uuid_col(&row.id)?,
            parent_id: row.parent_id.as_deref().map(uuid_col).transpose()?,
            branch_id: uuid_col(&row.branch_id)?,
            path: row.path,
            kind: enum_col(&row.kind)?,
            name: row.name,
            territory,
            location: row.lat.zip(row.lon).map(|(lat, lon)| LatLon { lat, lon }),
            address: row.address,
            contact_phone: row.contact_phone,
            version: row.version,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        })
    }
}

#[derive(Debug, Clone)]
pub struct NewOrgUnit {
    /// A client-made id makes the create idempotent.
    pub id: Option<Uuid>,
    pub name: String,
    pub kind: OrgUnitKind,
    pub parent_id: Option<Uuid>,
    pub territory: Option<Territory>,
    pub location: Option<LatLon>,
    pub address: String,
    pub contact_phone: String,
}

pub fn create(conn: &mut DbConn, actor: &Actor, input: NewOrgUnit) -> Result<Created<OrgUnit>, DomainError> {
    if !input.kind.may_be_created_by(actor.role) {
        return Err(DomainError::forbidden(
            ErrorCode::RoleNotAllowed,
            format!("a {} cannot create a {}", actor.role.as_str(), input.kind.as_str()),
        ));
    }
    let mut v = Validator::default();
    let name = v.check("name", crate::domain::common::text::name(&input.name, 100));
    let address = crate::domain::common::text::bounded_text(&mut v, "address", &input.address, 200);
    let contact_phone = v.check("contact_phone", crate::domain::common::text::contact_phone(&input.contact_phone));
    if let Some(territory) = &input.territory {
        v.check("territory", territory.validate());
    }
    if let Some(location) = input.location {
        v.check("location", location.validated());
    }
    match (input.kind.parent_kind(), input.parent_id) {
        (None, Some(_)) => v.add("parent_id", "a branch is a root and has no parent"),
        (Some(kind), None) => v.add("parent_id", format!("a {} needs a parent {}", input.kind.as_str(), kind.as_str())),
        _ => {}
    }
    v.finish()?;
    let name = name.unwrap_or_default();
    let territory_json = input
        .territory
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;

    conn.write_tx(|conn| {
        let id = input.id.unwrap_or_else(Uuid::now_v7);
        if let Some(existing) = store::find(conn, &id.to_string())? {
            let existing = OrgUnit::try_from(existing)?;
            let same = existing.name == name
                && existing.kind == input.kind
                && existing.parent_id == input.parent_id
                && existing.territory == input.territory;
            return if same && actor.scope().contains(&existing.path) {
                Ok(Created::Existing(existing))
            } else {
                Err(DomainError::conflict(ErrorCode::IdConflict, "another org unit already has this id"))
            };
        }
        let (path, branch_id) = match input.parent_id {
            None => (format!("/{id}/"), id.to_string()),
            Some(parent_id) => {
                let parent = store::find(conn, &parent_id.to_string())?
                    .filter(|p| actor.scope().contains(&p.path))
                    .ok_or(DomainError::NotFound("parent org unit"))?;
                let expected = input.kind.parent_kind().map(OrgUnitKind::as_str);
                if Some(parent.kind.as_str()) != expected {
                    return Err(DomainError::invalid(
                        "parent_id",
                        format!("a {} must hang under a {}", input.kind.as_str(), expected.unwrap_or("nothing")),
                    ));
                }
                (format!("{}{id}/", parent.path), parent.branch_id)
            }
        };
        let now = now_utc();
        let row = OrgUnitRow {
            id: id.to_string(),
            parent_id: input.parent_id.map(|p| p.to_string()),
            branch_id,
            path,
            kind: input.kind.as_str().to_owned(),
            name: name.clone(),
            territory: territory_json.clone(),
            version: 1,
            created_at: now,
            updated_at: now,
            lat: input.location.map(|l| l.lat),
            lon: input.location.map(|l| l.lon),
            address: address.clone(),
            contact_phone: contact_phone.clone().unwrap_or_default(),
        };
        store::insert(conn, &row)?;
        let unit = OrgUnit::try_from(row)?;
        if unit.territory.is_some() {
            // Partners already inside the new unit's territory now belong to it.
            refresh_partner_territories(conn, &unit.branch_id.to_string())?;
        }
        let view = serde_json::json!({"name": unit.name, "kind": unit.kind, "parent_id": unit.parent_id, "territory": unit.territory});
        crate::domain::org::audit::record(conn, actor, "org_unit", unit.id, &unit.path, crate::domain::org::audit::Action::Create, view)?;
        Ok(Created::New(unit))
    })
}

/// A unit in the caller's scope; anything else is "not found".
pub fn get(conn: &mut DbConn, actor: &Actor, id: Uuid) -> Result<OrgUnit, DomainError> {
    let row = store::find(conn, &id.to_string())?
        .filter(|row| actor.scope().contains(&row.path))
        .ok_or(DomainError::NotFound("org unit"))?;
    Ok(OrgUnit::try_from(row)?)
}

#[derive(Debug, Default, Clone)]
pub struct OrgUnitQuery {
    pub kind: Option<OrgUnitKind>,
    pub parent_id: Option<Uuid>,
}

pub fn list(
    conn: &mut DbConn,
    actor: &Actor,
    query: &OrgUnitQuery,
    page: &PageRequest,
) -> Result<Page<OrgUnit>, DomainError> {
    let filter = OrgUnitFilter {
        path_prefix: actor.scope().path_prefix(),
        kind: query.kind.map(|k| k.as_str().to_owned()),
        parent_id: query.parent_id.map(|p| p.to_string()),
    };
    Ok(store::list(conn, &filter, page)?.try_map(OrgUnit::try_from)?)
}

#[derive(Debug, Clone, Default)]
pub struct OrgUnitPatch {
    pub name: Option<String>,
    /// `Some(None)` removes the territory.
    pub territory: Option<Option<Territory>>,
    /// `Some(None)` removes the location.
    pub location: Option<Option<LatLon>>,
    pub address: Option<String>,
    pub contact_phone: Option<String>,
    pub version: Option<i64>,
}

/// Renames a unit or redraws its territory; a new territory re-derives the territory of every
/// partner of the branch in the same transaction.
pub fn update(conn: &mut DbConn, actor: &Actor, id: Uuid, patch: OrgUnitPatch) -> Result<OrgUnit, DomainError> {
    let mut v = Validator::default();
    let name = patch.name.as_deref().and_then(|n| v.check("name", crate::domain::common::text::name(n, 100)));
    let address =
        patch.address.as_deref().map(|a| crate::domain::common::text::bounded_text(&mut v, "address", a, 200));
    let contact_phone = patch
        .contact_phone
        .as_deref()
        .and_then(|p| v.check("contact_phone", crate::domain::common::text::contact_phone(p)));
    if let Some(Some(territory)) = &patch.territory {
        v.check("territory", territory.validate());
    }
    if let Some(Some(location)) = patch.location {
        v.check("location", location.validated());
    }
    v.finish()?;
    conn.write_tx(|conn| {
        let current = get(conn, actor, id)?;
        if !current.kind.may_be_created_by(actor.role) {
            return Err(DomainError::forbidden(
                ErrorCode::RoleNotAllowed,
                format!("a {} cannot edit a {}", actor.role.as_str(), current.kind.as_str()),
            ));
        }
        if patch.version.is_some_and(|v| v != current.version) {
            return Err(DomainError::conflict(ErrorCode::VersionConflict, "the org unit changed since you read it"));
        }
        let mut next = current.clone();
        if let Some(name) = name {
            next.name = name;
        }
        if let Some(territory) = patch.territory.clone() {
            next.territory = territory;
        }
        if let Some(location) = patch.location {
            next.location = location;
        }
        if let Some(address) = address {
            next.address = address;
        }
        if let Some(contact_phone) = contact_phone {
            next.contact_phone = contact_phone;
        }
        if next == current {
            return Ok(current);
        }
        let territory_json = next
            .territory
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let now = now_utc();
        let location = next.location.map(|l| (l.lat, l.lon));
        let fields = store::UnitFields {
            name: &next.name,
            territory: territory_json.as_deref(),
            location,
            address: &next.address,
            contact_phone: &next.contact_phone,
        };
        if !store::update(conn, &id.to_string(), current.version, &fields, now)? {
            return Err(DomainError::conflict(ErrorCode::VersionConflict, "the org unit changed since you read it"));
        }
        if next.territory != current.territory {
            refresh_partner_territories(conn, &current.branch_id.to_string())?;
        }
        let changes = serde_json::json!({
            "name": {"from": current.name, "to": next.name},
            "territory_changed": next.territory != current.territory,
            "location_changed": next.location != current.location,
            "contact_changed": (&next.address, &next.contact_phone) != (&current.address, &current.contact_phone),
        });
        crate::domain::org::audit::record(
            conn,
            actor,
            "org_unit",
            id,
            &current.path,
            crate::domain::org::audit::Action::Update,
            changes,
        )?;
        get(conn, actor, id)
    })
}

/// Re-derives which territory each live partner of a branch lies in.
pub fn refresh_partner_territories(conn: &mut DbConn, branch_id: &str) -> Result<usize, StoreError> {
    let territories = crate::domain::org::territories::BranchTerritories::load(conn, branch_id)?;
    let mut changed = 0;
    for (id, lat, lon, old) in crate::store::field::partners::positions_in_branch(conn, branch_id)? {
        let new = territories.unit_at(crate::geo::LatLon { lat, lon }).map(|u| u.to_string());
        if new != old {
            let seq = crate::store::sync::next_seq(conn)?;
            crate::store::field::partners::set_territory(conn, &id, new.as_deref(), seq, now_utc())?;
            changed += 1;
        }
    }
    Ok(changed)
}
