//! The points ledger: rows are only ever added.

use chrono::NaiveDateTime;
use diesel::dsl::sum;
use diesel::prelude::*;

use crate::store::schema::points_entries;
use crate::store::{DbConn, Page, PageRequest, StoreError};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = points_entries)]
pub struct EntryRow {
    pub id: String,
    pub project_id: String,
    pub user_id: String,
    pub action: String,
    pub source_type: String,
    pub source_id: String,
    pub points: i32,
    /// When the action happened: the day it counts for. A reversal keeps its original's time.
    pub occurred_at: NaiveDateTime,
    pub reverses_id: Option<String>,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, row: &EntryRow) -> Result<(), StoreError> {
    on_backend!(conn, |c| diesel::insert_into(points_entries::table).values(row).execute(c))?;
    Ok(())
}

pub fn insert_many(conn: &mut DbConn, rows: &[EntryRow]) -> Result<(), StoreError> {
    for chunk in rows.chunks(1000) {
        on_backend!(conn, |c| diesel::insert_into(points_entries::table).values(chunk).execute(c))?;
    }
    Ok(())
}

/// Every entry an action on this source produced, oldest first.
pub fn for_source(conn: &mut DbConn, source_id: &str, action: &str) -> Result<Vec<EntryRow>, StoreError> {
    Ok(points_entries::table
        .filter(points_entries::source_id.eq(source_id))
        .filter(points_entries::action.eq(action))
        .select(EntryRow::as_select())
        .order(points_entries::id.asc())
        .load(conn)?)
}

/// What a member earned from one action inside `[from, to)`, for daily caps.
pub fn earned(
    conn: &mut DbConn,
    project_id: &str,
    user_id: &str,
    action: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<i64, StoreError> {
    let total: Option<i64> = points_entries::table
        .filter(points_entries::project_id.eq(project_id))
        .filter(points_entries::user_id.eq(user_id))
        .filter(points_entries::action.eq(action))
        .filter(points_entries::occurred_at.ge(from))
        .filter(points_entries::occurred_at.lt(to))
        .select(sum(points_entries::points))
        .first(conn)?;
    Ok(total.unwrap_or(0))
}

/// (member, action, points, when the member's latest standing award of that action happened).
pub type ActionTotal = (String, String, i64, Option<NaiveDateTime>);

/// Per member and action inside `[from, to)`: the sum, and when the latest award that was not
/// reversed happened (the moment they reached their total, for the tie-break) — in one pass over
/// the covering index; the reversals come from their own small partial index.
pub fn totals(
    conn: &mut DbConn,
    project_id: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Vec<ActionTotal>, StoreError> {
    use diesel::sql_types::{Nullable, Text, Timestamp};
    let reached = diesel::dsl::sql::<Nullable<Timestamp>>(
        "MAX(CASE WHEN points > 0 AND id NOT IN \
         (SELECT r.reverses_id FROM points_entries r WHERE r.project_id = ",
    )
    .bind::<Text, _>(project_id.to_owned())
    .sql(" AND r.reverses_id IS NOT NULL) THEN occurred_at END)");
    let rows: Vec<(String, String, Option<i64>, Option<NaiveDateTime>)> = points_entries::table
        .filter(points_entries::project_id.eq(project_id))
        .filter(points_entries::occurred_at.ge(from))
        .filter(points_entries::occurred_at.lt(to))
        .group_by((points_entries::user_id, points_entries::action))
        .select((points_entries::user_id, points_entries::action, sum(points_entries::points), reached))
        .load(conn)?;
    Ok(rows.into_iter().map(|(u, a, s, t)| (u, a, s.unwrap_or(0), t)).collect())
}

/// An entry as star history reads it: (id, user, action, points, occurred_at).
pub type EntryBrief = (String, String, String, i32, NaiveDateTime);

/// Every entry of a project inside `[from, to)`: for star history.
pub fn entries_between(
    conn: &mut DbConn,
    project_id: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Vec<EntryBrief>, StoreError> {
    Ok(points_entries::table
        .filter(points_entries::project_id.eq(project_id))
        .filter(points_entries::occurred_at.ge(from))
        .filter(points_entries::occurred_at.lt(to))
        .select((
            points_entries::id,
            points_entries::user_id,
            points_entries::action,
            points_entries::points,
            points_entries::occurred_at,
        ))
        .load(conn)?)
}

/// The ids of a project's entries that were reversed (from the reversals' partial index).
pub fn reversed_ids(conn: &mut DbConn, project_id: &str) -> Result<std::collections::HashSet<String>, StoreError> {
    let ids: Vec<Option<String>> = points_entries::table
        .filter(points_entries::project_id.eq(project_id))
        .filter(points_entries::reverses_id.is_not_null())
        .select(points_entries::reverses_id)
        .load(conn)?;
    Ok(ids.into_iter().flatten().collect())
}

/// Per user, the sum over all projects inside `[from, to)` (the morning report).
pub fn per_user_between(
    conn: &mut DbConn,
    users: &[String],
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> Result<Vec<(String, i64)>, StoreError> {
    let rows: Vec<(String, Option<i64>)> = points_entries::table
        .filter(points_entries::user_id.eq_any(users))
        .filter(points_entries::occurred_at.ge(from))
        .filter(points_entries::occurred_at.lt(to))
        .group_by(points_entries::user_id)
        .select((points_entries::user_id, sum(points_entries::points)))
        .load(conn)?;
    Ok(rows.into_iter().map(|(u, s)| (u, s.unwrap_or(0))).collect())
}

pub fn list(
    conn: &mut DbConn,
    project_id: &str,
    user_id: Option<&str>,
    page: &PageRequest,
) -> Result<Page<EntryRow>, StoreError> {
    let mut query = points_entries::table
        .filter(points_entries::project_id.eq(project_id))
        .select(EntryRow::as_select())
        .into_boxed();
    if let Some(user) = user_id {
        query = query.filter(points_entries::user_id.eq(user.to_owned()));
    }
    if let Some(after) = &page.after {
        query = query.filter(points_entries::id.gt(after.clone()));
    }
    let rows = query.order(points_entries::id.asc()).limit(page.limit + 1).load(conn)?;
    Ok(page.page(rows, |r| &r.id))
}
