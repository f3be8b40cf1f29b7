//! The change sequence behind offline sync, and tombstones for rows a subtree must drop.

use std::collections::{BTreeMap, HashSet};

use diesel::prelude::*;

use super::schema::{
    partners, supervision_findings, supervisions, sync_counter, sync_tombstones, visit_photos, visits,
};
use super::{DbConn, StoreError};

/// Takes the next change number. Call it inside the write transaction, just before the write:
/// the counter row stays locked until commit, so numbers become visible in commit order.
pub fn next_seq(conn: &mut DbConn) -> Result<i64, StoreError> {
    diesel::update(sync_counter::table.find(1)).set(sync_counter::value.eq(sync_counter::value + 1)).execute(conn)?;
    Ok(sync_counter::table.find(1).select(sync_counter::value).first(conn)?)
}

/// The newest change number: a pull that starts now sees everything up to it.
pub fn current_seq(conn: &mut DbConn) -> Result<i64, StoreError> {
    Ok(sync_counter::table.find(1).select(sync_counter::value).first(conn)?)
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = sync_tombstones)]
pub struct TombstoneRow {
    pub seq: i64,
    pub entity: String,
    pub record_id: String,
    pub org_path: String,
    pub user_id: Option<String>,
}

pub fn insert_tombstone(conn: &mut DbConn, row: &TombstoneRow) -> Result<(), StoreError> {
    on_backend!(conn, |c| diesel::insert_into(sync_tombstones::table).values(row).execute(c))?;
    Ok(())
}

/// The tables the first sync protocol syncs; tombstones of others (leads) serve only the map's
/// index there.
pub const LEGACY_SYNCED: [&str; 5] = ["partners", "visits", "visit_photos", "supervisions", "supervision_findings"];

/// Tombstones of `entities` in `(after, upto]`, in a subtree (and for one author's records, if
/// given).
pub fn tombstones_since(
    conn: &mut DbConn,
    entities: &[&str],
    path_prefix: Option<&str>,
    user_id: Option<&str>,
    after: i64,
    upto: i64,
    limit: i64,
) -> Result<Vec<TombstoneRow>, StoreError> {
    let mut query = sync_tombstones::table
        .select(TombstoneRow::as_select())
        .filter(sync_tombstones::seq.gt(after))
        .filter(sync_tombstones::seq.le(upto))
        .filter(sync_tombstones::entity.eq_any(entities))
        .into_boxed();
    if let Some(prefix) = path_prefix {
        query = query.filter(sync_tombstones::org_path.like(format!("{prefix}%")));
    }
    if let Some(user) = user_id {
        query = query.filter(sync_tombstones::user_id.is_null().or(sync_tombstones::user_id.eq(user.to_owned())));
    }
    Ok(query.order(sync_tombstones::seq.asc()).limit(limit).load(conn)?)
}

/// Records that `record_id` of `entity` left the subtree at `org_path` with change `seq`;
/// `author` for records only their author's phone holds.
pub fn tombstone(
    conn: &mut DbConn,
    seq: i64,
    entity: &str,
    record_id: uuid::Uuid,
    org_path: &str,
    author: Option<uuid::Uuid>,
) -> Result<(), StoreError> {
    insert_tombstone(
        conn,
        &TombstoneRow {
            seq,
            entity: entity.to_owned(),
            record_id: record_id.to_string(),
            org_path: org_path.to_owned(),
            user_id: author.map(|u| u.to_string()),
        },
    )
}

/// Which of these tombstones' records are not deleted, as `(entity, record_id)`: one query per
/// kind of record among them, whatever their number. Only such a record can still be visible to
/// the caller (it left one subtree for another); every other tombstone is a deletion.
pub fn live_records(conn: &mut DbConn, tombstones: &[TombstoneRow]) -> Result<HashSet<(String, String)>, StoreError> {
    let mut by_entity: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for t in tombstones {
        by_entity.entry(t.entity.as_str()).or_default().push(t.record_id.as_str());
    }
    let mut live = HashSet::new();
    for (entity, ids) in by_entity {
        let found: Vec<String> = match entity {
            "partners" => partners::table
                .filter(partners::id.eq_any(&ids))
                .filter(partners::deleted_at.is_null())
                .select(partners::id)
                .load(conn)?,
            "visits" => visits::table
                .filter(visits::id.eq_any(&ids))
                .filter(visits::deleted_at.is_null())
                .select(visits::id)
                .load(conn)?,
            "supervisions" => supervisions::table
                .filter(supervisions::id.eq_any(&ids))
                .filter(supervisions::deleted_at.is_null())
                .select(supervisions::id)
                .load(conn)?,
            "supervision_findings" => supervision_findings::table
                .filter(supervision_findings::id.eq_any(&ids))
                .filter(supervision_findings::deleted_at.is_null())
                .select(supervision_findings::id)
                .load(conn)?,
            _ => visit_photos::table
                .filter(visit_photos::id.eq_any(&ids))
                .filter(visit_photos::deleted_at.is_null())
                .select(visit_photos::id)
                .load(conn)?,
        };
        live.extend(found.into_iter().map(|id| (entity.to_owned(), id)));
    }
    Ok(live)
}
