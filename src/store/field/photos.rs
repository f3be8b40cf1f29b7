use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::store::schema::{visit_photos, visits};
use crate::store::{DbConn, StoreError};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = visit_photos)]
pub struct PhotoRow {
    pub id: String,
    pub visit_id: String,
    pub branch_id: String,
    pub org_path: String,
    pub sha256: String,
    pub thumb_sha256: String,
    pub width: i32,
    pub height: i32,
    pub bytes: i64,
    pub exif_lat: Option<f64>,
    pub exif_lon: Option<f64>,
    pub exif_time: Option<NaiveDateTime>,
    pub exif_offset_minutes: Option<i32>,
    pub uploaded_by: String,
    pub created_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
    pub seq: i64,
    pub created_seq: i64,
}

pub fn insert(conn: &mut DbConn, row: &PhotoRow) -> Result<(), StoreError> {
    on_backend!(conn, |c| diesel::insert_into(visit_photos::table).values(row).execute(c))?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<PhotoRow>, StoreError> {
    Ok(visit_photos::table.find(id).select(PhotoRow::as_select()).first(conn).optional()?)
}

/// A visit's live photos, oldest first.
pub fn of_visit(conn: &mut DbConn, visit_id: &str) -> Result<Vec<PhotoRow>, StoreError> {
    Ok(visit_photos::table
        .filter(visit_photos::visit_id.eq(visit_id))
        .filter(visit_photos::deleted_at.is_null())
        .select(PhotoRow::as_select())
        .order(visit_photos::id.asc())
        .load(conn)?)
}

pub fn mark_deleted(conn: &mut DbConn, id: &str, at: NaiveDateTime, seq: i64) -> Result<(), StoreError> {
    diesel::update(visit_photos::table.find(id))
        .set((visit_photos::deleted_at.eq(Some(at)), visit_photos::seq.eq(seq)))
        .execute(conn)?;
    Ok(())
}

/// Live photos in a subtree (and of one user's visits, if given) changed after `after`.
pub fn changed_since(
    conn: &mut DbConn,
    path_prefix: Option<&str>,
    user_id: Option<&str>,
    after: i64,
    upto: i64,
    limit: i64,
) -> Result<Vec<PhotoRow>, StoreError> {
    let mut query = visit_photos::table
        .inner_join(visits::table)
        .select(PhotoRow::as_select())
        .filter(visit_photos::seq.gt(after))
        .filter(visit_photos::seq.le(upto))
        .filter(visit_photos::deleted_at.is_null())
        .filter(visits::deleted_at.is_null())
        .into_boxed();
    if let Some(prefix) = path_prefix {
        query = query.filter(visit_photos::org_path.like(format!("{prefix}%")));
    }
    if let Some(user) = user_id {
        query = query.filter(visits::user_id.eq(user.to_owned()));
    }
    Ok(query.order(visit_photos::seq.asc()).limit(limit).load(conn)?)
}
