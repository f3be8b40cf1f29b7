//! The morning-meeting figures per user over one window, aggregated in SQL.

use chrono::NaiveDateTime;
use diesel::dsl::count_star;
use diesel::prelude::*;

use crate::store::schema::{event_steps, events, leads, partners, users, visits};
use crate::store::{DbConn, StoreError};

pub type Window = (NaiveDateTime, NaiveDateTime);

/// Active field staff and their managers under a path: (id, name, org unit).
pub fn people(conn: &mut DbConn, path_prefix: &str) -> Result<Vec<(String, String, Option<String>)>, StoreError> {
    Ok(users::table
        .filter(users::org_path.like(format!("{path_prefix}%")))
        .filter(users::active.eq(true))
        .filter(users::role.eq_any(["account_manager", "sub_branch_manager", "branch_manager"]))
        .select((users::id, users::name, users::org_unit_id))
        .order((users::org_path.asc(), users::name.asc(), users::id.asc()))
        .load(conn)?)
}

/// Per user: (visits, verified visits).
pub fn visits(conn: &mut DbConn, ids: &[String], w: Window) -> Result<Vec<(String, i64, i64)>, StoreError> {
    Ok(visits::table
        .filter(visits::user_id.eq_any(ids))
        .filter(visits::deleted_at.is_null())
        .filter(visits::visited_at.ge(w.0))
        .filter(visits::visited_at.lt(w.1))
        .group_by(visits::user_id)
        .select((visits::user_id, count_star(), crate::store::projects::project_metrics::verified_count()))
        .load(conn)?)
}

/// Per owner: events held (not cancelled, `host` step complete) that started inside the window.
pub fn events_held(conn: &mut DbConn, ids: &[String], w: Window) -> Result<Vec<(String, i64)>, StoreError> {
    let hosted = event_steps::table
        .filter(event_steps::step.eq("host"))
        .filter(event_steps::completed_at.is_not_null())
        .select(event_steps::event_id);
    Ok(events::table
        .filter(events::owner_id.eq_any(ids))
        .filter(events::deleted_at.is_null())
        .filter(events::status.ne("cancelled"))
        .filter(events::starts_at.ge(w.0))
        .filter(events::starts_at.lt(w.1))
        .filter(events::id.eq_any(hosted))
        .group_by(events::owner_id)
        .select((events::owner_id, count_star()))
        .load(conn)?)
}

pub fn new_leads(conn: &mut DbConn, ids: &[String], w: Window) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(leads::table
        .filter(leads::owner_id.eq_any(ids))
        .filter(leads::created_at.ge(w.0))
        .filter(leads::created_at.lt(w.1))
        .group_by(leads::owner_id)
        .select((leads::owner_id, count_star()))
        .load(conn)?)
}

/// Per owner: conversions inside the window and their amount in fen.
pub fn conversions(conn: &mut DbConn, ids: &[String], w: Window) -> Result<Vec<(String, i64, i64)>, StoreError> {
    let rows: Vec<(String, Option<i64>)> = leads::table
        .filter(leads::owner_id.eq_any(ids))
        .filter(leads::status.eq("converted"))
        .filter(leads::conversion_confirmed_at.is_not_null())
        .filter(leads::converted_at.ge(w.0))
        .filter(leads::converted_at.lt(w.1))
        .select((leads::owner_id, leads::converted_amount_fen))
        .load(conn)?;
    let mut out: Vec<(String, i64, i64)> = Vec::new();
    for (owner, fen) in rows {
        match out.iter_mut().find(|(o, ..)| *o == owner) {
            Some(slot) => {
                slot.1 += 1;
                slot.2 += fen.unwrap_or(0);
            }
            None => out.push((owner, 1, fen.unwrap_or(0))),
        }
    }
    Ok(out)
}

/// A visit whose next visit is planned inside the window.
#[derive(Debug, Clone, Queryable)]
pub struct Planned {
    pub visit_id: String,
    pub user_id: String,
    pub partner_id: Option<String>,
    pub partner_name: Option<String>,
    pub next_visit_at: Option<NaiveDateTime>,
    pub next_step: Option<String>,
}

pub fn planned(conn: &mut DbConn, ids: &[String], w: Window) -> Result<Vec<Planned>, StoreError> {
    Ok(visits::table
        .left_join(partners::table.on(partners::id.nullable().eq(visits::partner_id)))
        .filter(visits::user_id.eq_any(ids))
        .filter(visits::deleted_at.is_null())
        .filter(visits::next_visit_at.ge(w.0))
        .filter(visits::next_visit_at.lt(w.1))
        .select((
            visits::id,
            visits::user_id,
            visits::partner_id,
            partners::name.nullable(),
            visits::next_visit_at,
            visits::next_step,
        ))
        .order(visits::next_visit_at.asc())
        .load(conn)?)
}
