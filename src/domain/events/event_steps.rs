//! The six steps of an event: 策划 → 邀约 → 筹备 → 执行 → 跟进 → 复盘, each with a checklist,
//! a due date derived from the event's dates, and a completion that must follow the order.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::events::events::{self, Event, EventStatus};
use crate::domain::kinds::partner_kind::text_enum;
use crate::domain::kinds::project_kind::PointsAction;
use crate::domain::projects::points::{self, Credit, Source};
use crate::domain::{Actor, DomainError};
use crate::store::events::{self as store, StepRow};
use crate::store::{DbConn, StoreError, enum_col, now_utc, uuid_col};

text_enum!(Step {
    Plan => "plan",
    Invite => "invite",
    Prepare => "prepare",
    Host => "host",
    FollowUp => "follow_up",
    Review => "review",
});

impl Step {
    fn default_checklist(self) -> &'static [&'static str] {
        match self {
            Step::Plan => &["确定活动主题与目标客群", "与联盟商户确认场地和时间", "制定预算与物料清单"],
            Step::Invite => &["发布报名二维码海报", "微信群邀约", "电话邀约重点客户"],
            Step::Prepare => &["物料与礼品到位", "人员分工确认", "现场布置"],
            Step::Host => &["现场签到", "活动执行", "拍照留存"],
            Step::FollowUp => &["参与者回访", "线索录入与分配"],
            Step::Review => &["召开复盘会", "总结经验与改进"],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChecklistItem {
    pub item: String,
    pub done: bool,
}

/// A photo attached to a step as evidence (stored by the media pipeline).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub sha256: String,
    pub thumb_sha256: String,
    pub width: u32,
    pub height: u32,
    pub uploaded_by: Uuid,
    pub uploaded_at: DateTime<Utc>,
    /// What the photo's EXIF said before the intake stripped it: where and when it was taken,
    /// for judging a supervision like a visit. Never shown; absent in records stored before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exif: Option<crate::domain::field::verification::PhotoSignal>,
}

/// At most this many photos per step.
pub const MAX_EVIDENCE: usize = 20;

/// What the review step records, computed from the event's data when it completes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReviewFigures {
    pub capacity: i32,
    pub registered: i32,
    pub checked_in: i64,
    pub leads: i64,
    pub conversions: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EventStep {
    pub step: Step,
    pub position: i32,
    pub checklist: Vec<ChecklistItem>,
    pub due_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    pub completed_by: Option<Uuid>,
    pub notes: Option<String>,
    pub evidence: Vec<Evidence>,
    pub figures: Option<ReviewFigures>,
}

impl TryFrom<StepRow> for EventStep {
    type Error = StoreError;
    fn try_from(r: StepRow) -> Result<Self, StoreError> {
        Ok(EventStep {
            step: enum_col(&r.step)?,
            position: r.position,
            checklist: serde_json::from_str(&r.checklist).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            due_at: r.due_at.and_utc(),
            completed_at: r.completed_at.map(|t| t.and_utc()),
            completed_by: r.completed_by.as_deref().map(uuid_col).transpose()?,
            notes: r.notes,
            evidence: serde_json::from_str(&r.evidence).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            figures: r
                .figures
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        })
    }
}

fn to_row(event_id: Uuid, s: &EventStep) -> StepRow {
    StepRow {
        event_id: event_id.to_string(),
        step: s.step.as_str().to_owned(),
        position: s.position,
        checklist: serde_json::to_string(&s.checklist).unwrap_or_else(|_| "[]".to_owned()),
        due_at: s.due_at.naive_utc(),
        completed_at: s.completed_at.map(|t| t.naive_utc()),
        completed_by: s.completed_by.map(|u| u.to_string()),
        notes: s.notes.clone(),
        evidence: serde_json::to_string(&s.evidence).unwrap_or_else(|_| "[]".to_owned()),
        figures: s.figures.as_ref().and_then(|f| serde_json::to_string(f).ok()),
    }
}

/// The six steps a new event starts with.
pub fn defaults(event: &Event) -> Vec<StepRow> {
    Step::ALL
        .iter()
        .zip(1..)
        .map(|(step, position)| {
            let s = EventStep {
                step: *step,
                position,
                checklist: step
                    .default_checklist()
                    .iter()
                    .map(|i| ChecklistItem { item: (*i).to_owned(), done: false })
                    .collect(),
                due_at: events::step_due(event, *step),
                completed_at: None,
                completed_by: None,
                notes: None,
                evidence: Vec::new(),
                figures: None,
            };
            to_row(event.id, &s)
        })
        .collect()
}

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
            return Err(DomainError::conflict("event_cancelled", "the event is cancelled"));
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
                "step_out_of_order",
                format!("complete these steps first: {}", open.join(", ")),
            ));
        }
        current.completed_at = Some(now_utc().and_utc());
        current.completed_by = Some(actor.user_id);
        current.notes = notes.as_ref().map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
        if step == Step::Review {
            let (checked_in, leads, conversions) =
                crate::store::registrations::attendance(conn, &event_id.to_string())?;
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
                "too_much_evidence",
                format!("a step keeps at most {MAX_EVIDENCE} photos"),
            ));
        }
        current.evidence.push(evidence.clone());
        store::update_step(conn, &to_row(event_id, &current))?;
        Ok(current)
    })
}

/// The stored blob (image or thumbnail) of an evidence photo of an event the caller may see.
pub fn evidence_blob(
    conn: &mut DbConn,
    actor: &Actor,
    event_id: Uuid,
    sha256: &str,
    thumbnail: bool,
) -> Result<String, DomainError> {
    events::get(conn, actor, event_id)?;
    steps(conn, event_id)?
        .into_iter()
        .flat_map(|s| s.evidence)
        .find(|e| e.sha256 == sha256)
        .map(|e| if thumbnail { e.thumb_sha256 } else { e.sha256 })
        .ok_or(DomainError::NotFound("evidence"))
}
