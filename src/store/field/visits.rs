use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::store::field::partners::BoxFilter;
use crate::store::schema::visits;
use crate::store::{DbConn, Page, PageRequest, StoreError};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = visits)]
pub struct VisitRow {
    pub id: String,
    pub branch_id: String,
    pub org_unit_id: String,
    pub org_path: String,
    pub user_id: String,
    pub partner_id: Option<String>,
    pub visited_at: NaiveDateTime,
    pub lat: f64,
    pub lon: f64,
    pub lat_band: i64,
    pub accuracy_m: f64,
    pub purpose: String,
    pub notes: String,
    pub outcome: Option<String>,
    pub next_step: Option<String>,
    pub next_visit_at: Option<NaiveDateTime>,
    pub mock_location: Option<bool>,
    pub location_age_s: Option<f64>,
    pub verified: bool,
    pub distance_m: Option<f64>,
    pub reasons: String,
    pub create_digest: String,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
    pub seq: i64,
    pub created_seq: i64,
    pub project_id: Option<String>,
}

#[derive(Debug, Default, Clone)]
pub struct VisitFilter {
    pub path_prefix: Option<String>,
    /// Account managers see their own visits only.
    pub user_id: Option<String>,
    pub partner_id: Option<String>,
    pub org_unit_id: Option<String>,
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
    pub verified: Option<bool>,
    pub within: Option<BoxFilter>,
}

pub fn insert(conn: &mut DbConn, row: &VisitRow) -> Result<(), StoreError> {
    on_backend!(conn, |c| diesel::insert_into(visits::table).values(row).execute(c))?;
    Ok(())
}

pub fn insert_many(conn: &mut DbConn, rows: &[VisitRow]) -> Result<(), StoreError> {
    for chunk in rows.chunks(500) {
        on_backend!(conn, |c| diesel::insert_into(visits::table).values(chunk).execute(c))?;
    }
    Ok(())
}

/// Sets when a visit was received: for generated history only (the demo's visits are made today
/// for days long past, as if each had been received when it happened).
pub fn backdate_receipt(conn: &mut DbConn, id: &str, at: NaiveDateTime) -> Result<(), StoreError> {
    diesel::update(visits::table.find(id)).set((visits::created_at.eq(at), visits::updated_at.eq(at))).execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<VisitRow>, StoreError> {
    Ok(visits::table.find(id).select(VisitRow::as_select()).first(conn).optional()?)
}

pub fn list(conn: &mut DbConn, filter: &VisitFilter, page: &PageRequest) -> Result<Page<VisitRow>, StoreError> {
    let mut query = visits::table.select(VisitRow::as_select()).filter(visits::deleted_at.is_null()).into_boxed();
    if let Some(prefix) = &filter.path_prefix {
        query = query.filter(visits::org_path.like(format!("{prefix}%")));
    }
    if let Some(v) = &filter.user_id {
        query = query.filter(visits::user_id.eq(v.clone()));
    }
    if let Some(v) = &filter.partner_id {
        query = query.filter(visits::partner_id.eq(v.clone()));
    }
    if let Some(v) = &filter.org_unit_id {
        query = query.filter(visits::org_unit_id.eq(v.clone()));
    }
    if let Some(from) = filter.from {
        query = query.filter(visits::visited_at.ge(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(visits::visited_at.lt(to));
    }
    if let Some(v) = filter.verified {
        query = query.filter(visits::verified.eq(v));
    }
    if let Some(b) = &filter.within {
        if !b.bands.is_empty() {
            query = query.filter(visits::lat_band.eq_any(b.bands.clone()));
        }
        query =
            query.filter(visits::lon.between(b.min_lon, b.max_lon)).filter(visits::lat.between(b.min_lat, b.max_lat));
    }
    if let Some(after) = &page.after {
        query = query.filter(visits::id.gt(after.clone()));
    }
    let rows = query.order(visits::id.asc()).limit(page.limit + 1).load(conn)?;
    Ok(page.page(rows, |r| &r.id))
}

/// The user's live visit closest in time to `at` (other than `except`): position and time.
pub fn nearest_in_time(
    conn: &mut DbConn,
    user_id: &str,
    at: NaiveDateTime,
    except: &str,
) -> Result<Option<(f64, f64, NaiveDateTime)>, StoreError> {
    let base = || {
        visits::table
            .filter(visits::user_id.eq(user_id.to_owned()))
            .filter(visits::id.ne(except.to_owned()))
            .filter(visits::deleted_at.is_null())
            .select((visits::lat, visits::lon, visits::visited_at))
    };
    let before: Option<(f64, f64, NaiveDateTime)> =
        base().filter(visits::visited_at.le(at)).order(visits::visited_at.desc()).first(conn).optional()?;
    let after: Option<(f64, f64, NaiveDateTime)> =
        base().filter(visits::visited_at.gt(at)).order(visits::visited_at.asc()).first(conn).optional()?;
    Ok(match (before, after) {
        (Some(b), Some(a)) => Some(if (at - b.2) <= (a.2 - at) { b } else { a }),
        (b, a) => b.or(a),
    })
}

/// Writes a new state over the row if it is still at `expected_version`.
pub fn replace(conn: &mut DbConn, row: &VisitRow, expected_version: i64) -> Result<bool, StoreError> {
    let n = diesel::update(visits::table.filter(visits::id.eq(&row.id)).filter(visits::version.eq(expected_version)))
        .set((
            visits::purpose.eq(&row.purpose),
            visits::notes.eq(&row.notes),
            visits::outcome.eq(&row.outcome),
            visits::next_step.eq(&row.next_step),
            visits::next_visit_at.eq(row.next_visit_at),
            visits::verified.eq(row.verified),
            visits::distance_m.eq(row.distance_m),
            visits::reasons.eq(&row.reasons),
            visits::version.eq(row.version),
            visits::updated_at.eq(row.updated_at),
            visits::deleted_at.eq(row.deleted_at),
            visits::seq.eq(row.seq),
            visits::project_id.eq(&row.project_id),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Live visits in a subtree changed after `after`, by change number.
pub fn changed_since(
    conn: &mut DbConn,
    path_prefix: Option<&str>,
    user_id: Option<&str>,
    after: i64,
    upto: i64,
    limit: i64,
) -> Result<Vec<VisitRow>, StoreError> {
    let mut query = visits::table
        .select(VisitRow::as_select())
        .filter(visits::seq.gt(after))
        .filter(visits::seq.le(upto))
        .filter(visits::deleted_at.is_null())
        .into_boxed();
    if let Some(prefix) = path_prefix {
        query = query.filter(visits::org_path.like(format!("{prefix}%")));
    }
    if let Some(user) = user_id {
        query = query.filter(visits::user_id.eq(user.to_owned()));
    }
    // A manager's whole first sync reads the subtree through `(org_path, seq)`; an account
    // manager's, a page or an increment, through `(user_id, seq)` or `seq`.
    let query = if after < 0 && limit == i64::MAX && user_id.is_none() {
        query.order((visits::org_path.asc(), visits::seq.asc()))
    } else {
        query.order(visits::seq.asc())
    };
    Ok(query.limit(limit).load(conn)?)
}
