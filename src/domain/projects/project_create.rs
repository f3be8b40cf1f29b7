//! Creating a project: everything it starts with (team, targets, points rules, milestones)
//! checked together and written in one transaction; a repeated create with the same id and body
//! answers the project made the first time.

use chrono::NaiveDate;
use serde::Serialize;
use uuid::Uuid;

use super::project_details::check_period;
use super::project_milestones::{MilestoneInput, check_milestone};
use super::project_targets::{RuleInput, TargetInput, check_rules, check_targets, rule_rows, target_rows};
use super::project_team::{TeamInput, resolve_team};
use super::projects::{self, Project};
use crate::domain::common::create::Created;
use crate::domain::common::error::Validator;
use crate::domain::common::text::{list_text, text_list};
use crate::domain::kinds::lead_kind::Segment;
use crate::domain::kinds::project_kind::ProjectStatus;
use crate::domain::org::audit::{self, Action};
use crate::domain::{Actor, DomainError, ErrorCode};
use crate::store::projects::projects::{self as store, MilestoneRow, ProjectRow};
use crate::store::{DbConn, now_utc};

#[derive(Debug, Clone, Serialize)]
pub struct NewProject {
    pub id: Option<Uuid>,
    pub name: String,
    pub segment: Segment,
    pub portrait_tags: Option<Vec<String>>,
    pub product_package: Option<Vec<String>>,
    pub service_package: Option<Vec<String>>,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub status: Option<ProjectStatus>,
    pub org_unit_id: Option<Uuid>,
    pub lead_id: Uuid,
    pub supervisor_id: Option<Uuid>,
    pub member_ids: Option<Vec<Uuid>>,
    pub targets: Option<Vec<TargetInput>>,
    pub points_rules: Option<Vec<RuleInput>>,
    pub milestones: Option<Vec<MilestoneInput>>,
}

pub fn create(conn: &mut DbConn, actor: &Actor, input: NewProject) -> Result<Created<Project>, DomainError> {
    if !actor.role.manages_people() {
        return Err(DomainError::forbidden(ErrorCode::RoleNotAllowed, "managers create segment projects"));
    }
    let mut v = Validator::default();
    let name = v.check("name", crate::domain::common::text::name(&input.name, 100)).unwrap_or_default();
    let portrait_tags = text_list(&mut v, "portrait_tags", input.portrait_tags.as_deref().unwrap_or(&[]));
    let product_package = text_list(&mut v, "product_package", input.product_package.as_deref().unwrap_or(&[]));
    let service_package = text_list(&mut v, "service_package", input.service_package.as_deref().unwrap_or(&[]));
    check_period(&mut v, input.starts_on, input.ends_on);
    check_rules(&mut v, input.points_rules.as_deref().unwrap_or(&[]));
    let milestones: Vec<(String, NaiveDate)> = input
        .milestones
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .enumerate()
        .map(|(i, m)| (check_milestone(&mut v, &format!("milestones[{i}]"), m), m.due_on))
        .collect();
    let mut team_ids = input.member_ids.clone().unwrap_or_default();
    team_ids.push(input.lead_id);
    check_targets(&mut v, input.targets.as_deref().unwrap_or(&[]), &team_ids);
    v.finish()?;
    let digest = crate::domain::common::create::create_digest(&input);
    conn.write_tx(|conn| {
        let id = input.id.unwrap_or_else(Uuid::now_v7);
        if let Some(existing) = store::find(conn, &id.to_string())? {
            return if existing.create_digest == digest && projects::visible(conn, actor, &existing)? {
                Ok(Created::Existing(Project::try_from(store::parts(conn, existing)?)?))
            } else {
                Err(DomainError::conflict(ErrorCode::IdConflict, "another project already has this id"))
            };
        }
        let unit_id = input
            .org_unit_id
            .or(actor.org_unit_id)
            .ok_or_else(|| DomainError::invalid("org_unit_id", "required for a caller without an org unit"))?;
        let unit = crate::domain::org::org_units::get(conn, actor, unit_id)?;
        let team = TeamInput {
            lead_id: input.lead_id,
            supervisor_id: input.supervisor_id,
            member_ids: input.member_ids.clone().unwrap_or_default(),
        };
        let (lead_id, supervisor_id, members) = resolve_team(conn, actor, &unit.path, &team)?;
        let now = now_utc();
        let id_text = id.to_string();
        let row = ProjectRow {
            id: id_text.clone(),
            branch_id: unit.branch_id.to_string(),
            org_unit_id: unit.id.to_string(),
            org_path: unit.path.clone(),
            name: name.clone(),
            segment: input.segment.as_str().to_owned(),
            portrait_tags: list_text(&portrait_tags),
            product_package: list_text(&product_package),
            service_package: list_text(&service_package),
            starts_on: input.starts_on,
            ends_on: input.ends_on,
            status: input.status.unwrap_or(ProjectStatus::Active).as_str().to_owned(),
            lead_id,
            supervisor_id,
            created_by: actor.user_id.to_string(),
            create_digest: digest.clone(),
            version: 1,
            created_at: now,
            updated_at: now,
        };
        store::insert(conn, &row)?;
        store::set_members(conn, &id_text, &members)?;
        store::insert_targets(conn, &target_rows(&id_text, input.targets.as_deref().unwrap_or(&[])))?;
        store::set_rules(conn, &id_text, &rule_rows(&id_text, input.points_rules.as_deref().unwrap_or(&[])))?;
        for (title, due_on) in &milestones {
            store::insert_milestone(
                conn,
                &MilestoneRow {
                    id: Uuid::now_v7().to_string(),
                    project_id: id_text.clone(),
                    title: title.clone(),
                    due_on: *due_on,
                    done_at: None,
                    done_by: None,
                    created_at: now,
                },
            )?;
        }
        let project = Project::try_from(store::parts(conn, row)?)?;
        audit::record(conn, actor, "project", id, &project.org_path, Action::Create, serde_json::to_value(&project)?)?;
        Ok(Created::New(project))
    })
}
