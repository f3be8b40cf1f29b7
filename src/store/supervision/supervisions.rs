//! Supervision visits to outlets and the findings they leave, both in the sync feed.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::store::schema::{supervision_findings as findings, supervisions};
use crate::store::{DbConn, Page, PageRequest, StoreError};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = supervisions)]
pub struct SupervisionRow {
    pub id: String,
    pub branch_id: String,
    pub org_unit_id: String,
    pub org_path: String,
    pub supervisor_id: String,
    pub project_id: Option<String>,
    pub visited_at: NaiveDateTime,
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: f64,
    pub mock_location: Option<bool>,
    pub location_age_s: Option<f64>,
    pub verified: bool,
    pub distance_m: Option<f64>,
    pub reasons: String,
    pub checklist: String,
    pub review_worked: String,
    pub review_change: String,
    pub create_digest: String,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
    pub seq: i64,
    pub created_seq: i64,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = findings)]
pub struct FindingRow {
    pub id: String,
    pub supervision_id: String,
    pub branch_id: String,
    pub org_unit_id: String,
    pub org_path: String,
    pub owner_id: String,
    pub title: String,
    pub detail: String,
    pub due_on: NaiveDate,
    pub status: String,
    pub done_at: Option<NaiveDateTime>,
    pub done_by: Option<String>,
    pub done_note: Option<String>,
    pub created_by: String,
    pub create_digest: String,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
    pub seq: i64,
    pub created_seq: i64,
}

#[derive(Debug, Default, Clone)]
pub struct SupervisionFilter {
    pub path_prefix: Option<String>,
    pub org_unit_id: Option<String>,
    pub supervisor_id: Option<String>,
    pub project_id: Option<String>,
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
}

#[derive(Debug, Default, Clone)]
pub struct FindingFilter {
    pub path_prefix: Option<String>,
    pub supervision_id: Option<String>,
    pub owner_id: Option<String>,
    pub org_unit_id: Option<String>,
    pub status: Option<String>,
    /// Open and due before this day.
    pub overdue_on: Option<NaiveDate>,
}

pub fn insert(conn: &mut DbConn, row: &SupervisionRow) -> Result<(), StoreError> {
    on_backend!(conn, |c| diesel::insert_into(supervisions::table).values(row).execute(c))?;
    Ok(())
}

/// Sets when a supervision was received: for generated history only (the demo's, made today
/// for days long past, as if each had been received when it happened).
pub fn backdate_receipt(conn: &mut DbConn, id: &str, at: chrono::NaiveDateTime) -> Result<(), StoreError> {
    diesel::update(supervisions::table.find(id))
        .set((supervisions::created_at.eq(at), supervisions::updated_at.eq(at)))
        .execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<SupervisionRow>, StoreError> {
    Ok(supervisions::table.find(id).select(SupervisionRow::as_select()).first(conn).optional()?)
}

/// Writes every changeable column if the row still has `expected_version`.
pub fn replace(conn: &mut DbConn, row: &SupervisionRow, expected_version: i64) -> Result<bool, StoreError> {
    let n = diesel::update(
        supervisions::table.filter(supervisions::id.eq(&row.id)).filter(supervisions::version.eq(expected_version)),
    )
    .set((
        supervisions::project_id.eq(&row.project_id),
        supervisions::verified.eq(row.verified),
        supervisions::distance_m.eq(row.distance_m),
        supervisions::reasons.eq(&row.reasons),
        supervisions::checklist.eq(&row.checklist),
        supervisions::review_worked.eq(&row.review_worked),
        supervisions::review_change.eq(&row.review_change),
        supervisions::version.eq(row.version),
        supervisions::updated_at.eq(row.updated_at),
        supervisions::deleted_at.eq(row.deleted_at),
        supervisions::seq.eq(row.seq),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn list(
    conn: &mut DbConn,
    filter: &SupervisionFilter,
    page: &PageRequest,
) -> Result<Page<SupervisionRow>, StoreError> {
    let mut query =
        supervisions::table.select(SupervisionRow::as_select()).filter(supervisions::deleted_at.is_null()).into_boxed();
    if let Some(prefix) = &filter.path_prefix {
        query = query.filter(supervisions::org_path.like(format!("{prefix}%")));
    }
    if let Some(v) = &filter.org_unit_id {
        query = query.filter(supervisions::org_unit_id.eq(v.clone()));
    }
    if let Some(v) = &filter.supervisor_id {
        query = query.filter(supervisions::supervisor_id.eq(v.clone()));
    }
    if let Some(v) = &filter.project_id {
        query = query.filter(supervisions::project_id.eq(v.clone()));
    }
    if let Some(from) = filter.from {
        query = query.filter(supervisions::visited_at.ge(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(supervisions::visited_at.lt(to));
    }
    if let Some(after) = &page.after {
        query = query.filter(supervisions::id.gt(after.clone()));
    }
    let rows = query.order(supervisions::id.asc()).limit(page.limit + 1).load(conn)?;
    Ok(page.page(rows, |r| &r.id))
}

/// Live supervisions in a subtree changed after `after` up to `upto`, by change number.
pub fn changed_since(
    conn: &mut DbConn,
    path_prefix: Option<&str>,
    after: i64,
    upto: i64,
    limit: i64,
) -> Result<Vec<SupervisionRow>, StoreError> {
    let mut query = supervisions::table
        .select(SupervisionRow::as_select())
        .filter(supervisions::seq.gt(after))
        .filter(supervisions::seq.le(upto))
        .filter(supervisions::deleted_at.is_null())
        .into_boxed();
    if let Some(prefix) = path_prefix {
        query = query.filter(supervisions::org_path.like(format!("{prefix}%")));
    }
    Ok(query.order(supervisions::seq.asc()).limit(limit).load(conn)?)
}

pub fn insert_finding(conn: &mut DbConn, row: &FindingRow) -> Result<(), StoreError> {
    on_backend!(conn, |c| diesel::insert_into(findings::table).values(row).execute(c))?;
    Ok(())
}

pub fn find_finding(conn: &mut DbConn, id: &str) -> Result<Option<FindingRow>, StoreError> {
    Ok(findings::table.find(id).select(FindingRow::as_select()).first(conn).optional()?)
}

/// Full rows of findings by id (any order), deleted ones too.
pub fn find_findings(conn: &mut DbConn, ids: &[String]) -> Result<Vec<FindingRow>, StoreError> {
    Ok(findings::table.filter(findings::id.eq_any(ids)).select(FindingRow::as_select()).load(conn)?)
}

pub fn replace_finding(conn: &mut DbConn, row: &FindingRow, expected_version: i64) -> Result<bool, StoreError> {
    let n =
        diesel::update(findings::table.filter(findings::id.eq(&row.id)).filter(findings::version.eq(expected_version)))
            .set((
                findings::owner_id.eq(&row.owner_id),
                findings::title.eq(&row.title),
                findings::detail.eq(&row.detail),
                findings::due_on.eq(row.due_on),
                findings::status.eq(&row.status),
                findings::done_at.eq(row.done_at),
                findings::done_by.eq(&row.done_by),
                findings::done_note.eq(&row.done_note),
                findings::version.eq(row.version),
                findings::updated_at.eq(row.updated_at),
                findings::deleted_at.eq(row.deleted_at),
                findings::seq.eq(row.seq),
            ))
            .execute(conn)?;
    Ok(n == 1)
}

/// A supervision's live findings, by due date.
pub fn findings_of(conn: &mut DbConn, supervision_id: &str) -> Result<Vec<FindingRow>, StoreError> {
    Ok(findings::table
        .filter(findings::supervision_id.eq(supervision_id))
        .filter(findings::deleted_at.is_null())
        .order((findings::due_on.asc(), findings::id.asc()))
        .select(FindingRow::as_select())
        .load(conn)?)
}

pub fn list_findings(
    conn: &mut DbConn,
    filter: &FindingFilter,
    page: &PageRequest,
) -> Result<Page<FindingRow>, StoreError> {
    let mut query = findings::table.select(FindingRow::as_select()).filter(findings::deleted_at.is_null()).into_boxed();
    if let Some(prefix) = &filter.path_prefix {
        query = query.filter(findings::org_path.like(format!("{prefix}%")));
    }
    if let Some(v) = &filter.supervision_id {
        query = query.filter(findings::supervision_id.eq(v.clone()));
    }
    if let Some(v) = &filter.owner_id {
        query = query.filter(findings::owner_id.eq(v.clone()));
    }
    if let Some(v) = &filter.org_unit_id {
        query = query.filter(findings::org_unit_id.eq(v.clone()));
    }
    if let Some(v) = &filter.status {
        query = query.filter(findings::status.eq(v.clone()));
    }
    if let Some(day) = filter.overdue_on {
        query = query.filter(findings::status.eq("open")).filter(findings::due_on.lt(day));
    }
    if let Some(after) = &page.after {
        query = query.filter(findings::id.gt(after.clone()));
    }
    let rows = query.order(findings::id.asc()).limit(page.limit + 1).load(conn)?;
    Ok(page.page(rows, |r| &r.id))
}

/// Open findings of the units under `path_prefix` due before `day`, oldest due first.
pub fn overdue_under(
    conn: &mut DbConn,
    path_prefix: &str,
    day: NaiveDate,
    limit: i64,
) -> Result<Vec<FindingRow>, StoreError> {
    Ok(findings::table
        .filter(findings::org_path.like(format!("{path_prefix}%")))
        .filter(findings::deleted_at.is_null())
        .filter(findings::status.eq("open"))
        .filter(findings::due_on.lt(day))
        .order((findings::due_on.asc(), findings::id.asc()))
        .limit(limit)
        .select(FindingRow::as_select())
        .load(conn)?)
}

/// Live findings in a subtree changed after `after` up to `upto`, by change number.
pub fn findings_changed_since(
    conn: &mut DbConn,
    path_prefix: Option<&str>,
    after: i64,
    upto: i64,
    limit: i64,
) -> Result<Vec<FindingRow>, StoreError> {
    let mut query = findings::table
        .select(FindingRow::as_select())
        .filter(findings::seq.gt(after))
        .filter(findings::seq.le(upto))
        .filter(findings::deleted_at.is_null())
        .into_boxed();
    if let Some(prefix) = path_prefix {
        query = query.filter(findings::org_path.like(format!("{prefix}%")));
    }
    Ok(query.order(findings::seq.asc()).limit(limit).load(conn)?)
}
