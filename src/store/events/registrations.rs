use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::store::schema::{events, registrations};
use crate::store::{DbConn, StoreError, sync};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = registrations)]
pub struct RegistrationRow {
    pub id: String,
    pub event_id: String,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub ticket_code: String,
    pub status: String,
    pub consent_version: String,
    pub consent_at: NaiveDateTime,
    pub registered_at: NaiveDateTime,
    pub checked_in_at: Option<NaiveDateTime>,
    pub checked_in_by: Option<String>,
    pub erased_at: Option<NaiveDateTime>,
    pub lead_id: Option<String>,
    /// SHA-256 (hex) of the ticket page's secret; none on registrations made before it existed.
    pub ticket_hash: Option<String>,
}

// Every write of a registration takes a change number for the phones that check attendees in
// (call these inside the write's transaction, like `sync::next_seq`).

pub fn insert(conn: &mut DbConn, row: &RegistrationRow) -> Result<(), StoreError> {
    let seq = sync::next_seq(conn)?;
    on_backend!(conn, |c| diesel::insert_into(registrations::table)
        .values((row, registrations::seq.eq(seq)))
        .execute(c))?;
    Ok(())
}

/// Many rows per statement, for seeding and benchmarks.
pub fn insert_many(conn: &mut DbConn, rows: &[RegistrationRow]) -> Result<(), StoreError> {
    // 13 columns × 1000 rows stays below both backends' bound-parameter limits.
    for chunk in rows.chunks(1000) {
        on_backend!(conn, |c| diesel::insert_into(registrations::table).values(chunk).execute(c))?;
    }
    Ok(())
}

pub fn find_by_phone(conn: &mut DbConn, event_id: &str, phone: &str) -> Result<Option<RegistrationRow>, StoreError> {
    Ok(registrations::table
        .filter(registrations::event_id.eq(event_id))
        .filter(registrations::phone.eq(phone))
        .select(RegistrationRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_by_ticket(conn: &mut DbConn, ticket: &str) -> Result<Option<RegistrationRow>, StoreError> {
    Ok(registrations::table
        .filter(registrations::ticket_code.eq(ticket))
        .select(RegistrationRow::as_select())
        .first(conn)
        .optional()?)
}

/// The registration whose ticket secret hashes to this (unique: 144 random bits).
pub fn find_by_ticket_hash(conn: &mut DbConn, hash: &str) -> Result<Option<RegistrationRow>, StoreError> {
    Ok(registrations::table
        .filter(registrations::ticket_hash.eq(hash))
        .select(RegistrationRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn set_status(conn: &mut DbConn, id: &str, status: &str) -> Result<(), StoreError> {
    let seq = sync::next_seq(conn)?;
    diesel::update(registrations::table.find(id))
        .set((registrations::status.eq(status), registrations::seq.eq(seq)))
        .execute(conn)?;
    Ok(())
}

/// The first waitlisted attendee of an event, by registration time.
pub fn first_waitlisted(conn: &mut DbConn, event_id: &str) -> Result<Option<RegistrationRow>, StoreError> {
    Ok(registrations::table
        .filter(registrations::event_id.eq(event_id))
        .filter(registrations::status.eq("waitlisted"))
        .select(RegistrationRow::as_select())
        .order((registrations::registered_at.asc(), registrations::id.asc()))
        .first(conn)
        .optional()?)
}

/// Takes a place if one is free: one conditional UPDATE, atomic on both databases, so
/// concurrent registrations can never exceed the capacity.
pub fn take_place(conn: &mut DbConn, event_id: &str) -> Result<bool, StoreError> {
    let n = diesel::update(
        events::table.filter(events::id.eq(event_id)).filter(events::registered_count.lt(events::capacity)),
    )
    .set(events::registered_count.eq(events::registered_count + 1))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn free_place(conn: &mut DbConn, event_id: &str) -> Result<(), StoreError> {
    diesel::update(events::table.filter(events::id.eq(event_id)).filter(events::registered_count.gt(0)))
        .set(events::registered_count.eq(events::registered_count - 1))
        .execute(conn)?;
    Ok(())
}

pub fn count_waitlisted_before(conn: &mut DbConn, event_id: &str, at: NaiveDateTime) -> Result<i64, StoreError> {
    Ok(registrations::table
        .filter(registrations::event_id.eq(event_id))
        .filter(registrations::status.eq("waitlisted"))
        .filter(registrations::registered_at.lt(at))
        .count()
        .get_result(conn)?)
}

/// Removes a cancelled registration row that a new registration of the same phone replaces,
/// leaving a tombstone in the event's subtree for the phones that hold it.
pub fn erase_row(conn: &mut DbConn, id: &str) -> Result<(), StoreError> {
    let path: Option<String> = registrations::table
        .inner_join(events::table.on(events::id.eq(registrations::event_id)))
        .filter(registrations::id.eq(id))
        .select(events::org_path)
        .first(conn)
        .optional()?;
    if let Some(path) = path {
        let seq = sync::next_seq(conn)?;
        sync::tombstone(conn, seq, "event_attendees", crate::store::uuid_col(id)?, &path, None)?;
    }
    diesel::delete(registrations::table.find(id)).execute(conn)?;
    Ok(())
}

/// Records a check-in (and the lead it fed) on a registration not yet checked in; `false` when
/// another scan got there first.
pub fn check_in(conn: &mut DbConn, id: &str, at: NaiveDateTime, by: &str, lead_id: &str) -> Result<bool, StoreError> {
    let seq = sync::next_seq(conn)?;
    let n = diesel::update(
        registrations::table.filter(registrations::id.eq(id)).filter(registrations::checked_in_at.is_null()),
    )
    .set((
        registrations::checked_in_at.eq(Some(at)),
        registrations::checked_in_by.eq(Some(by)),
        registrations::lead_id.eq(Some(lead_id)),
        registrations::seq.eq(seq),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// An event's registrations, in registration order.
pub fn of_event(conn: &mut DbConn, event_id: &str) -> Result<Vec<RegistrationRow>, StoreError> {
    Ok(registrations::table
        .filter(registrations::event_id.eq(event_id))
        .select(RegistrationRow::as_select())
        .order((registrations::registered_at.asc(), registrations::id.asc()))
        .load(conn)?)
}

/// (checked in, leads fed, leads converted) for an event's review figures.
pub fn attendance(conn: &mut DbConn, event_id: &str) -> Result<(i64, i64, i64), StoreError> {
    use crate::store::schema::leads;
    let checked: i64 = registrations::table
        .filter(registrations::event_id.eq(event_id))
        .filter(registrations::checked_in_at.is_not_null())
        .count()
        .get_result(conn)?;
    let leads: i64 = registrations::table
        .filter(registrations::event_id.eq(event_id))
        .filter(registrations::lead_id.is_not_null())
        .count()
        .get_result(conn)?;
    let converted: i64 = registrations::table
        .inner_join(leads::table.on(leads::id.nullable().eq(registrations::lead_id)))
        .filter(registrations::event_id.eq(event_id))
        .filter(leads::status.eq("converted"))
        .filter(leads::conversion_confirmed_at.is_not_null())
        .count()
        .get_result(conn)?;
    Ok((checked, leads, converted))
}

/// Erases an attendee's personal data, keeping the row (and its status) for the figures.
pub fn erase(conn: &mut DbConn, id: &str, at: NaiveDateTime) -> Result<(), StoreError> {
    let seq = sync::next_seq(conn)?;
    diesel::update(registrations::table.find(id))
        .set((
            registrations::seq.eq(seq),
            registrations::name.eq(None::<String>),
            registrations::phone.eq(None::<String>),
            registrations::erased_at.eq(Some(at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Erases, for every event that ended more than its retention ago, the attendees who did not
/// become leads. Returns how many were erased.
pub fn purge_expired(conn: &mut DbConn, now: NaiveDateTime) -> Result<usize, StoreError> {
    let candidates: Vec<(String, NaiveDateTime, i32)> = registrations::table
        .inner_join(events::table.on(events::id.eq(registrations::event_id)))
        .filter(registrations::erased_at.is_null())
        .filter(registrations::lead_id.is_null())
        .filter(events::ends_at.lt(now))
        .select((registrations::id, events::ends_at, events::retention_days))
        .load(conn)?;
    let mut erased = 0;
    for (id, ends_at, days) in candidates {
        if ends_at + chrono::TimeDelta::days(i64::from(days)) < now {
            erase(conn, &id, now)?;
            erased += 1;
        }
    }
    Ok(erased)
}

/// Registrations of the live events of a subtree changed in `(after, upto]`, with their event's
/// owner and branch (who may read the phone in full).
pub fn changed_since(
    conn: &mut DbConn,
    path_prefix: Option<&str>,
    after: i64,
    upto: i64,
) -> Result<Vec<(RegistrationRow, String, String)>, StoreError> {
    if after < 0 {
        return all_of_subtree(conn, path_prefix, upto);
    }
    // An increment: the few newest changes, through `seq`.
    let mut query = registrations::table
        .inner_join(events::table.on(events::id.eq(registrations::event_id)))
        .select((RegistrationRow::as_select(), events::owner_id, events::branch_id))
        .filter(registrations::seq.gt(after))
        .filter(registrations::seq.le(upto))
        .filter(events::deleted_at.is_null())
        .into_boxed();
    if let Some(prefix) = path_prefix {
        query = query.filter(events::org_path.like(format!("{prefix}%")));
    }
    Ok(query.order(registrations::seq.asc()).load(conn)?)
}

/// A first sync: from the subtree's events (through their path) to their registrations (through
/// `event_id`), instead of every registration of the database in change order.
fn all_of_subtree(
    conn: &mut DbConn,
    path_prefix: Option<&str>,
    upto: i64,
) -> Result<Vec<(RegistrationRow, String, String)>, StoreError> {
    let events: std::collections::HashMap<String, (String, String)> =
        super::events::live_of_subtree(conn, path_prefix)?.into_iter().map(|(id, o, b)| (id, (o, b))).collect();
    let ids: Vec<String> = events.keys().cloned().collect();
    let mut out = Vec::new();
    for row in of_events(conn, &ids, upto)? {
        if let Some((owner, branch)) = events.get(&row.event_id) {
            out.push((row, owner.clone(), branch.clone()));
        }
    }
    Ok(out)
}

/// The registrations of these events numbered up to `upto`.
fn of_events(conn: &mut DbConn, events: &[String], upto: i64) -> Result<Vec<RegistrationRow>, StoreError> {
    let mut out = Vec::new();
    for chunk in events.chunks(500) {
        out.extend(
            registrations::table
                .select(RegistrationRow::as_select())
                .filter(registrations::event_id.eq_any(chunk))
                .filter(registrations::seq.le(upto))
                .load::<RegistrationRow>(conn)?,
        );
    }
    Ok(out)
}

/// The registrations of the events of a subtree deleted in `(after, upto]`.
pub fn of_deleted_since(
    conn: &mut DbConn,
    path_prefix: Option<&str>,
    after: i64,
    upto: i64,
) -> Result<Vec<String>, StoreError> {
    let events = super::events::deleted_since(conn, path_prefix, after, upto)?;
    Ok(of_events(conn, &events, i64::MAX)?.into_iter().map(|r| r.id).collect())
}

pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<RegistrationRow>, StoreError> {
    Ok(registrations::table.find(id).select(RegistrationRow::as_select()).first(conn).optional()?)
}
