//! A synced table: its declaration ([`Table`]) and what the pull and the push ask of it
//! ([`Synced`]), so that both are written once for every table.

use uuid::Uuid;

use super::pushed::Pushed;
use super::{Access, Column, ColumnSpec, Row, View, render};
use crate::domain::DomainError;
use crate::domain::common::create::Created;
use crate::store::DbConn;

type Result<T> = std::result::Result<T, DomainError>;

/// The ids to drop of a table that keeps its own deletions.
pub type DeletedFn = fn(&mut DbConn, &View, i64, i64) -> Result<Vec<String>>;
pub type CreateFn = fn(&mut DbConn, &View, Uuid, &Pushed) -> Result<Created<()>>;
pub type UpdateFn = fn(&mut DbConn, &View, Uuid, &Pushed) -> Result<Updated>;

/// What an update did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Updated {
    Changed,
    /// Nothing: the server's copy already says it (another phone's check-in came first), and is
    /// sent again so the phone ends exact.
    AsBefore,
}
pub type DeleteFn = fn(&mut DbConn, &View, Uuid) -> Result<()>;

/// A table's records, read and written through the domain's own functions (so the same rules
/// hold as in the REST API: scope, roles, validation, audit, verification).
pub struct Table<R: 'static> {
    pub name: &'static str,
    /// The schema version that added the table.
    pub since: u32,
    /// Whose records a phone holds, in one sentence (published with the schema and in the docs).
    pub scope: &'static str,
    pub columns: &'static [Column<R>],
    pub id: fn(&R) -> String,
    /// The records of the caller's scope changed in `(after, upto]` of the change feed.
    pub changed: fn(&mut DbConn, &View, i64, i64) -> Result<Vec<R>>,
    /// One record, if the caller may read it (`NotFound` otherwise).
    pub get: fn(&mut DbConn, &View, Uuid) -> Result<R>,
    /// Ids the caller's phone must drop in `(after, upto]`, for a table that does not leave its
    /// deletions in the shared tombstones.
    pub deleted: Option<DeletedFn>,
    pub create: Option<CreateFn>,
    pub update: Option<UpdateFn>,
    pub delete: Option<DeleteFn>,
}

/// What the pull and the push need of a table, whatever its record type.
pub trait Synced: Send + Sync {
    fn name(&self) -> &'static str;
    fn since(&self) -> u32;
    fn scope(&self) -> &'static str;
    fn access(&self) -> Access;
    fn columns(&self) -> Vec<ColumnSpec>;
    /// Changed records, rendered for a phone of schema `version`.
    fn changed(&self, conn: &mut DbConn, view: &View, after: i64, upto: i64, version: u32) -> Result<Vec<Row>>;
    fn deleted(&self, conn: &mut DbConn, view: &View, after: i64, upto: i64) -> Option<Result<Vec<String>>>;
    /// One record as the caller's phone would hold it; `None` when absent or not the caller's.
    fn read(&self, conn: &mut DbConn, view: &View, id: Uuid, version: u32) -> Result<Option<Row>>;
    fn create(&self, conn: &mut DbConn, view: &View, id: Uuid, values: &Pushed) -> Result<Created<()>>;
    fn update(&self, conn: &mut DbConn, view: &View, id: Uuid, values: &Pushed) -> Result<Updated>;
    fn delete(&self, conn: &mut DbConn, view: &View, id: Uuid) -> Result<()>;
}

/// The refusal of a change to a table the phone only reads.
pub fn read_only(table: &str) -> DomainError {
    DomainError::forbidden(
        crate::domain::ErrorCode::RoleNotAllowed,
        format!("{table} are read-only on the phone: change them in the app's online screens"),
    )
}

impl<R: Send + Sync + 'static> Synced for Table<R> {
    fn name(&self) -> &'static str {
        self.name
    }
    fn since(&self) -> u32 {
        self.since
    }
    fn scope(&self) -> &'static str {
        self.scope
    }
    fn access(&self) -> Access {
        Access { create: self.create.is_some(), update: self.update.is_some(), delete: self.delete.is_some() }
    }
    fn columns(&self) -> Vec<ColumnSpec> {
        self.columns.iter().map(Column::spec).collect()
    }
    fn changed(&self, conn: &mut DbConn, view: &View, after: i64, upto: i64, version: u32) -> Result<Vec<Row>> {
        let records = (self.changed)(conn, view, after, upto)?;
        Ok(records.iter().map(|r| render(&(self.id)(r), self.columns, r, view, version)).collect())
    }
    fn deleted(&self, conn: &mut DbConn, view: &View, after: i64, upto: i64) -> Option<Result<Vec<String>>> {
        self.deleted.map(|f| f(conn, view, after, upto))
    }
    fn read(&self, conn: &mut DbConn, view: &View, id: Uuid, version: u32) -> Result<Option<Row>> {
        match (self.get)(conn, view, id) {
            Ok(r) => Ok(Some(render(&(self.id)(&r), self.columns, &r, view, version))),
            Err(DomainError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }
    fn create(&self, conn: &mut DbConn, view: &View, id: Uuid, values: &Pushed) -> Result<Created<()>> {
        self.create.ok_or_else(|| read_only(self.name))?(conn, view, id, values)
    }
    fn update(&self, conn: &mut DbConn, view: &View, id: Uuid, values: &Pushed) -> Result<Updated> {
        self.update.ok_or_else(|| read_only(self.name))?(conn, view, id, values)
    }
    fn delete(&self, conn: &mut DbConn, view: &View, id: Uuid) -> Result<()> {
        self.delete.ok_or_else(|| read_only(self.name))?(conn, view, id)
    }
}
