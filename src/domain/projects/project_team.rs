//! A project's team: its lead, an optional supervisor and the members whose work counts, each
//! checked against the project's org unit.

use uuid::Uuid;

use super::projects::{self, Editor, Project};
use crate::domain::common::error::Validator;
use crate::domain::{Actor, DomainError, Role};
use crate::store::projects::projects as store;
use crate::store::{DbConn, StoreError};

/// The team as given: lead, optional supervisor, members (the lead always among them).
#[derive(Debug, Clone)]
pub struct TeamInput {
    pub lead_id: Uuid,
    pub supervisor_id: Option<Uuid>,
    pub member_ids: Vec<Uuid>,
}

/// Resolves the team: every user visible to the caller (404 otherwise), active, and inside the
/// project's unit; a supervisor may sit anywhere in the branch.
pub(super) fn resolve_team(
    conn: &mut DbConn,
    actor: &Actor,
    org_path: &str,
    team: &TeamInput,
) -> Result<(String, Option<String>, Vec<String>), DomainError> {
    let mut members: Vec<Uuid> = team.member_ids.clone();
    if !members.contains(&team.lead_id) {
        members.insert(0, team.lead_id);
    }
    if members.len() > 200 {
        return Err(DomainError::invalid("member_ids", "at most 200 members"));
    }
    let mut v = Validator::default();
    for (i, id) in members.iter().enumerate() {
        let user = crate::domain::org::users::get(conn, actor, *id)?;
        let field = if *id == team.lead_id { "lead_id".to_owned() } else { format!("member_ids[{i}]") };
        if !user.active {
            v.add(&field, "the account is disabled");
        } else if !user.org_path.starts_with(org_path) {
            v.add(&field, "not in the project's org unit");
        }
    }
    if let Some(id) = team.supervisor_id {
        // A supervisor usually sits above the unit (the branch's supervision team), outside a
        // sub-branch manager's own scope: a supervisor or manager at or above the project's unit,
        // or anyone the caller manages, will do.
        let user = crate::store::org::users::find(conn, &id.to_string())?
            .filter(|u| org_path.starts_with(u.org_path.as_str()) || actor.scope().contains(&u.org_path))
            .ok_or(DomainError::NotFound("user"))?;
        let role: Role = user.role.parse().map_err(StoreError::Corrupt)?;
        if !user.active {
            v.add("supervisor_id", "the account is disabled");
        } else if !(role == Role::Supervisor || role.manages_people()) {
            v.add("supervisor_id", "must be a supervisor or a manager");
        }
    }
    v.finish()?;
    let mut ids: Vec<String> = members.iter().map(Uuid::to_string).collect();
    ids.sort();
    ids.dedup();
    Ok((team.lead_id.to_string(), team.supervisor_id.map(|s| s.to_string()), ids))
}

pub fn set_team(conn: &mut DbConn, actor: &Actor, id: Uuid, team: TeamInput) -> Result<Project, DomainError> {
    projects::change(conn, actor, id, None, Editor::Manager, |conn, _, row| {
        let (lead_id, supervisor_id, members) = resolve_team(conn, actor, &row.org_path.clone(), &team)?;
        row.lead_id = lead_id;
        row.supervisor_id = supervisor_id;
        store::set_members(conn, &row.id, &members)?;
        Ok(())
    })
}
