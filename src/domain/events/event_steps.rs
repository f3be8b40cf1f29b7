//! Working through an event's six steps (`step_plan` has them): editing a step's checklist,
//! completing the steps in order, attaching evidence photos.

use uuid::Uuid;

use crate::domain::common::evidence::{Evidence, EvidenceHolder};
use crate::domain::events::events;
use crate::domain::events::step_plan::{ChecklistItem, EventStep, MAX_EVIDENCE, ReviewFigures, Step, to_row};
use crate::domain::kinds::event_kind::EventStatus;
use crate::domain::kinds::project_kind::PointsAction;
use crate::domain::projects::points::{self, Credit, Source};
use crate::domain::{Actor, DomainError, ErrorCode};
use crate::store::events::events as store;
use crate::store::{DbConn, StoreError, now_utc};

pub fn list(conn: &mut DbConn, actor: &Actor, event_id: Uuid) -> Result<Vec<EventStep>, DomainError> {
    events::get(conn, actor, event_id)?;
    Ok(store::steps_of(conn, &event_id.to_string())?.into_iter().map(EventStep::try_from).collect::<Result<_, _>>()?)
}

/// Replaces a step's checklist (items and their done flags).
pub fn edit_checklist(
    conn: &mut DbConn,
    actor: &Actor,
    event_id: Uuid,
    step: Step,
    checklist: Vec<ChecklistItem>,
) -> Result<EventStep, DomainError> {
    if checklist.len() > 50 || checklist.iter().any(|i| i.item.trim().is_empty() || i.item.chars().count() > 200) {
        return Err(DomainError::invalid("checklist", "1 to 50 items of 1 to 200 characters"));
    }
    conn.write_tx(|conn| {
        let event = events::get(conn, actor, event_id)?;
        events::may_write(actor, event.owner_id)?;
        let mut current =
            steps(conn, event_id)?.into_iter().find(|s| s.step == step).ok_or(DomainError::NotFound("step"))?;
        current.checklist =
            checklist.iter().map(|i| ChecklistItem { item: i.item.trim().to_owned(), done: i.done }).collect();
        store::update_step(conn, &to_row(event_id, &current))?;
        Ok(current)
    })
}

fn steps(conn: &mut DbConn, event_id: Uuid) -> Result<Vec<EventStep>, StoreError> {
    store::steps_of(conn, &event_id.to_string())?.into_iter().map(EventStep::try_from).collect()
}

/// Completes a step once every step before it is complete; completing it again changes nothing.
pub fn complete(
    conn: &mut DbConn,
    actor: &Actor,
    event_id: Uuid,
    step: Step,
    notes: Option<String>,
) -> Result<EventStep, DomainError> {
    if notes.as_ref().is_some_and(|n| n.chars().count() > 2000) {
        return Err(DomainError::invalid("notes", "must be at most 2000 characters"));
    }
    conn.write_tx(|conn| {
        let event = events::get(conn, actor, event_id)?;
        events::may_write(actor, event.owner_id)?;
        if event.status == EventStatus::Cancelled {
            return Err(DomainError::conflict(ErrorCode::EventCancelled, "the event is cancelled"));
        }
        let all = steps(conn, event_id)?;
        let mut current = all.iter().find(|s| s.step == step).cloned().ok_or(DomainError::NotFound("step"))?;
        if current.completed_at.is_some() {
            return Ok(current);
        }
        let open: Vec<&str> = all
            .iter()
            .filter(|s| s.position < current.position && s.completed_at.is_none())
            .map(|s| s.step.as_str())
            .collect();
        if !open.is_empty() {
            return Err(DomainError::conflict(
                ErrorCode::StepOutOfOrder,
                format!("complete these steps first: {}", open.join(", ")),
            ));
        }
        let clock = crate::domain::common::calendar::Clock::new(&crate::store::projects::projects::branch_time_zone(
            conn,
            &event.branch_id,
        )?);
        if let Some(from) =
            crate::domain::events::step_plan::earliest_completion(step, event.starts_at, event.ends_at, &clock)
            && chrono::Utc::now() < from
        {
            return Err(DomainError::conflict(
                ErrorCode::StepTooEarly,
                format!("`{}` can be completed from {}", step.as_str(), from.to_rfc3339()),
            ));
        }
        current.completed_at = Some(now_utc().and_utc());
        current.completed_by = Some(actor.user_id);
        current.notes = notes.as_ref().map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
        if step == Step::Review {
            let (checked_in, leads, conversions) =
                crate::store::events::registrations::attendance(conn, &event_id.to_string())?;
            current.figures = Some(ReviewFigures {
                capacity: event.capacity,
                registered: event.registered_count,
                checked_in,
                leads,
                conversions,
            });
            events::complete(conn, &event)?;
        }
        store::update_step(conn, &to_row(event_id, &current))?;
        let source = format!("{event_id}:{}", step.as_str());
        let credit = match (event.project_id, current.completed_at) {
            (Some(project_id), Some(at)) => Some(Credit { project_id, user_id: actor.user_id, occurred_at: at }),
            _ => None,
        };
        points::settle(
            conn,
            PointsAction::EventStepCompleted,
            Source { kind: "event_step", id: &source },
            None,
            credit,
        )?;
        Ok(current)
    })
}

/// Adds a stored photo to a step's evidence (the same photo twice is kept once).
pub fn add_evidence(
    conn: &mut DbConn,
    actor: &Actor,
    event_id: Uuid,
    step: Step,
    evidence: Evidence,
) -> Result<EventStep, DomainError> {
    conn.write_tx(|conn| {
        let event = events::get(conn, actor, event_id)?;
        events::may_write(actor, event.owner_id)?;
        let mut current =
            steps(conn, event_id)?.into_iter().find(|s| s.step == step).ok_or(DomainError::NotFound("step"))?;
        if current.evidence.iter().any(|e| e.sha256 == evidence.sha256) {
            return Ok(current);
        }
        if current.evidence.len() >= MAX_EVIDENCE {
            return Err(DomainError::conflict(
                ErrorCode::TooMuchEvidence,
                format!("a step keeps at most {MAX_EVIDENCE} photos"),
            ));
        }
        current.evidence.push(evidence.clone());
        store::update_step(conn, &to_row(event_id, &current))?;
        Ok(current)
    })
}

/// An event's evidence: photos go on its steps, added by whoever may edit the event and seen by
/// whoever may see it.
pub struct EventEvidence;

impl EvidenceHolder for EventEvidence {
    type Slot = Step;
    const PHOTO: &'static str = "evidence";

    fn check_can_attach(conn: &mut DbConn, actor: &Actor, id: Uuid, _: Step) -> Result<(), DomainError> {
        events::may_write(actor, events::get(conn, actor, id)?.owner_id)
    }

    fn photos(conn: &mut DbConn, actor: &Actor, id: Uuid) -> Result<Vec<Evidence>, DomainError> {
        events::get(conn, actor, id)?;
        Ok(steps(conn, id)?.into_iter().flat_map(|s| s.evidence).collect())
    }
}
