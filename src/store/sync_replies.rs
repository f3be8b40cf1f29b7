//! What a push leaves for its author's next pull: records to send again, and the reasons of
//! refused changes (`sync_rejections`, a synced table of its own).

use diesel::prelude::*;

use super::schema::{sync_rejections, sync_resends};
use super::sync::next_seq;
use super::{DbConn, StoreError, now_utc};

/// Sends `entity`'s record `record_id` to `user_id` again on their next pull (its server copy, or
/// its deletion when they cannot read it). Inside the caller's write transaction.
pub fn resend(conn: &mut DbConn, user_id: &str, entity: &str, record_id: &str) -> Result<(), StoreError> {
    let seq = next_seq(conn)?;
    diesel::delete(
        sync_resends::table
            .filter(sync_resends::user_id.eq(user_id))
            .filter(sync_resends::entity.eq(entity))
            .filter(sync_resends::record_id.eq(record_id)),
    )
    .execute(conn)?;
    let row = (
        sync_resends::user_id.eq(user_id),
        sync_resends::entity.eq(entity),
        sync_resends::record_id.eq(record_id),
        sync_resends::seq.eq(seq),
    );
    on_backend!(conn, |c| diesel::insert_into(sync_resends::table).values(row).execute(c))?;
    Ok(())
}

/// `(entity, record_id)` to send `user_id` again, of the changes in `(after, upto]`.
pub fn resends_since(
    conn: &mut DbConn,
    user_id: &str,
    after: i64,
    upto: i64,
) -> Result<Vec<(String, String)>, StoreError> {
    Ok(sync_resends::table
        .filter(sync_resends::user_id.eq(user_id))
        .filter(sync_resends::seq.gt(after))
        .filter(sync_resends::seq.le(upto))
        .select((sync_resends::entity, sync_resends::record_id))
        .load(conn)?)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sync_rejections)]
pub struct RejectionRow {
    pub id: String,
    pub user_id: String,
    pub table_name: String,
    pub record_id: String,
    pub code: String,
    pub message: String,
    pub detail: String,
    pub existing_id: Option<String>,
    pub created_at: chrono::NaiveDateTime,
    pub seq: i64,
    pub deleted_at: Option<chrono::NaiveDateTime>,
}

/// Keeps a refusal for its author; takes its change number inside the caller's transaction.
pub fn insert_rejection(conn: &mut DbConn, mut row: RejectionRow) -> Result<(), StoreError> {
    row.seq = next_seq(conn)?;
    on_backend!(conn, |c| diesel::insert_into(sync_rejections::table).values(&row).execute(c))?;
    Ok(())
}

/// One user's refusals changed in `(after, upto]`: the live ones, and the ids of the dismissed.
pub fn rejections_since(
    conn: &mut DbConn,
    user_id: &str,
    after: i64,
    upto: i64,
) -> Result<Vec<RejectionRow>, StoreError> {
    Ok(sync_rejections::table
        .filter(sync_rejections::user_id.eq(user_id))
        .filter(sync_rejections::seq.gt(after))
        .filter(sync_rejections::seq.le(upto))
        .select(RejectionRow::as_select())
        .order(sync_rejections::seq.asc())
        .load(conn)?)
}

pub fn find_rejection(conn: &mut DbConn, id: &str) -> Result<Option<RejectionRow>, StoreError> {
    Ok(sync_rejections::table.find(id).select(RejectionRow::as_select()).first(conn).optional()?)
}

/// Dismisses a refusal (the app deleted it), inside the caller's write transaction.
pub fn dismiss_rejection(conn: &mut DbConn, id: &str) -> Result<(), StoreError> {
    let seq = next_seq(conn)?;
    diesel::update(sync_rejections::table.find(id).filter(sync_rejections::deleted_at.is_null()))
        .set((sync_rejections::deleted_at.eq(Some(now_utc())), sync_rejections::seq.eq(seq)))
        .execute(conn)?;
    Ok(())
}
