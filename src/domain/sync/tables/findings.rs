//! `supervision_findings`: what a supervision found, owned by someone who must act on it by a day.
//! Left on the phone with the supervision; closed by their owner (`status: done`, `done_note`);
//! closed, never deleted.

use uuid::Uuid;

use crate::domain::DomainError;
use crate::domain::common::create::Created;
use crate::domain::supervision::findings::{self, Finding, FindingPatch, NewFinding};
use crate::domain::sync::declare::entity::{Table, Updated};
use crate::domain::sync::declare::pushed::Pushed;
use crate::domain::sync::declare::{Column, View, id_text, millis, opt_id, opt_millis, opt_text, text};
use crate::store::DbConn;
use crate::store::supervision::supervisions as store;

type C = Column<Finding>;

pub static FINDINGS: Table<Finding> = Table {
    name: "supervision_findings",
    since: 1,
    scope: "the findings of your subtree (an account manager: their outlet's, their own among them)",
    columns: &[
        C::string("supervision_id", |f, _| id_text(f.supervision_id)).indexed().on_create(),
        C::string("org_unit_id", |f, _| id_text(f.org_unit_id)),
        C::string("owner_id", |f, _| id_text(f.owner_id)).indexed().writable(),
        C::string("title", |f, _| text(&f.title)).writable(),
        C::string("detail", |f, _| text(&f.detail)).writable(),
        // A day of the branch's calendar, `YYYY-MM-DD` (a day, not an instant).
        C::string("due_on", |f, _| f.due_on.to_string().into()).writable(),
        C::string("status", |f, _| text(f.status.as_str())).writable().indexed(),
        C::boolean("overdue", |f, v| f.overdue_on(v.today).into()),
        C::number("done_at", |f, _| opt_millis(f.done_at)).optional(),
        C::string("done_by", |f, _| opt_id(f.done_by)).optional(),
        C::string("done_note", |f, _| opt_text(f.done_note.as_deref())).optional().writable(),
        C::string("created_by", |f, _| id_text(f.created_by)),
        C::number("version", |f, _| f.version.into()),
        C::number("created_at", |f, _| millis(f.created_at)),
        C::number("updated_at", |f, _| millis(f.updated_at)),
    ],
    id: |f| f.id.to_string(),
    changed: |conn, view, after, upto| {
        let scope = view.scope_prefix();
        let rows = store::findings_changed_since(conn, scope.as_deref(), after, upto, i64::MAX)?;
        Ok(rows.into_iter().map(Finding::try_from).collect::<Result<_, _>>()?)
    },
    get: |conn, view, id| findings::get_finding(conn, &view.actor, id).map(|(f, _)| f),
    deleted: None,
    create: Some(create),
    update: Some(update),
    delete: None,
};

fn due_on(v: &Pushed) -> Result<Option<chrono::NaiveDate>, DomainError> {
    v.text("due_on")?
        .map(|d| d.trim().parse().map_err(|_| DomainError::invalid("due_on", "must be a day, YYYY-MM-DD")))
        .transpose()
}

fn create(conn: &mut DbConn, view: &View, id: Uuid, v: &Pushed) -> Result<Created<()>, DomainError> {
    let required = |field: &str| DomainError::invalid(field, "is required");
    let supervision = v.id("supervision_id")?.ok_or_else(|| required("supervision_id"))?;
    let input = NewFinding {
        id: Some(id),
        title: v.text("title")?.unwrap_or_default(),
        detail: v.opt_text("detail")?.flatten(),
        owner_id: v.id("owner_id")?.ok_or_else(|| required("owner_id"))?,
        due_on: due_on(v)?.ok_or_else(|| required("due_on"))?,
    };
    Ok(findings::add_finding(conn, &view.actor, supervision, input)?.0.map(|_| ()))
}

fn update(conn: &mut DbConn, view: &View, id: Uuid, v: &Pushed) -> Result<Updated, DomainError> {
    let patch = FindingPatch {
        status: v.code("status")?,
        done_note: v.opt_text("done_note")?.map(Option::unwrap_or_default),
        title: v.text("title")?,
        detail: v.text("detail")?,
        owner_id: v.opt_id("owner_id")?.flatten(),
        due_on: due_on(v)?,
        version: None,
    };
    findings::update_finding(conn, &view.actor, id, patch).map(|_| Updated::Changed)
}
