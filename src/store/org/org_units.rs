use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::store::schema::org_units;
use crate::store::{DbConn, Page, PageRequest, StoreError};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = org_units)]
pub struct OrgUnitRow {
    pub id: String,
    pub parent_id: Option<String>,
    pub branch_id: String,
    pub path: String,
    pub kind: String,
    pub name: String,
    pub territory: Option<String>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Where the unit is (WGS-84); outlets have one, to verify supervisions against.
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// What the public pages of the unit's events name as the organiser's address and phone.
    pub address: String,
    pub contact_phone: String,
}

/// What an edit of a unit writes.
pub struct UnitFields<'a> {
    pub name: &'a str,
    pub territory: Option<&'a str>,
    pub location: Option<(f64, f64)>,
    pub address: &'a str,
    pub contact_phone: &'a str,
}

#[derive(Debug, Default, Clone)]
pub struct OrgUnitFilter {
    /// Only units whose path starts with this (the caller's subtree); `None` means every unit.
    pub path_prefix: Option<String>,
    pub kind: Option<String>,
    pub parent_id: Option<String>,
}

// Every write takes a change number for the phones' directory (call these inside the write's
// transaction, like `sync::next_seq`).

pub fn insert(conn: &mut DbConn, row: &OrgUnitRow) -> Result<(), StoreError> {
    let seq = crate::store::sync::next_seq(conn)?;
    on_backend!(conn, |c| diesel::insert_into(org_units::table).values((row, org_units::seq.eq(seq))).execute(c))?;
    Ok(())
}

/// Units whose path starts with `path_prefix`, changed in `(after, upto]`.
pub fn changed_since(
    conn: &mut DbConn,
    path_prefix: Option<&str>,
    after: i64,
    upto: i64,
) -> Result<Vec<OrgUnitRow>, StoreError> {
    let mut query = org_units::table
        .select(OrgUnitRow::as_select())
        .filter(org_units::seq.gt(after))
        .filter(org_units::seq.le(upto))
        .into_boxed();
    if let Some(prefix) = path_prefix {
        query = query.filter(org_units::path.like(format!("{prefix}%")));
    }
    Ok(query.order(org_units::seq.asc()).load(conn)?)
}

pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<OrgUnitRow>, StoreError> {
    Ok(org_units::table.find(id).select(OrgUnitRow::as_select()).first(conn).optional()?)
}

/// Names of these units, in one query (absent ids are left out).
pub fn names(conn: &mut DbConn, ids: &[String]) -> Result<Vec<(String, String)>, StoreError> {
    Ok(org_units::table.filter(org_units::id.eq_any(ids)).select((org_units::id, org_units::name)).load(conn)?)
}

pub fn list(conn: &mut DbConn, filter: &OrgUnitFilter, page: &PageRequest) -> Result<Page<OrgUnitRow>, StoreError> {
    let mut query = org_units::table.select(OrgUnitRow::as_select()).into_boxed();
    if let Some(prefix) = &filter.path_prefix {
        query = query.filter(org_units::path.like(format!("{prefix}%")));
    }
    if let Some(kind) = &filter.kind {
        query = query.filter(org_units::kind.eq(kind.clone()));
    }
    if let Some(parent) = &filter.parent_id {
        query = query.filter(org_units::parent_id.eq(parent.clone()));
    }
    if let Some(after) = &page.after {
        query = query.filter(org_units::id.gt(after.clone()));
    }
    let rows = query.order(org_units::id.asc()).limit(page.limit + 1).load(conn)?;
    Ok(page.page(rows, |r| &r.id))
}

pub fn count(conn: &mut DbConn) -> Result<i64, StoreError> {
    Ok(org_units::table.count().get_result(conn)?)
}

/// The units of a branch that carry a territory.
pub fn with_territory_in_branch(conn: &mut DbConn, branch_id: &str) -> Result<Vec<OrgUnitRow>, StoreError> {
    Ok(org_units::table
        .filter(org_units::branch_id.eq(branch_id))
        .filter(org_units::territory.is_not_null())
        .select(OrgUnitRow::as_select())
        .load(conn)?)
}

/// Sets name and territory if the row is still at `expected_version`.
pub fn update(
    conn: &mut DbConn,
    id: &str,
    expected_version: i64,
    fields: &UnitFields<'_>,
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    let UnitFields { name, territory, location, address, contact_phone } = *fields;
    let seq = crate::store::sync::next_seq(conn)?;
    let n =
        diesel::update(org_units::table.filter(org_units::id.eq(id)).filter(org_units::version.eq(expected_version)))
            .set((
                org_units::name.eq(name),
                org_units::territory.eq(territory),
                org_units::lat.eq(location.map(|l| l.0)),
                org_units::lon.eq(location.map(|l| l.1)),
                org_units::address.eq(address),
                org_units::contact_phone.eq(contact_phone),
                org_units::version.eq(expected_version + 1),
                org_units::updated_at.eq(now),
                org_units::seq.eq(seq),
            ))
            .execute(conn)?;
    Ok(n == 1)
}

/// The units right under `parent` (the top-level branches for `None`), by name.
pub fn children(conn: &mut DbConn, parent: Option<&str>) -> Result<Vec<OrgUnitRow>, StoreError> {
    let query = org_units::table.select(OrgUnitRow::as_select()).into_boxed();
    let query = match parent {
        Some(p) => query.filter(org_units::parent_id.eq(p.to_owned())),
        None => query.filter(org_units::parent_id.is_null()),
    };
    Ok(query.order((org_units::name.asc(), org_units::id.asc())).load(conn)?)
}
