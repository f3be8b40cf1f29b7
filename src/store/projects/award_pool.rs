//! A project's award pool: an append-only chain of entries, each with the balance after it.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::store::schema::award_pool_entries as entries;
use crate::store::{DbConn, StoreError};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = entries)]
pub struct PoolEntryRow {
    pub id: String,
    pub project_id: String,
    /// 1, 2, 3… within the project: unique, so two appends racing for one place cannot both land.
    pub position: i64,
    pub kind: String,
    pub amount_fen: i64,
    pub balance_fen: i64,
    pub user_id: String,
    pub period: Option<String>,
    pub period_from: Option<NaiveDate>,
    pub note: String,
    pub recorded_by: String,
    pub create_digest: String,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, row: &PoolEntryRow) -> Result<(), StoreError> {
    on_backend!(conn, |c| diesel::insert_into(entries::table).values(row).execute(c))?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<PoolEntryRow>, StoreError> {
    Ok(entries::table.find(id).select(PoolEntryRow::as_select()).first(conn).optional()?)
}

/// Holds the project's row until the transaction ends, so the pool's appends queue one behind
/// the other on PostgreSQL (under read committed they would otherwise race for the same place
/// and retry); SQLite's single writer queues them already.
pub fn lock_project(conn: &mut DbConn, project_id: &str) -> Result<(), StoreError> {
    use crate::store::schema::projects;
    if let DbConn::Postgres(c) = conn {
        projects::table.find(project_id).select(projects::id).for_update().first::<String>(c).optional()?;
    }
    Ok(())
}

/// The newest entry of the project's chain: its position and balance.
pub fn last(conn: &mut DbConn, project_id: &str) -> Result<Option<PoolEntryRow>, StoreError> {
    Ok(entries::table
        .filter(entries::project_id.eq(project_id))
        .order(entries::position.desc())
        .select(PoolEntryRow::as_select())
        .first(conn)
        .optional()?)
}

/// The payout of one period, if it was made.
/// Whether a prize was paid for any of these periods, given as (period, its first day).
pub fn any_paid(conn: &mut DbConn, project_id: &str, periods: &[(&str, NaiveDate)]) -> Result<bool, StoreError> {
    let firsts: Vec<NaiveDate> = periods.iter().map(|(_, from)| *from).collect();
    let paid: Vec<(Option<String>, Option<NaiveDate>)> = entries::table
        .filter(entries::project_id.eq(project_id))
        .filter(entries::kind.eq("payout"))
        .filter(entries::period_from.eq_any(firsts))
        .select((entries::period, entries::period_from))
        .load(conn)?;
    Ok(paid
        .iter()
        .any(|(period, from)| periods.iter().any(|(p, f)| period.as_deref() == Some(*p) && *from == Some(*f))))
}

pub fn payout_of(
    conn: &mut DbConn,
    project_id: &str,
    period: &str,
    period_from: NaiveDate,
) -> Result<Option<PoolEntryRow>, StoreError> {
    Ok(entries::table
        .filter(entries::project_id.eq(project_id))
        .filter(entries::kind.eq("payout"))
        .filter(entries::period.eq(period))
        .filter(entries::period_from.eq(period_from))
        .select(PoolEntryRow::as_select())
        .first(conn)
        .optional()?)
}

/// Total paid in and paid out. Summed here, not in SQL: a pool holds hundreds of entries, and
/// SUM over BIGINT is NUMERIC on PostgreSQL but INTEGER on SQLite.
pub fn sums(conn: &mut DbConn, project_id: &str) -> Result<(i64, i64), StoreError> {
    let rows: Vec<(String, i64)> = entries::table
        .filter(entries::project_id.eq(project_id))
        .select((entries::kind, entries::amount_fen))
        .load(conn)?;
    Ok(rows.iter().fold((0, 0), |(paid_in, paid_out), (kind, amount)| {
        if kind == "payout" { (paid_in, paid_out + amount) } else { (paid_in + amount, paid_out) }
    }))
}

/// Entries newest first, before a position (all when `None`), at most `limit`.
pub fn page(
    conn: &mut DbConn,
    project_id: &str,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<PoolEntryRow>, StoreError> {
    let mut query = entries::table.filter(entries::project_id.eq(project_id)).into_boxed();
    if let Some(before) = before {
        query = query.filter(entries::position.lt(before));
    }
    Ok(query.order(entries::position.desc()).limit(limit).select(PoolEntryRow::as_select()).load(conn)?)
}
