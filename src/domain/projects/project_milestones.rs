//! A project's schedule: milestones with a due day, added and ticked off by the team lead or a
//! manager.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use uuid::Uuid;

use super::projects::{self, Editor, Milestone};
use crate::domain::common::error::Validator;
use crate::domain::common::text::bounded_text;
use crate::domain::{Actor, DomainError};
use crate::store::projects::projects::{self as store, MilestoneRow};
use crate::store::{DbConn, now_utc};

#[derive(Debug, Clone, Serialize)]
pub struct MilestoneInput {
    pub title: String,
    pub due_on: NaiveDate,
}

pub(super) fn check_milestone(v: &mut Validator, field: &str, m: &MilestoneInput) -> String {
    let title = bounded_text(v, &format!("{field}.title"), &m.title, 200);
    if title.is_empty() {
        v.add(&format!("{field}.title"), "must not be empty");
    }
    if !(2000..=2100).contains(&m.due_on.year()) {
        v.add(&format!("{field}.due_on"), "must be between the years 2000 and 2100");
    }
    title
}

pub fn add_milestone(
    conn: &mut DbConn,
    actor: &Actor,
    id: Uuid,
    input: MilestoneInput,
) -> Result<Milestone, DomainError> {
    let mut v = Validator::default();
    let title = check_milestone(&mut v, "milestone", &input);
    v.finish().map_err(|e| match e {
        DomainError::Validation(errors) => DomainError::Validation(
            errors.into_iter().map(|(k, m)| (k.trim_start_matches("milestone.").to_owned(), m)).collect(),
        ),
        other => other,
    })?;
    let milestone_id = Uuid::now_v7();
    let project = projects::change(conn, actor, id, None, Editor::ManagerOrLead, |conn, _, row| {
        store::insert_milestone(
            conn,
            &MilestoneRow {
                id: milestone_id.to_string(),
                project_id: row.id.clone(),
                title,
                due_on: input.due_on,
                done_at: None,
                done_by: None,
                created_at: now_utc(),
            },
        )?;
        Ok(())
    })?;
    project.milestones.into_iter().find(|m| m.id == milestone_id).ok_or(DomainError::NotFound("milestone"))
}

#[derive(Debug, Clone, Default)]
pub struct MilestonePatch {
    pub title: Option<String>,
    pub due_on: Option<NaiveDate>,
    pub done: Option<bool>,
}

pub fn update_milestone(
    conn: &mut DbConn,
    actor: &Actor,
    id: Uuid,
    milestone_id: Uuid,
    patch: MilestonePatch,
) -> Result<Milestone, DomainError> {
    let project = projects::change(conn, actor, id, None, Editor::ManagerOrLead, |conn, before, row| {
        let current =
            before.milestones.iter().find(|m| m.id == milestone_id).ok_or(DomainError::NotFound("milestone"))?;
        let mut m = MilestoneRow {
            id: milestone_id.to_string(),
            project_id: row.id.clone(),
            title: current.title.clone(),
            due_on: current.due_on,
            done_at: current.done_at.map(|t| t.naive_utc()),
            done_by: current.done_by.map(|u| u.to_string()),
            created_at: now_utc(),
        };
        let mut v = Validator::default();
        let input = MilestoneInput {
            title: patch.title.clone().unwrap_or(m.title.clone()),
            due_on: patch.due_on.unwrap_or(m.due_on),
        };
        m.title = check_milestone(&mut v, "milestone", &input);
        m.due_on = input.due_on;
        v.finish()?;
        match patch.done {
            Some(true) if m.done_at.is_none() => {
                m.done_at = Some(now_utc());
                m.done_by = Some(actor.user_id.to_string());
            }
            Some(false) => {
                m.done_at = None;
                m.done_by = None;
            }
            _ => {}
        }
        store::update_milestone(conn, &m)?;
        Ok(())
    })?;
    project.milestones.into_iter().find(|m| m.id == milestone_id).ok_or(DomainError::NotFound("milestone"))
}
