//! How a synced table is declared, once: its columns (name, WatermelonDB type, optional, indexed,
//! the schema version that added it), which of them a phone may write, and how each is read off
//! the domain's record. The pull feed, the push decoder, the published schema and docs/SYNC.md's
//! tables are all derived from these declarations (`tables/` holds one per table).

pub mod entity;
pub mod pushed;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::domain::Actor;
use crate::domain::field::verification::Thresholds;
use crate::geo::{Datum, LatLon};

/// A record as the phone holds it: flat columns of string, number, boolean or null.
pub type Row = serde_json::Map<String, Value>;

/// WatermelonDB's three column types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnType {
    String,
    Number,
    Boolean,
}

/// Who writes a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    /// The server: computed, or managed (ids of the author, versions, times, verdicts).
    Server,
    /// The phone, when it creates the record; evidence that never changes after (where and when
    /// a visit happened).
    OnCreate,
    /// The phone, on create and on update (the domain's rules still decide who may).
    Always,
}

/// What a phone may do to a table's records at all; finer rules (whose records, which roles) are
/// the domain's, applied to every change as to the REST API's.
#[derive(Debug, Clone, Copy)]
pub struct Access {
    pub create: bool,
    pub update: bool,
    pub delete: bool,
}

impl Access {
    pub const READ_ONLY: Access = Access { create: false, update: false, delete: false };
    pub const ALL: Access = Access { create: true, update: true, delete: true };
}

/// Who is syncing, and how they read positions and days.
#[derive(Debug, Clone)]
pub struct View {
    pub actor: Actor,
    /// The datum of every `lat`/`lon` column, both ways (`?coord=`).
    pub datum: Datum,
    /// The caller's day in their branch's time zone (what is overdue).
    pub today: NaiveDate,
    pub thresholds: Thresholds,
}

impl View {
    /// The caller's view, with their branch's day.
    pub fn new(
        conn: &mut crate::store::DbConn,
        actor: Actor,
        datum: Datum,
        thresholds: Thresholds,
    ) -> Result<View, crate::store::StoreError> {
        let zone = match actor.branch_id() {
            Some(branch) => crate::store::projects::projects::branch_time_zone(conn, branch)?,
            None => crate::domain::common::calendar::DEFAULT_TIME_ZONE.to_owned(),
        };
        let today = crate::domain::common::calendar::Clock::new(&zone).today();
        Ok(View { actor, datum, today, thresholds })
    }

    /// The path prefix of the caller's scope (`None`: every branch).
    pub fn scope_prefix(&self) -> Option<String> {
        self.actor.scope().path_prefix()
    }

    /// The account manager whose own records alone their phone holds (visits, leads); `None`
    /// for the other roles, who hold their subtree's.
    pub fn own_user(&self) -> Option<String> {
        (self.actor.role == crate::domain::Role::AccountManager).then(|| self.actor.user_id.to_string())
    }

    /// A stored WGS-84 position in the caller's datum.
    pub fn position(&self, p: LatLon) -> LatLon {
        self.datum.from_wgs84(p)
    }
}

/// One column of a synced table.
pub struct Column<R: 'static> {
    pub name: &'static str,
    pub kind: ColumnType,
    pub optional: bool,
    pub indexed: bool,
    /// The schema version that added it (1: from the start).
    pub since: u32,
    pub write: Write,
    pub read: fn(&R, &View) -> Value,
}

impl<R> Column<R> {
    const fn new(name: &'static str, kind: ColumnType, read: fn(&R, &View) -> Value) -> Self {
        Column { name, kind, optional: false, indexed: false, since: 1, write: Write::Server, read }
    }
    pub const fn string(name: &'static str, read: fn(&R, &View) -> Value) -> Self {
        Column::new(name, ColumnType::String, read)
    }
    pub const fn number(name: &'static str, read: fn(&R, &View) -> Value) -> Self {
        Column::new(name, ColumnType::Number, read)
    }
    pub const fn boolean(name: &'static str, read: fn(&R, &View) -> Value) -> Self {
        Column::new(name, ColumnType::Boolean, read)
    }
    pub const fn optional(self) -> Self {
        Column { optional: true, ..self }
    }
    pub const fn indexed(self) -> Self {
        Column { indexed: true, ..self }
    }
    pub const fn since(self, version: u32) -> Self {
        Column { since: version, ..self }
    }
    pub const fn on_create(self) -> Self {
        Column { write: Write::OnCreate, ..self }
    }
    pub const fn writable(self) -> Self {
        Column { write: Write::Always, ..self }
    }
    pub fn spec(&self) -> ColumnSpec {
        ColumnSpec {
            name: self.name,
            kind: self.kind,
            optional: self.optional,
            indexed: self.indexed,
            since: self.since,
            write: self.write,
        }
    }
}

/// A column without its reader: what the schema, the push decoder and the docs need.
#[derive(Debug, Clone, Copy)]
pub struct ColumnSpec {
    pub name: &'static str,
    pub kind: ColumnType,
    pub optional: bool,
    pub indexed: bool,
    pub since: u32,
    pub write: Write,
}

/// The record as a phone of schema `version` holds it: the columns it knows, and its `id`.
pub fn render<R>(id: &str, columns: &[Column<R>], record: &R, view: &View, version: u32) -> Row {
    let mut row = Row::new();
    row.insert("id".to_owned(), Value::from(id));
    for c in columns.iter().filter(|c| c.since <= version) {
        row.insert(c.name.to_owned(), (c.read)(record, view));
    }
    row
}

// Readers' vocabulary: how a value of the domain becomes a column.

/// A time as WatermelonDB keeps it: epoch milliseconds.
pub fn millis(t: DateTime<Utc>) -> Value {
    Value::from(t.timestamp_millis())
}

pub fn opt_millis(t: Option<DateTime<Utc>>) -> Value {
    t.map_or(Value::Null, millis)
}

/// A list or an object, as a JSON-string column (WatermelonDB columns hold no nested values).
pub fn json_text<T: Serialize>(value: &T) -> Value {
    Value::from(serde_json::to_string(value).unwrap_or_default())
}

pub fn text(s: &str) -> Value {
    Value::from(s)
}

pub fn opt_text<S: AsRef<str>>(s: Option<S>) -> Value {
    s.map_or(Value::Null, |s| Value::from(s.as_ref()))
}

pub fn id_text<T: ToString>(id: T) -> Value {
    Value::from(id.to_string())
}

pub fn opt_id<T: ToString>(id: Option<T>) -> Value {
    id.map_or(Value::Null, |id| Value::from(id.to_string()))
}

/// A float as a JSON number; a non-finite one (never stored) as null.
pub fn float(x: f64) -> Value {
    serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
}

pub fn opt_float(x: Option<f64>) -> Value {
    x.map_or(Value::Null, float)
}
