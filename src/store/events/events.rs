use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::store::schema::{event_steps, events};
use crate::store::{DbConn, Page, PageRequest, StoreError};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = events)]
pub struct EventRow {
    pub id: String,
    pub branch_id: String,
    pub org_unit_id: String,
    pub org_path: String,
    pub owner_id: String,
    pub partner_id: String,
    pub project_id: Option<String>,
    pub title: String,
    pub theme: String,
    pub description: String,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub venue: String,
    pub lat: f64,
    pub lon: f64,
    pub lat_band: i64,
    pub capacity: i32,
    pub registration_deadline: NaiveDateTime,
    pub registration_code: String,
    pub registration_open: bool,
    pub status: String,
    pub registered_count: i32,
    pub retention_days: i32,
    pub create_digest: String,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
    pub seq: i64,
    pub created_seq: i64,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = event_steps)]
pub struct StepRow {
    pub event_id: String,
    pub step: String,
    pub position: i32,
    pub checklist: String,
    pub due_at: NaiveDateTime,
    pub completed_at: Option<NaiveDateTime>,
    pub completed_by: Option<String>,
    pub notes: Option<String>,
    pub evidence: String,
    pub figures: Option<String>,
    /// The step's id on the phone (the table's key is the event and the step).
    pub sync_id: String,
}

#[derive(Debug, Default, Clone)]
pub struct EventFilter {
    pub path_prefix: Option<String>,
    pub owner_id: Option<String>,
    pub partner_id: Option<String>,
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
    pub status: Option<String>,
}

pub fn insert(conn: &mut DbConn, row: &EventRow, steps: &[StepRow]) -> Result<(), StoreError> {
    on_backend!(conn, |c| diesel::insert_into(events::table).values(row).execute(c))?;
    for step in steps {
        on_backend!(conn, |c| diesel::insert_into(event_steps::table)
            .values((step, event_steps::seq.eq(row.seq)))
            .execute(c))?;
    }
    Ok(())
}

pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<EventRow>, StoreError> {
    Ok(events::table.find(id).select(EventRow::as_select()).first(conn).optional()?)
}

pub fn find_by_code(conn: &mut DbConn, code: &str) -> Result<Option<EventRow>, StoreError> {
    Ok(events::table
        .filter(events::registration_code.eq(code))
        .filter(events::deleted_at.is_null())
        .select(EventRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn list(conn: &mut DbConn, filter: &EventFilter, page: &PageRequest) -> Result<Page<EventRow>, StoreError> {
    let mut query = events::table.select(EventRow::as_select()).filter(events::deleted_at.is_null()).into_boxed();
    if let Some(prefix) = &filter.path_prefix {
        query = query.filter(events::org_path.like(format!("{prefix}%")));
    }
    if let Some(v) = &filter.owner_id {
        query = query.filter(events::owner_id.eq(v.clone()));
    }
    if let Some(v) = &filter.partner_id {
        query = query.filter(events::partner_id.eq(v.clone()));
    }
    if let Some(v) = filter.from {
        query = query.filter(events::starts_at.ge(v));
    }
    if let Some(v) = filter.to {
        query = query.filter(events::starts_at.lt(v));
    }
    if let Some(v) = &filter.status {
        query = query.filter(events::status.eq(v.clone()));
    }
    if let Some(after) = &page.after {
        query = query.filter(events::id.gt(after.clone()));
    }
    let rows = query.order(events::id.asc()).limit(page.limit + 1).load(conn)?;
    Ok(page.page(rows, |r| &r.id))
}

/// Writes the editable fields if the row is still at `expected_version`.
pub fn replace(conn: &mut DbConn, row: &EventRow, expected_version: i64) -> Result<bool, StoreError> {
    let n = diesel::update(events::table.filter(events::id.eq(&row.id)).filter(events::version.eq(expected_version)))
        .set((
            events::title.eq(&row.title),
            events::theme.eq(&row.theme),
            events::description.eq(&row.description),
            events::starts_at.eq(row.starts_at),
            events::ends_at.eq(row.ends_at),
            events::venue.eq(&row.venue),
            events::lat.eq(row.lat),
            events::lon.eq(row.lon),
            events::lat_band.eq(row.lat_band),
            events::capacity.eq(row.capacity),
            events::registration_deadline.eq(row.registration_deadline),
            events::registration_open.eq(row.registration_open),
            events::status.eq(&row.status),
            events::project_id.eq(&row.project_id),
            events::version.eq(row.version),
            events::updated_at.eq(row.updated_at),
            events::deleted_at.eq(row.deleted_at),
            events::seq.eq(row.seq),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

pub fn steps_of(conn: &mut DbConn, event_id: &str) -> Result<Vec<StepRow>, StoreError> {
    Ok(event_steps::table
        .filter(event_steps::event_id.eq(event_id))
        .select(StepRow::as_select())
        .order(event_steps::position.asc())
        .load(conn)?)
}

/// Takes a change number for the phones (call it inside the write's transaction).
pub fn update_step(conn: &mut DbConn, row: &StepRow) -> Result<(), StoreError> {
    let seq = crate::store::sync::next_seq(conn)?;
    diesel::update(event_steps::table.find((&row.event_id, &row.step)))
        .set((
            event_steps::checklist.eq(&row.checklist),
            event_steps::due_at.eq(row.due_at),
            event_steps::completed_at.eq(row.completed_at),
            event_steps::completed_by.eq(&row.completed_by),
            event_steps::notes.eq(&row.notes),
            event_steps::evidence.eq(&row.evidence),
            event_steps::figures.eq(&row.figures),
            event_steps::seq.eq(seq),
        ))
        .execute(conn)?;
    Ok(())
}

/// Events of a subtree changed in `(after, upto]`, deleted ones included (the caller tells).
pub fn changed_since(
    conn: &mut DbConn,
    path_prefix: Option<&str>,
    after: i64,
    upto: i64,
) -> Result<Vec<EventRow>, StoreError> {
    let mut query = events::table
        .select(EventRow::as_select())
        .filter(events::seq.gt(after))
        .filter(events::seq.le(upto))
        .into_boxed();
    if let Some(prefix) = path_prefix {
        query = query.filter(events::org_path.like(format!("{prefix}%")));
    }
    // A first sync reads the subtree through `(org_path, seq)`; an increment, through `seq`.
    let query = if after < 0 {
        query.order((events::org_path.asc(), events::seq.asc()))
    } else {
        query.order(events::seq.asc())
    };
    Ok(query.load(conn)?)
}

/// The live events of a subtree — id, owner and branch: where a first sync of their steps and
/// attendees starts (through the path index, not every row of the database in change order).
pub fn live_of_subtree(
    conn: &mut DbConn,
    path_prefix: Option<&str>,
) -> Result<Vec<(String, String, String)>, StoreError> {
    let mut query = events::table
        .select((events::id, events::owner_id, events::branch_id))
        .filter(events::deleted_at.is_null())
        .into_boxed();
    if let Some(prefix) = path_prefix {
        query = query.filter(events::org_path.like(format!("{prefix}%")));
    }
    Ok(query.load(conn)?)
}

/// The ids of the events of a subtree deleted in `(after, upto]`.
pub fn deleted_since(
    conn: &mut DbConn,
    path_prefix: Option<&str>,
    after: i64,
    upto: i64,
) -> Result<Vec<String>, StoreError> {
    let mut query = events::table
        .select(events::id)
        .filter(events::seq.gt(after))
        .filter(events::seq.le(upto))
        .filter(events::deleted_at.is_not_null())
        .into_boxed();
    if let Some(prefix) = path_prefix {
        query = query.filter(events::org_path.like(format!("{prefix}%")));
    }
    Ok(query.load(conn)?)
}

/// Steps of the live events of a subtree changed in `(after, upto]`.
pub fn steps_changed_since(
    conn: &mut DbConn,
    path_prefix: Option<&str>,
    after: i64,
    upto: i64,
) -> Result<Vec<StepRow>, StoreError> {
    if after < 0 {
        let events: Vec<String> = live_of_subtree(conn, path_prefix)?.into_iter().map(|(id, _, _)| id).collect();
        return steps_of_events(conn, &events, upto);
    }
    // An increment: the few newest changed steps, through `seq`.
    let mut query = event_steps::table
        .inner_join(events::table.on(events::id.eq(event_steps::event_id)))
        .select(StepRow::as_select())
        .filter(event_steps::seq.gt(after))
        .filter(event_steps::seq.le(upto))
        .filter(events::deleted_at.is_null())
        .into_boxed();
    if let Some(prefix) = path_prefix {
        query = query.filter(events::org_path.like(format!("{prefix}%")));
    }
    Ok(query.order(event_steps::seq.asc()).load(conn)?)
}

/// The steps of these events numbered up to `upto`.
fn steps_of_events(conn: &mut DbConn, events: &[String], upto: i64) -> Result<Vec<StepRow>, StoreError> {
    let mut out = Vec::new();
    for chunk in events.chunks(500) {
        out.extend(
            event_steps::table
                .select(StepRow::as_select())
                .filter(event_steps::event_id.eq_any(chunk))
                .filter(event_steps::seq.le(upto))
                .load::<StepRow>(conn)?,
        );
    }
    Ok(out)
}

/// The steps' phone ids of the events of a subtree deleted in `(after, upto]`.
pub fn steps_of_deleted_since(
    conn: &mut DbConn,
    path_prefix: Option<&str>,
    after: i64,
    upto: i64,
) -> Result<Vec<String>, StoreError> {
    let events = deleted_since(conn, path_prefix, after, upto)?;
    Ok(steps_of_events(conn, &events, i64::MAX)?.into_iter().map(|s| s.sync_id).collect())
}

/// A step by its phone id.
pub fn step_by_sync_id(conn: &mut DbConn, sync_id: &str) -> Result<Option<StepRow>, StoreError> {
    Ok(event_steps::table
        .filter(event_steps::sync_id.eq(sync_id))
        .select(StepRow::as_select())
        .first(conn)
        .optional()?)
}
