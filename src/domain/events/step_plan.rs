//! The six steps of an event: 策划 → 邀约 → 筹备 → 执行 → 跟进 → 复盘, each with a default checklist
//! and a due date derived from the event's dates, and the record of one event's step. What
//! `events` needs to create an event with its steps; working through them is `event_steps`'s.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::common::evidence::Evidence;
use crate::domain::kinds::text_enum;
use crate::store::events::events::StepRow;
use crate::store::{StoreError, enum_col, uuid_col};

/// When a step may be completed at the earliest, as a rule of the calendar: an event is hosted
/// on its day, followed up and reviewed once it is over. `None`: whenever its turn comes.
pub fn earliest_completion(
    step: Step,
    starts_at: chrono::DateTime<chrono::Utc>,
    ends_at: chrono::DateTime<chrono::Utc>,
    clock: &crate::domain::common::calendar::Clock,
) -> Option<chrono::DateTime<chrono::Utc>> {
    match step {
        Step::Host => Some(clock.start_of(clock.local_date(starts_at)).and_utc()),
        Step::FollowUp | Step::Review => Some(ends_at),
        Step::Plan | Step::Invite | Step::Prepare => None,
    }
}

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

    /// When the step is due, from the event's start and end.
    pub fn due(self, starts_at: DateTime<Utc>, ends_at: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Step::Plan => starts_at - Duration::days(14),
            Step::Invite => starts_at - Duration::days(7),
            Step::Prepare => starts_at - Duration::days(1),
            Step::Host => starts_at,
            Step::FollowUp => ends_at + Duration::days(3),
            Step::Review => ends_at + Duration::days(7),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChecklistItem {
    pub item: String,
    pub done: bool,
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
    /// Its id on the phone.
    pub sync_id: Uuid,
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
            sync_id: uuid_col(&r.sync_id)?,
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

pub(crate) fn to_row(event_id: Uuid, s: &EventStep) -> StepRow {
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
        sync_id: s.sync_id.to_string(),
    }
}

/// The six steps a new event starts with, due by the event's start and end.
pub fn defaults(event_id: Uuid, starts_at: DateTime<Utc>, ends_at: DateTime<Utc>) -> Vec<StepRow> {
    Step::ALL
        .iter()
        .zip(1..)
        .map(|(step, position)| {
            let s = EventStep {
                sync_id: Uuid::new_v4(),
                step: *step,
                position,
                checklist: step
                    .default_checklist()
                    .iter()
                    .map(|i| ChecklistItem { item: (*i).to_owned(), done: false })
                    .collect(),
                due_at: step.due(starts_at, ends_at),
                completed_at: None,
                completed_by: None,
                notes: None,
                evidence: Vec::new(),
                figures: None,
            };
            to_row(event_id, &s)
        })
        .collect()
}
