use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::store::schema::users;
use crate::store::{DbConn, Page, PageRequest, StoreError};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: String,
    pub phone: String,
    pub name: String,
    pub password_hash: String,
    pub role: String,
    pub org_unit_id: Option<String>,
    pub org_path: String,
    pub active: bool,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// The columns a user update may touch; `None` leaves a column as it is.
#[derive(Debug, Default, Clone, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges {
    pub name: Option<String>,
    pub password_hash: Option<String>,
    pub role: Option<String>,
    pub org_unit_id: Option<Option<String>>,
    pub org_path: Option<String>,
    pub active: Option<bool>,
}

#[derive(Debug, Default, Clone)]
pub struct UserFilter {
    pub path_prefix: Option<String>,
    pub role: Option<String>,
    pub org_unit_id: Option<String>,
    pub active: Option<bool>,
}

// Every write takes a change number for the phones' directory (call these inside the write's
// transaction, like `sync::next_seq`).

pub fn insert(conn: &mut DbConn, row: &UserRow) -> Result<(), StoreError> {
    let seq = crate::store::sync::next_seq(conn)?;
    on_backend!(conn, |c| diesel::insert_into(users::table)
        .values((row, users::seq.eq(seq), users::scope_seq.eq(seq)))
        .execute(c))?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<UserRow>, StoreError> {
    Ok(users::table.find(id).select(UserRow::as_select()).first(conn).optional()?)
}

pub fn find_by_phone(conn: &mut DbConn, phone: &str) -> Result<Option<UserRow>, StoreError> {
    Ok(users::table.filter(users::phone.eq(phone)).select(UserRow::as_select()).first(conn).optional()?)
}

pub fn count(conn: &mut DbConn) -> Result<i64, StoreError> {
    Ok(users::table.count().get_result(conn)?)
}

pub fn list(conn: &mut DbConn, filter: &UserFilter, page: &PageRequest) -> Result<Page<UserRow>, StoreError> {
    let mut query = users::table.select(UserRow::as_select()).into_boxed();
    if let Some(prefix) = &filter.path_prefix {
        query = query.filter(users::org_path.like(format!("{prefix}%")));
    }
    if let Some(role) = &filter.role {
        query = query.filter(users::role.eq(role.clone()));
    }
    if let Some(unit) = &filter.org_unit_id {
        query = query.filter(users::org_unit_id.eq(unit.clone()));
    }
    if let Some(active) = filter.active {
        query = query.filter(users::active.eq(active));
    }
    if let Some(after) = &page.after {
        query = query.filter(users::id.gt(after.clone()));
    }
    let rows = query.order(users::id.asc()).limit(page.limit + 1).load(conn)?;
    Ok(page.page(rows, |r| &r.id))
}

/// Applies `changes` if the row is still at `expected_version`; returns whether it was.
pub fn update(
    conn: &mut DbConn,
    id: &str,
    expected_version: i64,
    changes: &UserChanges,
    now: NaiveDateTime,
) -> Result<bool, StoreError> {
    let Some(current) = find(conn, id)?.filter(|u| u.version == expected_version) else { return Ok(false) };
    let seq = crate::store::sync::next_seq(conn)?;
    // Another role, unit or activity is another scope: the user's phones must start again.
    let moved = changes.role.as_ref().is_some_and(|r| *r != current.role)
        || changes.org_unit_id.as_ref().is_some_and(|u| *u != current.org_unit_id)
        || changes.active.is_some_and(|a| a != current.active);
    let updated = diesel::update(users::table.filter(users::id.eq(id)).filter(users::version.eq(expected_version)))
        .set((changes, users::version.eq(expected_version + 1), users::updated_at.eq(now), users::seq.eq(seq)))
        .execute(conn)?;
    if moved {
        diesel::update(users::table.find(id)).set(users::scope_seq.eq(seq)).execute(conn)?;
    }
    Ok(updated == 1)
}

/// The change that last moved the user to another scope (0: none since the first).
pub fn scope_seq(conn: &mut DbConn, id: &str) -> Result<Option<i64>, StoreError> {
    Ok(users::table.find(id).select(users::scope_seq).first(conn).optional()?)
}

/// Users whose path starts with `path_prefix`, changed in `(after, upto]`.
pub fn changed_since(
    conn: &mut DbConn,
    path_prefix: Option<&str>,
    after: i64,
    upto: i64,
) -> Result<Vec<UserRow>, StoreError> {
    let mut query =
        users::table.select(UserRow::as_select()).filter(users::seq.gt(after)).filter(users::seq.le(upto)).into_boxed();
    if let Some(prefix) = path_prefix {
        query = query.filter(users::org_path.like(format!("{prefix}%")));
    }
    Ok(query.order(users::seq.asc()).load(conn)?)
}

/// Names of these users, in one query (absent ids are left out).
pub fn names(conn: &mut DbConn, ids: &[String]) -> Result<Vec<(String, String)>, StoreError> {
    Ok(users::table.filter(users::id.eq_any(ids)).select((users::id, users::name)).load(conn)?)
}
