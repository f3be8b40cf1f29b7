//! `event_attendees`: who registered for the events of the caller's scope, for checking them in
//! at the door without signal. A check-in is the phone setting `checked_in_at` on the
//! attendee (the scan's time): idempotent by ticket — a second phone's check-in of the same
//! ticket changes nothing and gets the first one's time back.

use uuid::Uuid;

use crate::domain::DomainError;
use crate::domain::events::checkins::{self, Attendee};
use crate::domain::sync::declare::entity::{Table, Updated};
use crate::domain::sync::declare::pushed::Pushed;
use crate::domain::sync::declare::{Column, View, id_text, millis, opt_id, opt_millis, opt_text, text};
use crate::store::DbConn;

type C = Column<Attendee>;

pub static EVENT_ATTENDEES: Table<Attendee> = Table {
    name: "event_attendees",
    since: 2,
    scope: "the attendees of the events of your subtree",
    columns: &[
        C::string("event_id", |a, _| id_text(a.event_id)).indexed(),
        // Absent once the person withdrew their data.
        C::string("name", |a, _| opt_text(a.name.as_deref())).optional(),
        // In full to the event's owner and to managers, masked to the others.
        C::string("phone", |a, _| opt_text(a.phone.as_deref())).optional(),
        // registered, waitlisted, cancelled
        C::string("status", |a, _| text(&a.status)),
        // What the attendee's QR code holds: scan it, find the attendee, set `checked_in_at`.
        C::string("ticket_code", |a, _| text(&a.ticket_code)).indexed(),
        C::number("registered_at", |a, _| millis(a.registered_at)),
        C::number("checked_in_at", |a, _| opt_millis(a.checked_in_at)).optional().writable(),
        C::string("lead_id", |a, _| opt_id(a.lead_id)).optional(),
    ],
    id: |a| a.id.to_string(),
    changed: |conn, view, after, upto| Ok(checkins::attendees_changed(conn, &view.actor, after, upto)?),
    get: |conn, view, id| checkins::attendee(conn, &view.actor, id),
    deleted: Some(|conn, view, after, upto| {
        let scope = view.scope_prefix();
        Ok(crate::store::events::registrations::of_deleted_since(conn, scope.as_deref(), after, upto)?)
    }),
    create: None,
    update: Some(check_in),
    delete: None,
};

fn check_in(conn: &mut DbConn, view: &View, id: Uuid, v: &Pushed) -> Result<Updated, DomainError> {
    let Some(at) = v.opt_time("checked_in_at")?.flatten() else {
        return Err(DomainError::invalid("checked_in_at", "a check-in cannot be undone"));
    };
    let attendee = checkins::attendee(conn, &view.actor, id)?;
    let done = checkins::check_in(conn, &view.actor, attendee.event_id, &attendee.ticket_code, Some(at))?;
    Ok(if done.already_checked_in { Updated::AsBefore } else { Updated::Changed })
}
