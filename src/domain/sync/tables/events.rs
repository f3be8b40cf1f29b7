//! `events`: the events of the caller's scope, read-only on the phone (planned and changed in
//! the app's online screens); their steps and attendees are the tables that work offline.

use crate::domain::events::events::{self, Event};
use crate::domain::sync::declare::entity::Table;
use crate::domain::sync::declare::{Column, float, id_text, millis, opt_id, text};
use crate::store::events::events as store;

type C = Column<Event>;

pub static EVENTS: Table<Event> = Table {
    name: "events",
    since: 2,
    scope: "the events of your subtree",
    columns: &[
        C::string("partner_id", |e, _| id_text(e.partner_id)).indexed(),
        C::string("owner_id", |e, _| id_text(e.owner_id)).indexed(),
        C::string("org_unit_id", |e, _| id_text(e.org_unit_id)),
        C::string("project_id", |e, _| opt_id(e.project_id)).optional().indexed(),
        C::string("title", |e, _| text(&e.title)),
        C::string("theme", |e, _| text(e.theme.as_str())),
        C::string("description", |e, _| text(&e.description)),
        C::number("starts_at", |e, _| millis(e.starts_at)).indexed(),
        C::number("ends_at", |e, _| millis(e.ends_at)),
        C::string("venue", |e, _| text(&e.venue)),
        C::number("lat", |e, v| float(v.position(e.location).lat)),
        C::number("lon", |e, v| float(v.position(e.location).lon)),
        C::number("capacity", |e, _| e.capacity.into()),
        C::number("registration_deadline", |e, _| millis(e.registration_deadline)),
        // What the poster's QR code opens (`/e/{code}`).
        C::string("registration_code", |e, _| text(&e.registration_code)),
        C::boolean("registration_open", |e, _| e.registration_open.into()),
        C::string("status", |e, _| text(e.status.as_str())).indexed(),
        C::number("registered_count", |e, _| e.registered_count.into()),
        C::number("version", |e, _| e.version.into()),
        C::number("created_at", |e, _| millis(e.created_at)),
        C::number("updated_at", |e, _| millis(e.updated_at)),
    ],
    id: |e| e.id.to_string(),
    changed: |conn, view, after, upto| {
        let scope = view.scope_prefix();
        let rows = store::changed_since(conn, scope.as_deref(), after, upto)?;
        let live = rows.into_iter().filter(|r| r.deleted_at.is_none());
        Ok(live.map(Event::try_from).collect::<Result<_, _>>()?)
    },
    get: |conn, view, id| events::get(conn, &view.actor, id),
    // Events are deleted softly and leave no tombstone: their deletions are their own rows.
    deleted: Some(|conn, view, after, upto| {
        Ok(store::deleted_since(conn, view.scope_prefix().as_deref(), after, upto)?)
    }),
    create: None,
    update: None,
    delete: None,
};
