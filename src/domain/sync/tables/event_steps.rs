//! `event_steps`: the six steps of each event of the caller's scope, worked offline by whoever
//! may edit the event: a checklist ticked, a step completed (in order; once complete it stays).

use uuid::Uuid;

use crate::domain::DomainError;
use crate::domain::events::event_steps;
use crate::domain::events::events;
use crate::domain::events::step_plan::{ChecklistItem, EventStep};
use crate::domain::sync::declare::entity::{Table, Updated};
use crate::domain::sync::declare::pushed::Pushed;
use crate::domain::sync::declare::{Column, View, id_text, json_text, millis, opt_id, opt_millis, opt_text, text};
use crate::store::events::events as store;
use crate::store::{DbConn, StoreError, uuid_col};

/// A step with the event it belongs to.
pub struct StepOfEvent {
    event_id: Uuid,
    step: EventStep,
}

type C = Column<StepOfEvent>;

pub static EVENT_STEPS: Table<StepOfEvent> = Table {
    name: "event_steps",
    since: 2,
    scope: "the steps of the events of your subtree",
    columns: &[
        C::string("event_id", |s, _| id_text(s.event_id)).indexed(),
        // plan, invite, prepare, host, follow_up, review
        C::string("step", |s, _| text(s.step.step.as_str())),
        C::number("position", |s, _| s.step.position.into()),
        C::number("due_at", |s, _| millis(s.step.due_at)),
        // `[{"item": "…", "done": false}]`
        C::string("checklist_json", |s, _| json_text(&s.step.checklist)).writable(),
        // Set to true to complete the step (with `notes`); the server stamps who and when.
        C::boolean("completed", |s, _| s.step.completed_at.is_some().into()).writable(),
        C::string("notes", |s, _| opt_text(s.step.notes.as_deref())).optional().writable(),
        C::number("completed_at", |s, _| opt_millis(s.step.completed_at)).optional(),
        C::string("completed_by", |s, _| opt_id(s.step.completed_by)).optional(),
        C::number("evidence_count", |s, _| s.step.evidence.len().into()),
        // The review step's figures once it is complete.
        C::string("figures_json", |s, _| s.step.figures.as_ref().map_or(serde_json::Value::Null, json_text)).optional(),
    ],
    id: |s| s.step.sync_id.to_string(),
    changed: |conn, view, after, upto| {
        let scope = view.scope_prefix();
        let rows = store::steps_changed_since(conn, scope.as_deref(), after, upto)?;
        Ok(rows.into_iter().map(of_row).collect::<Result<_, _>>()?)
    },
    get,
    deleted: Some(|conn, view, after, upto| {
        let scope = view.scope_prefix();
        Ok(store::steps_of_deleted_since(conn, scope.as_deref(), after, upto)?)
    }),
    create: None,
    update: Some(update),
    delete: None,
};

fn of_row(row: crate::store::events::events::StepRow) -> Result<StepOfEvent, StoreError> {
    Ok(StepOfEvent { event_id: uuid_col(&row.event_id)?, step: EventStep::try_from(row)? })
}

fn get(conn: &mut DbConn, view: &View, id: Uuid) -> Result<StepOfEvent, DomainError> {
    let row = store::step_by_sync_id(conn, &id.to_string())?.ok_or(DomainError::NotFound("step"))?;
    let step = of_row(row)?;
    events::get(conn, &view.actor, step.event_id).map_err(|e| match e {
        DomainError::NotFound(_) => DomainError::NotFound("step"),
        other => other,
    })?;
    Ok(step)
}

fn update(conn: &mut DbConn, view: &View, id: Uuid, v: &Pushed) -> Result<Updated, DomainError> {
    let current = get(conn, view, id)?;
    let (event, step) = (current.event_id, current.step.step);
    if let Some(checklist) = v.json::<Vec<ChecklistItem>>("checklist_json")? {
        event_steps::edit_checklist(conn, &view.actor, event, step, checklist)?;
    }
    match v.opt_boolean("completed")? {
        Some(Some(true)) => {
            let notes = v.opt_text("notes")?.flatten().or(current.step.notes);
            event_steps::complete(conn, &view.actor, event, step, notes)?;
        }
        Some(_) => return Err(DomainError::invalid("completed", "a completed step stays completed")),
        None if v.has("notes") => {
            return Err(DomainError::invalid("notes", "notes are kept when the step is completed"));
        }
        None => {}
    }
    Ok(Updated::Changed)
}
