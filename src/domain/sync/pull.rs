//! The pull: everything of the caller's scope that changed since their last pull, as one change
//! set in WatermelonDB's shape, with a numeric timestamp to send back next time.
//!
//! The timestamp is a position in the server's change feed, not a clock: `timestamp = horizon +
//! 1`, where every change numbered up to the horizon is committed, and `last_pulled_at = t` asks
//! for the changes numbered `t` and above. Every record goes in `updated` (the app syncs with
//! `sendCreatedAsUpdated`), so a phone's own creates never come back as `created`.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use super::declare::entity::Synced;
use super::declare::{Row, View};
use super::schema::current_version;
use super::tables::{TABLES, by_name};
use crate::domain::{DomainError, ErrorCode};
use crate::store::{DbConn, StoreError, sync, sync_replies};

/// WatermelonDB's `migration` argument: what an upgraded app's new tables and columns need.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Migration {
    pub from: u32,
    #[serde(default)]
    pub tables: Vec<String>,
    #[serde(default)]
    pub columns: Vec<MigrationColumns>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MigrationColumns {
    pub table: String,
    #[serde(default)]
    pub columns: Vec<String>,
}

pub struct PullRequest {
    /// `None` on a first sync.
    pub last_pulled_at: Option<i64>,
    pub schema_version: u32,
    pub migration: Option<Migration>,
}

#[derive(Default)]
pub struct TableChanges {
    pub updated: Vec<Row>,
    pub deleted: Vec<String>,
}

pub struct Pulled {
    /// Every table of the app's schema version, in declaration order.
    pub changes: Vec<(&'static str, TableChanges)>,
    pub timestamp: i64,
}

impl PullRequest {
    /// Checks the request against what this server publishes.
    pub fn validate(&self) -> Result<(), DomainError> {
        let newest = current_version();
        if self.schema_version == 0 || self.schema_version > newest {
            return Err(DomainError::invalid(
                "schema_version",
                format!("this server publishes schema versions 1 to {newest}"),
            ));
        }
        if self.last_pulled_at.is_some_and(|t| t < 0) {
            return Err(DomainError::invalid("last_pulled_at", "must be a timestamp this server gave, or 0"));
        }
        if let Some(m) = &self.migration {
            let names = m.tables.iter().chain(m.columns.iter().map(|c| &c.table));
            if let Some(unknown) =
                names.into_iter().find(|n| by_name(n).is_none_or(|t| t.since() > self.schema_version))
            {
                return Err(DomainError::invalid("migration", format!("no table {unknown:?} in this schema version")));
            }
        }
        Ok(())
    }
}

/// Everything the caller's phone must apply, in one change set.
pub fn pull(conn: &mut DbConn, view: &View, request: &PullRequest) -> Result<Pulled, DomainError> {
    request.validate()?;
    let version = request.schema_version;
    // Every change numbered up to the horizon has committed, and every later one will be numbered
    // above it (`sync::horizon`): reading up to it misses nothing, and the next pull starts there.
    let horizon = sync::horizon(conn)?;
    let first = request.last_pulled_at.is_none_or(|t| t == 0);
    let after = if first { -1 } else { request.last_pulled_at.unwrap_or(0) - 1 };
    if after > horizon {
        return Err(DomainError::conflict(
            ErrorCode::ResyncRequired,
            "this timestamp is ahead of the server's change feed (another server, or a restored backup): clear local data and sync again",
        ));
    }
    if !first && moved_since(conn, view, after)? {
        return Err(DomainError::conflict(
            ErrorCode::ResyncRequired,
            "your role or unit changed since this phone last synced: clear local data and sync again",
        ));
    }
    let tables: Vec<&dyn Synced> = TABLES.iter().copied().filter(|t| t.since() <= version).collect();
    let mut changes: BTreeMap<&'static str, TableChanges> = BTreeMap::new();
    for table in &tables {
        let entry = changes.entry(table.name()).or_default();
        entry.updated = table.changed(conn, view, after, horizon, version)?;
        if !first && let Some(deleted) = table.deleted(conn, view, after, horizon) {
            entry.deleted = deleted?;
        }
    }
    if !first {
        let names: Vec<&str> = tables.iter().map(|t| t.name()).collect();
        for (entity, id) in tombstones(conn, view, &names, after, horizon)? {
            if let Some(entry) = changes.get_mut(entity.as_str()) {
                entry.deleted.push(id);
            }
        }
        resends(conn, view, after, horizon, version, &mut changes)?;
    }
    if let Some(migration) = &request.migration {
        // All records of the tables the app just got or that gained columns: a superset of
        // those with values in the new columns, and the same rows a first sync would send.
        let names: BTreeSet<&str> =
            migration.tables.iter().chain(migration.columns.iter().map(|c| &c.table)).map(String::as_str).collect();
        for table in tables.iter().filter(|t| names.contains(t.name())) {
            let all = table.changed(conn, view, -1, horizon, version)?;
            changes.entry(table.name()).or_default().updated.extend(all);
        }
    }
    let changes = tables
        .iter()
        .map(|t| {
            let mut entry = changes.remove(t.name()).unwrap_or_default();
            tidy(&mut entry);
            (t.name(), entry)
        })
        .collect();
    Ok(Pulled { changes, timestamp: horizon + 1 })
}

/// One record per id: the last rendering of a record kept, and no id both updated and deleted
/// (a record still readable is an update, whatever tombstone it left elsewhere).
fn tidy(entry: &mut TableChanges) {
    let mut seen = BTreeSet::new();
    let mut updated = Vec::with_capacity(entry.updated.len());
    for row in std::mem::take(&mut entry.updated).into_iter().rev() {
        let id = row.get("id").and_then(|v| v.as_str()).unwrap_or_default().to_owned();
        if seen.insert(id) {
            updated.push(row);
        }
    }
    updated.reverse();
    entry.updated = updated;
    let mut deleted = BTreeSet::new();
    entry.deleted.retain(|id| !seen.contains(id) && deleted.insert(id.clone()));
}

/// `(entity, id)` of the records that left the caller's scope in `(after, upto]`: deleted, or
/// moved to a subtree they do not see.
fn tombstones(
    conn: &mut DbConn,
    view: &View,
    tables: &[&str],
    after: i64,
    upto: i64,
) -> Result<Vec<(String, String)>, StoreError> {
    let scope = view.scope_prefix();
    let own = view.own_user();
    let rows = sync::tombstones_since(conn, tables, scope.as_deref(), own.as_deref(), after, upto, i64::MAX)?;
    Ok(rows.into_iter().map(|t| (t.entity, t.record_id)).collect())
}

/// Records a push of this caller's left to send again: the server's copy when they may read
/// it, its deletion otherwise.
fn resends(
    conn: &mut DbConn,
    view: &View,
    after: i64,
    upto: i64,
    version: u32,
    changes: &mut BTreeMap<&'static str, TableChanges>,
) -> Result<(), DomainError> {
    for (entity, id) in sync_replies::resends_since(conn, &view.actor.user_id.to_string(), after, upto)? {
        let Some(table) = by_name(&entity).filter(|t| t.since() <= version) else { continue };
        let entry = changes.entry(table.name()).or_default();
        let row = match uuid::Uuid::parse_str(&id) {
            Ok(uuid) => table.read(conn, view, uuid, version)?,
            Err(_) => None,
        };
        match row {
            Some(row) => entry.updated.push(row),
            None => entry.deleted.push(id),
        }
    }
    Ok(())
}

/// Whether the caller moved to another role, unit or activity after change `after`: their phone
/// holds another scope's records, which no change set can correct record by record.
fn moved_since(conn: &mut DbConn, view: &View, after: i64) -> Result<bool, StoreError> {
    let scope_seq = crate::store::org::users::scope_seq(conn, &view.actor.user_id.to_string())?;
    Ok(scope_seq.is_some_and(|s| s > after))
}
