//! The narrow rows the map's in-memory index is built from and kept current with: a full load
//! in keyset pages, and everything changed in a range of sync change numbers.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{events, leads, partners, sync_tombstones, visits};
use super::{DbConn, StoreError};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = partners)]
pub struct PartnerPoint {
    pub id: String,
    pub org_path: String,
    pub owner_id: String,
    pub name: String,
    pub category: String,
    pub status: String,
    pub lat: f64,
    pub lon: f64,
    pub visit_cadence_days: i32,
    pub created_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
    pub seq: i64,
    pub created_seq: i64,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = visits)]
pub struct VisitPoint {
    pub id: String,
    pub org_path: String,
    pub user_id: String,
    pub partner_id: Option<String>,
    pub project_id: Option<String>,
    pub visited_at: NaiveDateTime,
    pub lat: f64,
    pub lon: f64,
    pub verified: bool,
    pub deleted_at: Option<NaiveDateTime>,
    pub seq: i64,
    pub created_seq: i64,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = events)]
pub struct EventPoint {
    pub id: String,
    pub org_path: String,
    pub owner_id: String,
    pub partner_id: String,
    pub project_id: Option<String>,
    pub title: String,
    pub status: String,
    pub starts_at: NaiveDateTime,
    pub lat: f64,
    pub lon: f64,
    pub deleted_at: Option<NaiveDateTime>,
    pub seq: i64,
    pub created_seq: i64,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = leads)]
pub struct LeadPoint {
    pub id: String,
    pub org_path: String,
    pub owner_id: String,
    pub partner_id: Option<String>,
    pub project_id: Option<String>,
    pub source: String,
    pub source_id: Option<String>,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub converted_at: Option<NaiveDateTime>,
    pub do_not_contact: bool,
    pub seq: i64,
    pub created_seq: i64,
}

/// Rows changed in `(after, upto]` by change number, or — with `after = None` — a page of every
/// row after the key `from` (keyset paging keeps memory flat while a million rows load).
pub enum Slice<'a> {
    Changed { after: i64, upto: i64 },
    Page { from: &'a str, size: i64 },
}

macro_rules! load_slice {
    ($fn:ident, $table:ident, $row:ty) => {
        pub fn $fn(conn: &mut DbConn, slice: Slice<'_>) -> Result<Vec<$row>, StoreError> {
            let query = $table::table.select(<$row>::as_select()).into_boxed();
            let query = match slice {
                Slice::Changed { after, upto } => {
                    query.filter($table::seq.gt(after)).filter($table::seq.le(upto)).order($table::seq.asc())
                }
                Slice::Page { from, size } => {
                    query.filter($table::id.gt(from.to_owned())).order($table::id.asc()).limit(size)
                }
            };
            Ok(query.load(conn)?)
        }
    };
}

load_slice!(partners, partners, PartnerPoint);
load_slice!(visits, visits, VisitPoint);
load_slice!(events, events, EventPoint);
load_slice!(leads, leads, LeadPoint);

/// Ids of leads erased in `(after, upto]`. (Partners, visits and events are deleted softly: their
/// rows say so.)
/// The feed's horizon (`sync::horizon`) and whether anything the map shows changed in
/// `(after, horizon]`, in one statement. On PostgreSQL the horizon moves with every transaction
/// of the cluster, most of them nobody's map cares about: asking both at once lets the index skip
/// a catch-up that would read nothing, at no extra round trip. On SQLite the horizon moves only
/// with this database's changes: `true`.
pub fn horizon_and_news(conn: &mut DbConn, after: i64) -> Result<(i64, bool), StoreError> {
    #[derive(diesel::QueryableByName)]
    struct Answer {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        head: i64,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        news: bool,
    }
    match conn {
        DbConn::Postgres(c) => {
            use crate::store::sync::{HORIZON_WAIT_MS, XID_SHIFT};
            let changed = |table: &str| format!("EXISTS (SELECT 1 FROM {table} WHERE seq > $1 AND seq <= h.head)");
            let sql = format!(
                "SELECT h.head, ({} OR {} OR {} OR {} OR EXISTS (SELECT 1 FROM sync_tombstones \
                 WHERE entity = 'leads' AND seq > $1 AND seq <= h.head)) AS news \
                 FROM (SELECT outreach_feed_horizon({XID_SHIFT}, {HORIZON_WAIT_MS}) AS head) AS h",
                changed("partners"),
                changed("visits"),
                changed("events"),
                changed("leads"),
            );
            let a: Answer = diesel::sql_query(sql).bind::<diesel::sql_types::BigInt, _>(after).get_result(c)?;
            Ok((a.head, a.news))
        }
        DbConn::Sqlite(_) => Ok((crate::store::sync::horizon(conn)?, true)),
    }
}

pub fn erased_leads(conn: &mut DbConn, after: i64, upto: i64) -> Result<Vec<String>, StoreError> {
    Ok(sync_tombstones::table
        .filter(sync_tombstones::seq.gt(after))
        .filter(sync_tombstones::seq.le(upto))
        .filter(sync_tombstones::entity.eq("leads"))
        .select(sync_tombstones::record_id)
        .load(conn)?)
}

/// Where a visit or an event took place, and at which partner: where leads from it are drawn.
#[derive(Debug, Clone)]
pub struct Place {
    pub id: String,
    pub lat: f64,
    pub lon: f64,
    pub partner_id: Option<String>,
}

pub fn visit_places(conn: &mut DbConn, ids: &[String]) -> Result<Vec<Place>, StoreError> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let rows: Vec<(String, f64, f64, Option<String>)> = visits::table
            .filter(visits::id.eq_any(chunk))
            .select((visits::id, visits::lat, visits::lon, visits::partner_id))
            .load(conn)?;
        out.extend(rows.into_iter().map(|(id, lat, lon, partner_id)| Place { id, lat, lon, partner_id }));
    }
    Ok(out)
}

pub fn event_places(conn: &mut DbConn, ids: &[String]) -> Result<Vec<Place>, StoreError> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let rows: Vec<(String, f64, f64, String)> = events::table
            .filter(events::id.eq_any(chunk))
            .select((events::id, events::lat, events::lon, events::partner_id))
            .load(conn)?;
        out.extend(rows.into_iter().map(|(id, lat, lon, partner_id)| Place {
            id,
            lat,
            lon,
            partner_id: Some(partner_id),
        }));
    }
    Ok(out)
}

pub fn partner_places(conn: &mut DbConn, ids: &[String]) -> Result<Vec<Place>, StoreError> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let rows: Vec<(String, f64, f64)> = partners::table
            .filter(partners::id.eq_any(chunk))
            .select((partners::id, partners::lat, partners::lon))
            .load(conn)?;
        out.extend(rows.into_iter().map(|(id, lat, lon)| Place { partner_id: Some(id.clone()), id, lat, lon }));
    }
    Ok(out)
}
