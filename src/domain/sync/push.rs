//! The push: a phone's pending changes, applied record by record through the domain, each in its
//! own transaction. The push is acknowledged whole; what the server did not take as sent is
//! corrected by the phone's next pull (the server's copy sent again, or a deletion), with the
//! reason in `sync_rejections`. A refused change never stays pending on the phone, and never
//! loops (docs/SYNC.md, "Push").
//!
//! - A create is taken whole; a create or update of a record the server already holds applies
//!   only the columns the phone may write that differ from the server's copy — for an update,
//!   only among those the phone changed (`_changed`). No difference: not an edit (no version,
//!   no audit entry), and the server's copy is sent again so the phone ends exact.
//! - Concurrent edits: different columns merge; the same column goes to the later push.
//! - A delete of an id the server does not have, or the caller cannot read, succeeds silently.

use serde_json::Value;
use uuid::Uuid;

use super::declare::entity::{Synced, Updated, read_only};
use super::declare::pushed::Pushed;
use super::declare::{ColumnSpec, Row, View, Write};
use super::schema::current_version;
use super::tables::rejections::{detail_of, message_zh};
use super::tables::{TABLES, by_name};
use crate::domain::DomainError;
use crate::domain::common::create::Created;
use crate::store::sync_replies::{self, RejectionRow};
use crate::store::{DbConn, StoreError, now_utc};

/// What a phone pushes for one table.
#[derive(Debug, Default)]
pub struct TablePush {
    pub created: Vec<Row>,
    pub updated: Vec<Row>,
    pub deleted: Vec<String>,
}

/// How the push went, record by record (the phone needs none of it; logs and tests do).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct PushSummary {
    /// Created, changed or deleted.
    pub applied: usize,
    /// Already as pushed (a retry, or nothing the phone may write changed).
    pub unchanged: usize,
    /// Refused: the phone gets the server's copy back and the reason in `sync_rejections`.
    pub refused: usize,
}

enum Outcome {
    Applied,
    /// Send the server's copy again (or the record's deletion).
    Resend,
    Refused(DomainError),
}

/// Checks the batch's shape: known tables only, at most `max` records.
pub fn check(changes: &[(String, TablePush)], max: usize) -> Result<(), DomainError> {
    let version = current_version();
    if let Some((name, _)) = changes.iter().find(|(n, _)| by_name(n).is_none_or(|t| t.since() > version)) {
        return Err(DomainError::invalid("changes", format!("no synced table {name:?}")));
    }
    let count: usize = changes.iter().map(|(_, t)| t.created.len() + t.updated.len() + t.deleted.len()).sum();
    if count > max {
        return Err(DomainError::invalid("changes", format!("at most {max} records per push; sync more often")));
    }
    Ok(())
}

/// Applies a push. Infrastructure failures fail the whole push (the phone retries it: every
/// change is idempotent); refusals of single records never do.
pub fn push(conn: &mut DbConn, view: &View, mut changes: Vec<(String, TablePush)>) -> Result<PushSummary, DomainError> {
    let mut summary = PushSummary::default();
    // Table by table in declaration order (a record before those that name it): creates, then
    // updates, then deletes.
    for table in TABLES.iter().copied() {
        let Some(index) = changes.iter().position(|(n, _)| n == table.name()) else { continue };
        let (_, batch) = changes.swap_remove(index);
        for row in &batch.created {
            let outcome = upsert(conn, view, table, row, None)?;
            settle(conn, view, table, &record_id(row), outcome, &mut summary)?;
        }
        for row in &batch.updated {
            let changed = changed_columns(row);
            let outcome = upsert(conn, view, table, row, Some(&changed))?;
            settle(conn, view, table, &record_id(row), outcome, &mut summary)?;
        }
        for id in &batch.deleted {
            let outcome = delete(conn, view, table, id)?;
            settle(conn, view, table, id, outcome, &mut summary)?;
        }
    }
    Ok(summary)
}

fn record_id(row: &Row) -> String {
    match row.get("id") {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

/// WatermelonDB's `_changed`: the columns changed on the phone since its last sync.
fn changed_columns(row: &Row) -> Vec<String> {
    row.get("_changed")
        .and_then(Value::as_str)
        .map(|s| s.split(',').map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default()
}

/// Whether the phone's value is the server's (after the server's normalisation of text).
fn same(pushed: Option<&Value>, server: Option<&Value>) -> bool {
    let null = Value::Null;
    let (pushed, server) = (pushed.unwrap_or(&null), server.unwrap_or(&null));
    match (pushed, server) {
        (Value::String(a), Value::String(b)) => a.trim() == b.trim(),
        (Value::String(a), Value::Null) | (Value::Null, Value::String(a)) => a.trim().is_empty(),
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (a, b) => a == b,
    }
}

fn id_of(table: &dyn Synced, id: &str) -> Result<Uuid, DomainError> {
    Uuid::parse_str(id).map_err(|_| {
        DomainError::invalid(
            "id",
            format!("{} ids are UUIDs: set WatermelonDB's id generator (docs/SYNC.md)", table.name()),
        )
    })
}

/// A create (`changed: None`) or an update of one record.
fn upsert(
    conn: &mut DbConn,
    view: &View,
    table: &dyn Synced,
    row: &Row,
    changed: Option<&[String]>,
) -> Result<Outcome, StoreError> {
    let id = match id_of(table, &record_id(row)) {
        Ok(id) => id,
        Err(e) => return Ok(Outcome::Refused(e)),
    };
    let columns = table.columns();
    let server = match table.read(conn, view, id, current_version()) {
        Ok(server) => server,
        Err(e) => return refusal(e),
    };
    let Some(server) = server else {
        // New to the server (an update of a record it does not have is one too, e.g. created
        // and then edited offline): taken whole.
        let writable: Vec<ColumnSpec> = columns.into_iter().filter(|c| c.write != Write::Server).collect();
        let result = Pushed::new(row, &writable, view).and_then(|values| table.create(conn, view, id, &values));
        return match result {
            Ok(Created::New(())) => Ok(Outcome::Applied),
            Ok(Created::Existing(())) => Ok(Outcome::Resend),
            Err(e) => refusal(e),
        };
    };
    let differing: Vec<ColumnSpec> = columns
        .into_iter()
        .filter(|c| c.write == Write::Always)
        .filter(|c| changed.is_none_or(|names| names.iter().any(|n| n == c.name)))
        .filter(|c| !same(row.get(c.name), server.get(c.name)))
        .collect();
    if differing.is_empty() {
        // An edit of a table the phone only reads is refused with its reason, not undone in
        // silence (the times WatermelonDB stamps by itself are no edit).
        let edited = |c: &&ColumnSpec| !matches!(c.name, "created_at" | "updated_at");
        if !table.access().update
            && table.columns().iter().filter(edited).any(|c| {
                changed.is_none_or(|names| names.iter().any(|n| n == c.name))
                    && !same(row.get(c.name), server.get(c.name))
            })
        {
            return refusal(read_only(table.name()));
        }
        return Ok(Outcome::Resend);
    }
    let result = Pushed::new(row, &differing, view).and_then(|values| table.update(conn, view, id, &values));
    match result {
        Ok(Updated::Changed) => Ok(Outcome::Applied),
        Ok(Updated::AsBefore) => Ok(Outcome::Resend),
        Err(e) => refusal(e),
    }
}

fn delete(conn: &mut DbConn, view: &View, table: &dyn Synced, id: &str) -> Result<Outcome, StoreError> {
    // An id the server never issued, or a record the caller cannot read: nothing to delete, and
    // nothing to tell (a refusal would say that it exists).
    let Ok(uuid) = Uuid::parse_str(id) else { return Ok(Outcome::Applied) };
    match table.delete(conn, view, uuid) {
        Ok(()) | Err(DomainError::NotFound(_)) => Ok(Outcome::Applied),
        Err(e) => match table.read(conn, view, uuid, current_version()) {
            Ok(None) => Ok(Outcome::Applied),
            Ok(Some(_)) => refusal(e),
            Err(read) => refusal(read),
        },
    }
}

fn refusal(error: DomainError) -> Result<Outcome, StoreError> {
    match error {
        DomainError::Store(e) => Err(e),
        other => Ok(Outcome::Refused(other)),
    }
}

/// Leaves what the phone's next pull needs: the server's copy (or a deletion) for anything not
/// taken as sent, and the reason for a refusal.
fn settle(
    conn: &mut DbConn,
    view: &View,
    table: &dyn Synced,
    id: &str,
    outcome: Outcome,
    summary: &mut PushSummary,
) -> Result<(), DomainError> {
    let user = view.actor.user_id.to_string();
    match outcome {
        Outcome::Applied => summary.applied += 1,
        Outcome::Resend => {
            summary.unchanged += 1;
            conn.write_tx(|conn| sync_replies::resend(conn, &user, table.name(), id))?;
        }
        Outcome::Refused(error) => {
            summary.refused += 1;
            let row = RejectionRow {
                id: Uuid::new_v4().to_string(),
                user_id: user.clone(),
                table_name: table.name().to_owned(),
                record_id: id.to_owned(),
                code: error.code().as_str().to_owned(),
                message: message_zh(&error),
                detail: detail_of(&error),
                existing_id: match &error {
                    DomainError::Duplicate { existing_id, .. } => existing_id.map(|e| e.to_string()),
                    _ => None,
                },
                created_at: now_utc(),
                seq: 0,
                deleted_at: None,
            };
            conn.write_tx(|conn| {
                sync_replies::insert_rejection(conn, row)?;
                sync_replies::resend(conn, &user, table.name(), id)
            })?;
        }
    }
    Ok(())
}
