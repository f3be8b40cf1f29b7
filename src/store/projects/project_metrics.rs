//! The records a segment project counts, aggregated in SQL so progress stays fast on big projects.
//! Windows are half-open UTC instants `[from, to)`; the domain turns local days into them.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::dsl::{count_star, sum};
use diesel::prelude::*;

use crate::store::schema::{event_steps, events, leads, project_visit_days, registrations, visits};
use crate::store::{DbConn, StoreError};

pub type Window = (NaiveDateTime, NaiveDateTime);

/// `SUM(CASE WHEN verified …)`: the verified count in the same pass as the total (portable: a
/// boolean is 0/1 in SQLite and `verified` reads as a condition in both).
pub(crate) fn verified_count() -> diesel::expression::SqlLiteral<diesel::sql_types::BigInt> {
    diesel::dsl::sql::<diesel::sql_types::BigInt>("SUM(CASE WHEN verified THEN 1 ELSE 0 END)")
}

/// Per visitor: (visits, verified visits) on the local days `[first, last]`, from the day counters.
pub fn visits(
    conn: &mut DbConn,
    project_id: &str,
    first: NaiveDate,
    last: NaiveDate,
) -> Result<Vec<(String, i64, i64)>, StoreError> {
    let rows: Vec<(String, Option<i64>, Option<i64>)> = project_visit_days::table
        .filter(project_visit_days::project_id.eq(project_id))
        .filter(project_visit_days::day.between(first, last))
        .group_by(project_visit_days::user_id)
        .select((project_visit_days::user_id, sum(project_visit_days::visits), sum(project_visit_days::verified)))
        .load(conn)?;
    Ok(rows.into_iter().map(|(u, n, v)| (u, n.unwrap_or(0), v.unwrap_or(0))).collect())
}

/// Adds to a visitor's day counters (negative to take away), creating the row when needed.
pub fn bump_visit_day(
    conn: &mut DbConn,
    project_id: &str,
    user_id: &str,
    day: NaiveDate,
    visits: i32,
    verified: i32,
) -> Result<(), StoreError> {
    use diesel::sql_types::{Date, Integer, Text};
    diesel::sql_query(
        "INSERT INTO project_visit_days (project_id, user_id, day, visits, verified) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (project_id, day, user_id) DO UPDATE \
         SET visits = project_visit_days.visits + excluded.visits, \
             verified = project_visit_days.verified + excluded.verified",
    )
    .bind::<Text, _>(project_id)
    .bind::<Text, _>(user_id)
    .bind::<Date, _>(day)
    .bind::<Integer, _>(visits)
    .bind::<Integer, _>(verified)
    .execute(conn)?;
    Ok(())
}

/// The live visits of a project as (visitor, when, verified): to rebuild its day counters.
pub fn project_visits(conn: &mut DbConn, project_id: &str) -> Result<Vec<(String, NaiveDateTime, bool)>, StoreError> {
    Ok(visits::table
        .filter(visits::project_id.eq(project_id))
        .filter(visits::deleted_at.is_null())
        .select((visits::user_id, visits::visited_at, visits::verified))
        .load(conn)?)
}

/// Replaces a project's day counters.
pub fn replace_visit_days(
    conn: &mut DbConn,
    project_id: &str,
    rows: &[(String, NaiveDate, i32, i32)],
) -> Result<(), StoreError> {
    diesel::delete(project_visit_days::table.filter(project_visit_days::project_id.eq(project_id))).execute(conn)?;
    for (user, day, visits, verified) in rows {
        bump_visit_day(conn, project_id, user, *day, *visits, *verified)?;
    }
    Ok(())
}

/// A project event as the counts need it.
#[derive(Debug, Clone)]
pub struct ProjectEvent {
    pub id: String,
    pub owner_id: String,
    pub starts_at: NaiveDateTime,
    /// Not cancelled and its `host` step complete.
    pub held: bool,
}

pub fn project_events(conn: &mut DbConn, project_id: &str) -> Result<Vec<ProjectEvent>, StoreError> {
    let rows: Vec<(String, String, NaiveDateTime, String)> = events::table
        .filter(events::project_id.eq(project_id))
        .filter(events::deleted_at.is_null())
        .select((events::id, events::owner_id, events::starts_at, events::status))
        .load(conn)?;
    let ids: Vec<&String> = rows.iter().map(|r| &r.0).collect();
    let hosted: Vec<String> = event_steps::table
        .filter(event_steps::event_id.eq_any(ids))
        .filter(event_steps::step.eq("host"))
        .filter(event_steps::completed_at.is_not_null())
        .select(event_steps::event_id)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, owner_id, starts_at, status)| {
            let held = status != "cancelled" && hosted.contains(&id);
            ProjectEvent { id, owner_id, starts_at, held }
        })
        .collect())
}

/// Per event: registrations (not cancelled, not withdrawn) made inside the window.
pub fn registrations(conn: &mut DbConn, event_ids: &[String], w: Window) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(registrations::table
        .filter(registrations::event_id.eq_any(event_ids))
        .filter(registrations::status.ne("cancelled"))
        .filter(registrations::erased_at.is_null())
        .filter(registrations::registered_at.ge(w.0))
        .filter(registrations::registered_at.lt(w.1))
        .group_by(registrations::event_id)
        .select((registrations::event_id, count_star()))
        .load(conn)?)
}

/// Per event: check-ins (of attendees who did not withdraw) inside the window.
pub fn checkins(conn: &mut DbConn, event_ids: &[String], w: Window) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(registrations::table
        .filter(registrations::event_id.eq_any(event_ids))
        .filter(registrations::erased_at.is_null())
        .filter(registrations::checked_in_at.ge(w.0))
        .filter(registrations::checked_in_at.lt(w.1))
        .group_by(registrations::event_id)
        .select((registrations::event_id, count_star()))
        .load(conn)?)
}

/// Per owner: leads of the project created inside the window.
pub fn new_leads(conn: &mut DbConn, project_id: &str, w: Window) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(leads::table
        .filter(leads::project_id.eq(project_id))
        .filter(leads::created_at.ge(w.0))
        .filter(leads::created_at.lt(w.1))
        .group_by(leads::owner_id)
        .select((leads::owner_id, count_star()))
        .load(conn)?)
}

/// Per owner and segment: conversions inside the window and their amount in fen.
pub fn conversions(
    conn: &mut DbConn,
    project_id: &str,
    w: Window,
) -> Result<Vec<(String, String, i64, i64)>, StoreError> {
    let rows: Vec<(String, String, Option<i64>)> = leads::table
        .filter(leads::project_id.eq(project_id))
        .filter(leads::status.eq("converted"))
        .filter(leads::conversion_confirmed_at.is_not_null())
        .filter(leads::converted_at.ge(w.0))
        .filter(leads::converted_at.lt(w.1))
        .select((leads::owner_id, leads::segment, leads::converted_amount_fen))
        .load(conn)?;
    // Conversions are few next to visits; summing here keeps exact integers on both backends
    // (PostgreSQL's SUM of a BIGINT is NUMERIC).
    let mut out: Vec<(String, String, i64, i64)> = Vec::new();
    for (owner, segment, fen) in rows {
        match out.iter_mut().find(|(o, s, ..)| *o == owner && *s == segment) {
            Some(slot) => {
                slot.2 += 1;
                slot.3 += fen.unwrap_or(0);
            }
            None => out.push((owner, segment, 1, fen.unwrap_or(0))),
        }
    }
    Ok(out)
}

/// One dated record of the project, for day-by-day tables: (metric, user, when, amount).
pub type Dated = (&'static str, String, NaiveDateTime, f64);

/// Every counted record inside the window with its time, for the daily accumulation table.
pub fn timeline(conn: &mut DbConn, project_id: &str, w: Window) -> Result<Vec<Dated>, StoreError> {
    let mut out: Vec<Dated> = Vec::new();
    let rows: Vec<(String, NaiveDateTime, bool)> = visits::table
        .filter(visits::project_id.eq(project_id))
        .filter(visits::deleted_at.is_null())
        .filter(visits::visited_at.ge(w.0))
        .filter(visits::visited_at.lt(w.1))
        .select((visits::user_id, visits::visited_at, visits::verified))
        .load(conn)?;
    for (user, at, verified) in rows {
        if verified {
            out.push(("verified_visits", user.clone(), at, 1.0));
        }
        out.push(("visits", user, at, 1.0));
    }
    let events = project_events(conn, project_id)?;
    let ids: Vec<String> = events.iter().map(|e| e.id.clone()).collect();
    let owner = |event: &str| events.iter().find(|e| e.id == event).map(|e| e.owner_id.clone()).unwrap_or_default();
    for e in events.iter().filter(|e| e.held && e.starts_at >= w.0 && e.starts_at < w.1) {
        out.push(("events_held", e.owner_id.clone(), e.starts_at, 1.0));
    }
    let regs: Vec<(String, String, NaiveDateTime, Option<NaiveDateTime>)> = registrations::table
        .filter(registrations::event_id.eq_any(&ids))
        .filter(registrations::status.ne("cancelled"))
        .filter(registrations::erased_at.is_null())
        .select((
            registrations::id,
            registrations::event_id,
            registrations::registered_at,
            registrations::checked_in_at,
        ))
        .load(conn)?;
    for (_, event, registered_at, checked_in_at) in regs {
        if registered_at >= w.0 && registered_at < w.1 {
            out.push(("registrations", owner(&event), registered_at, 1.0));
        }
        if let Some(at) = checked_in_at.filter(|at| *at >= w.0 && *at < w.1) {
            out.push(("checkins", owner(&event), at, 1.0));
        }
    }
    type LeadTimes = (String, NaiveDateTime, String, String, Option<NaiveDateTime>, Option<i64>, bool);
    let leads: Vec<LeadTimes> = leads::table
        .filter(leads::project_id.eq(project_id))
        .select((
            leads::owner_id,
            leads::created_at,
            leads::status,
            leads::segment,
            leads::converted_at,
            leads::converted_amount_fen,
            leads::conversion_confirmed_at.is_not_null(),
        ))
        .load(conn)?;
    for (owner, created_at, status, segment, converted_at, fen, confirmed) in leads {
        // A conversion waiting for a manager's confirmation does not count yet.
        let converted_at = converted_at.filter(|_| confirmed);
        if created_at >= w.0 && created_at < w.1 {
            out.push(("new_leads", owner.clone(), created_at, 1.0));
        }
        if let Some(at) = converted_at.filter(|at| status == "converted" && *at >= w.0 && *at < w.1) {
            out.push(("conversions", owner.clone(), at, 1.0));
            if segment != "existing" {
                out.push(("new_customers", owner.clone(), at, 1.0));
            }
            out.push(("converted_amount", owner, at, fen.unwrap_or(0) as f64 / 100.0));
        }
    }
    Ok(out)
}
