//! The change sequence behind offline sync, and tombstones for rows a subtree must drop.

use std::collections::{BTreeMap, HashSet};

use diesel::prelude::*;

use super::lane::FEED_LOCK;
use super::schema::{
    partners, supervision_findings, supervisions, sync_counter, sync_tombstones, visit_photos, visits,
};
use super::{DbConn, StoreError};

/// Change numbers on PostgreSQL: the writing transaction's id, shifted left by this many bits,
/// plus the place of the change within its transaction (up to 2^20 - 1 changes each).
pub(crate) const XID_SHIFT: u32 = 20;

/// Takes the next change number. Call it inside the write transaction, just before the write.
///
/// No writer waits for another to get one. On PostgreSQL a number is the transaction's id (64-bit,
/// `pg_current_xact_id`) shifted left, plus a count kept in a transaction-local setting: taking one
/// locks nothing, so writers of every branch and every replica commit side by side. Numbers are
/// then not visible in commit order — a transaction with a smaller id may commit later — which
/// [`horizon`] answers. On SQLite, where one writer at a time holds the database anyway, a counter
/// row is simplest and as fast.
pub fn next_seq(conn: &mut DbConn) -> Result<i64, StoreError> {
    if !super::lane::in_transaction(conn) {
        // Taken in one transaction and written in another, a number could fall below the
        // horizon before its row exists, and a pull would skip it.
        return Err(super::lane::failed("a change number is taken inside the write's transaction".to_owned()));
    }
    match conn {
        DbConn::Postgres(c) => {
            // The feed lock again, for a transaction not begun by `write_tx` (idempotent, shared).
            let sql = format!(
                "SELECT pg_advisory_xact_lock_shared({FEED_LOCK}), \
                 (pg_current_xact_id()::text::bigint << {XID_SHIFT}) + set_config('outreach.change_in_xact', \
                 (COALESCE(NULLIF(current_setting('outreach.change_in_xact', true), ''), '-1')::bigint + 1)::text, \
                 true)::bigint AS value"
            );
            Ok(diesel::sql_query(sql).get_result::<Number>(c)?.value)
        }
        DbConn::Sqlite(_) => {
            diesel::update(sync_counter::table.find(1))
                .set(sync_counter::value.eq(sync_counter::value + 1))
                .execute(conn)?;
            Ok(sync_counter::table.find(1).select(sync_counter::value).first(conn)?)
        }
    }
}

#[derive(QueryableByName)]
struct Number {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    value: i64,
}

/// The feed's horizon: every change numbered at or below it is committed (or rolled back), and
/// every change still to commit will be numbered above it. A pull reads up to it and hands it
/// back as the phone's next starting point, so no change is ever skipped, whatever the order in
/// which transactions commit.
///
/// On PostgreSQL a transaction's changes are numbered from its id, so the horizon is just below
/// the oldest transaction still running (`pg_snapshot_xmin`): every one with a smaller id has
/// ended, and one that has not yet taken an id will take a larger one. So that a change
/// committed before the call is always inside it (a phone that pushed, then pulls, gets its own
/// change back; a map shows the partner just created), the call first waits — a few
/// milliseconds, at most half a second — for the transactions running when it started to end;
/// a transaction held open longer is simply not waited for, and its changes come with a later
/// call. On SQLite the counter: a number is taken under the database's single write lock.
pub fn horizon(conn: &mut DbConn) -> Result<i64, StoreError> {
    let outside = !super::lane::in_transaction(conn);
    match conn {
        // The wait is one statement (`outreach_feed_horizon`, in the migrations); inside a
        // transaction, whose snapshot would not see later commits anyway, it does not wait.
        DbConn::Postgres(c) => {
            let wait_ms = if outside { HORIZON_WAIT_MS } else { 0 };
            let sql = format!("SELECT outreach_feed_horizon({XID_SHIFT}, {wait_ms}) AS value");
            Ok(diesel::sql_query(sql).get_result::<Number>(c)?.value)
        }
        DbConn::Sqlite(_) => Ok(sync_counter::table.find(1).select(sync_counter::value).first(conn)?),
    }
}

/// The longest a horizon waits for the transactions running when it is asked for.
pub(crate) const HORIZON_WAIT_MS: u32 = 500;

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
