use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::store::schema::{partner_status_changes, partners, users};
use crate::store::{DbConn, Page, PageRequest, StoreError};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = partners)]
pub struct PartnerRow {
    pub id: String,
    pub branch_id: String,
    pub org_unit_id: String,
    pub org_path: String,
    pub owner_id: String,
    pub name: String,
    pub category: String,
    pub status: String,
    pub lat: f64,
    pub lon: f64,
    pub lat_band: i64,
    pub address: String,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub audience_size: Option<i64>,
    pub audience_unit: Option<String>,
    pub pain_points: String,
    pub agreed_benefits: String,
    pub visit_cadence_days: i32,
    pub geofence_m: i32,
    pub territory_unit_id: Option<String>,
    pub create_digest: String,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
    /// Change number of the last write (see `store::sync`).
    pub seq: i64,
    pub created_seq: i64,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = partner_status_changes)]
pub struct StatusChangeRow {
    pub id: String,
    pub partner_id: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub changed_by: String,
    pub note: Option<String>,
    pub changed_at: NaiveDateTime,
}

/// A box on stored WGS-84 coordinates: the latitude bands it touches plus exact edges.
#[derive(Debug, Clone)]
pub struct BoxFilter {
    pub bands: Vec<i64>,
    pub min_lat: f64,
    pub max_lat: f64,
    pub min_lon: f64,
    pub max_lon: f64,
}

#[derive(Debug, Default, Clone)]
pub struct PartnerFilter {
    pub path_prefix: Option<String>,
    pub category: Option<String>,
    pub status: Option<String>,
    pub owner_id: Option<String>,
    pub org_unit_id: Option<String>,
    pub territory_unit_id: Option<String>,
    /// Matched as a substring of the name or the address.
    pub q: Option<String>,
    pub within: Option<BoxFilter>,
    pub updated_since: Option<NaiveDateTime>,
}

diesel::define_sql_function! {
    /// SQL `lower()`: the same case folding on both backends (SQLite's LIKE folds ASCII case,
    /// PostgreSQL's does not).
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

pub fn like_pattern(text: &str) -> String {
    let escaped = text.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

pub fn insert(conn: &mut DbConn, row: &PartnerRow) -> Result<(), StoreError> {
    on_backend!(conn, |c| diesel::insert_into(partners::table).values(row).execute(c))?;
    Ok(())
}

/// Many rows in one statement per chunk, for seeding and benchmarks.
pub fn insert_many(conn: &mut DbConn, rows: &[PartnerRow]) -> Result<(), StoreError> {
    // SQLite allows 32766 bound parameters; 26 columns × 500 rows stays well below.
    // Multi-row VALUES does not compile through the multi-backend, so each backend runs it natively.
    for chunk in rows.chunks(500) {
        on_backend!(conn, |c| diesel::insert_into(partners::table).values(chunk).execute(c))?;
    }
    Ok(())
}

/// A partner by id, including a deleted one (the caller decides what a tombstone means).
pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<PartnerRow>, StoreError> {
    Ok(partners::table.find(id).select(PartnerRow::as_select()).first(conn).optional()?)
}

pub fn list(conn: &mut DbConn, filter: &PartnerFilter, page: &PageRequest) -> Result<Page<PartnerRow>, StoreError> {
    let mut query = partners::table.select(PartnerRow::as_select()).filter(partners::deleted_at.is_null()).into_boxed();
    if let Some(prefix) = &filter.path_prefix {
        query = query.filter(partners::org_path.like(format!("{prefix}%")));
    }
    if let Some(v) = &filter.category {
        query = query.filter(partners::category.eq(v.clone()));
    }
    if let Some(v) = &filter.status {
        query = query.filter(partners::status.eq(v.clone()));
    }
    if let Some(v) = &filter.owner_id {
        query = query.filter(partners::owner_id.eq(v.clone()));
    }
    if let Some(v) = &filter.org_unit_id {
        query = query.filter(partners::org_unit_id.eq(v.clone()));
    }
    if let Some(v) = &filter.territory_unit_id {
        query = query.filter(partners::territory_unit_id.eq(v.clone()));
    }
    if let Some(q) = &filter.q {
        let pattern = like_pattern(q);
        query = query.filter(
            lower(partners::name)
                .like(pattern.clone())
                .escape('\\')
                .or(lower(partners::address).like(pattern).escape('\\')),
        );
    }
    if let Some(b) = &filter.within {
        if !b.bands.is_empty() {
            query = query.filter(partners::lat_band.eq_any(b.bands.clone()));
        }
        query = query
            .filter(partners::lon.between(b.min_lon, b.max_lon))
            .filter(partners::lat.between(b.min_lat, b.max_lat));
    }
    if let Some(since) = filter.updated_since {
        query = query.filter(partners::updated_at.ge(since));
    }
    if let Some(after) = &page.after {
        query = query.filter(partners::id.gt(after.clone()));
    }
    let rows = query.order(partners::id.asc()).limit(page.limit + 1).load(conn)?;
    Ok(page.page(rows, |r| &r.id))
}

/// Id and position of the live partners inside a box and a scope: the index-friendly prefilter
/// of a nearby search, kept narrow so thousands of candidates cost little.
pub fn positions_in_box(
    conn: &mut DbConn,
    path_prefix: Option<&str>,
    b: &BoxFilter,
) -> Result<Vec<(String, f64, f64)>, StoreError> {
    let mut query = partners::table
        .select((partners::id, partners::lat, partners::lon))
        .filter(partners::lon.between(b.min_lon, b.max_lon))
        .filter(partners::lat.between(b.min_lat, b.max_lat))
        .filter(partners::deleted_at.is_null())
        .into_boxed();
    if !b.bands.is_empty() {
        query = query.filter(partners::lat_band.eq_any(b.bands.clone()));
    }
    if let Some(prefix) = path_prefix {
        query = query.filter(partners::org_path.like(format!("{prefix}%")));
    }
    Ok(query.load(conn)?)
}

/// Full rows for a set of ids (any order).
pub fn find_many(conn: &mut DbConn, ids: &[String]) -> Result<Vec<PartnerRow>, StoreError> {
    Ok(partners::table.filter(partners::id.eq_any(ids)).select(PartnerRow::as_select()).load(conn)?)
}

/// Live partners inside a box and a scope, as (id, name, lat, lon).
pub fn named_in_box(
    conn: &mut DbConn,
    path_prefix: Option<&str>,
    b: &BoxFilter,
) -> Result<Vec<(String, String, f64, f64)>, StoreError> {
    let mut query = partners::table
        .select((partners::id, partners::name, partners::lat, partners::lon))
        .filter(partners::lon.between(b.min_lon, b.max_lon))
        .filter(partners::lat.between(b.min_lat, b.max_lat))
        .filter(partners::deleted_at.is_null())
        .into_boxed();
    if !b.bands.is_empty() {
        query = query.filter(partners::lat_band.eq_any(b.bands.clone()));
    }
    if let Some(prefix) = path_prefix {
        query = query.filter(partners::org_path.like(format!("{prefix}%")));
    }
    Ok(query.load(conn)?)
}

/// Writes a new state over the row if it is still at `expected_version`.
pub fn replace(conn: &mut DbConn, row: &PartnerRow, expected_version: i64) -> Result<bool, StoreError> {
    let n =
        diesel::update(partners::table.filter(partners::id.eq(&row.id)).filter(partners::version.eq(expected_version)))
            .set((
                partners::branch_id.eq(&row.branch_id),
                partners::org_unit_id.eq(&row.org_unit_id),
                partners::org_path.eq(&row.org_path),
                partners::owner_id.eq(&row.owner_id),
                partners::name.eq(&row.name),
                partners::category.eq(&row.category),
                partners::status.eq(&row.status),
                partners::lat.eq(row.lat),
                partners::lon.eq(row.lon),
                partners::lat_band.eq(row.lat_band),
                partners::address.eq(&row.address),
                partners::contact_name.eq(&row.contact_name),
                partners::contact_phone.eq(&row.contact_phone),
                partners::audience_size.eq(row.audience_size),
                partners::audience_unit.eq(&row.audience_unit),
                partners::pain_points.eq(&row.pain_points),
                partners::agreed_benefits.eq(&row.agreed_benefits),
                partners::visit_cadence_days.eq(row.visit_cadence_days),
                partners::geofence_m.eq(row.geofence_m),
                partners::territory_unit_id.eq(&row.territory_unit_id),
                partners::version.eq(row.version),
                partners::updated_at.eq(row.updated_at),
                partners::deleted_at.eq(row.deleted_at),
                partners::seq.eq(row.seq),
            ))
            .execute(conn)?;
    Ok(n == 1)
}

/// Id, latitude, longitude and territory unit of a partner.
pub type Position = (String, f64, f64, Option<String>);

/// Positions of a branch's live partners, for recomputing territories.
pub fn positions_in_branch(conn: &mut DbConn, branch_id: &str) -> Result<Vec<Position>, StoreError> {
    Ok(partners::table
        .filter(partners::branch_id.eq(branch_id))
        .filter(partners::deleted_at.is_null())
        .select((partners::id, partners::lat, partners::lon, partners::territory_unit_id))
        .load(conn)?)
}

/// Sets a partner's derived territory as a change of its own: a new version and change
/// number, so phones and `updated_since` readers see it and a concurrent edit cannot undo it.
pub fn set_territory(
    conn: &mut DbConn,
    id: &str,
    territory_unit_id: Option<&str>,
    seq: i64,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::update(partners::table.find(id))
        .set((
            partners::territory_unit_id.eq(territory_unit_id),
            partners::version.eq(partners::version + 1),
            partners::seq.eq(seq),
            partners::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Live partners in scope with the org path of their owner, for the territory report.
pub fn with_owner_paths(conn: &mut DbConn, path_prefix: Option<&str>) -> Result<Vec<(PartnerRow, String)>, StoreError> {
    let mut query = partners::table
        .inner_join(users::table)
        .select((PartnerRow::as_select(), users::org_path))
        .filter(partners::deleted_at.is_null())
        .into_boxed();
    if let Some(prefix) = path_prefix {
        query = query.filter(partners::org_path.like(format!("{prefix}%")));
    }
    Ok(query.order(partners::id.asc()).load(conn)?)
}

pub fn insert_status_change(conn: &mut DbConn, row: &StatusChangeRow) -> Result<(), StoreError> {
    on_backend!(conn, |c| diesel::insert_into(partner_status_changes::table).values(row).execute(c))?;
    Ok(())
}

pub fn status_changes(
    conn: &mut DbConn,
    partner_id: &str,
    page: &PageRequest,
) -> Result<Page<StatusChangeRow>, StoreError> {
    let mut query = partner_status_changes::table
        .select(StatusChangeRow::as_select())
        .filter(partner_status_changes::partner_id.eq(partner_id))
        .into_boxed();
    if let Some(after) = &page.after {
        query = query.filter(partner_status_changes::id.gt(after.clone()));
    }
    let rows = query.order(partner_status_changes::id.asc()).limit(page.limit + 1).load(conn)?;
    Ok(page.page(rows, |r| &r.id))
}

pub fn count(conn: &mut DbConn) -> Result<i64, StoreError> {
    Ok(partners::table.count().get_result(conn)?)
}

/// Live partners in a subtree changed after `after`, by change number.
pub fn changed_since(
    conn: &mut DbConn,
    path_prefix: Option<&str>,
    after: i64,
    upto: i64,
    limit: i64,
) -> Result<Vec<PartnerRow>, StoreError> {
    let mut query = partners::table
        .select(PartnerRow::as_select())
        .filter(partners::seq.gt(after))
        .filter(partners::seq.le(upto))
        .filter(partners::deleted_at.is_null())
        .into_boxed();
    if let Some(prefix) = path_prefix {
        query = query.filter(partners::org_path.like(format!("{prefix}%")));
    }
    // A whole first sync reads the subtree through `(org_path, seq)`; a page or an increment,
    // the few newest changes through `seq`.
    let query = if after < 0 && limit == i64::MAX {
        query.order((partners::org_path.asc(), partners::seq.asc()))
    } else {
        query.order(partners::seq.asc())
    };
    Ok(query.limit(limit).load(conn)?)
}

/// Moves a partner's creation back in time (the demo's history), as a change the map sees.
pub fn backdate(conn: &mut DbConn, id: &str, created_at: chrono::NaiveDateTime, seq: i64) -> Result<(), StoreError> {
    diesel::update(partners::table.find(id))
        .set((partners::created_at.eq(created_at), partners::seq.eq(seq)))
        .execute(conn)?;
    Ok(())
}
