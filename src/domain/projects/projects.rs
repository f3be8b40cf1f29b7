//! A segment project (客群业绩项目) as the domain holds it: the record with its team, targets,
//! manual metrics, points rules and milestones, read from the store; who sees, manages and keeps
//! it; the versioned, audited change every edit of it goes through; and what other records ask of
//! a project (may this lead, event, case or supervision name it; which project a visit counts for).
//!
//! Each kind of edit is its own file beside this one, over it: `project_create.rs`,
//! `project_details.rs` (name, segment, packages, period, status), `project_team.rs`,
//! `project_targets.rs` (targets and points rules), `project_milestones.rs` and
//! `project_manual_metrics.rs`. This file imports none of them, so the other capabilities that
//! only read a project or check a link depend on the record alone.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::domain::common::calendar::Clock;
use crate::domain::common::text::list_col;
use crate::domain::kinds::lead_kind::Segment;
use crate::domain::kinds::project_kind::{Metric, PointsAction, ProjectStatus};
use crate::domain::org::audit::{self, Action};
use crate::domain::{Actor, DomainError, ErrorCode};
use crate::store::projects::projects::{self as store, ProjectFilter, ProjectParts, ProjectRow};
use crate::store::{DbConn, Page, PageRequest, StoreError, enum_col, now_utc, uuid_col};

/// A target: the project's total and each member's share of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Target {
    pub metric: Metric,
    pub total: f64,
    pub split: BTreeMap<Uuid, f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ManualMetric {
    pub id: Uuid,
    pub name: String,
    pub unit: String,
    pub total: Option<f64>,
    pub split: BTreeMap<Uuid, f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rule {
    pub action: PointsAction,
    pub points: i32,
    pub daily_cap: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Milestone {
    pub id: Uuid,
    pub title: String,
    pub due_on: NaiveDate,
    pub done_at: Option<DateTime<Utc>>,
    pub done_by: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Project {
    pub id: Uuid,
    #[serde(skip)]
    pub branch_id: String,
    pub org_unit_id: Uuid,
    #[serde(skip)]
    pub org_path: String,
    pub name: String,
    pub segment: Segment,
    pub portrait_tags: Vec<String>,
    pub product_package: Vec<String>,
    pub service_package: Vec<String>,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub time_zone: String,
    pub status: ProjectStatus,
    pub lead_id: Uuid,
    pub supervisor_id: Option<Uuid>,
    /// Everybody whose work counts, the lead included.
    pub member_ids: Vec<Uuid>,
    pub targets: Vec<Target>,
    pub manual_metrics: Vec<ManualMetric>,
    pub points_rules: Vec<Rule>,
    pub milestones: Vec<Milestone>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Project {
    pub fn clock(&self) -> Clock {
        Clock::new(&self.time_zone)
    }

    pub fn target(&self, metric: Metric) -> Option<&Target> {
        self.targets.iter().find(|t| t.metric == metric)
    }
}

/// The target key a manual metric's rows are stored under (its figures share the targets table).
pub(super) fn manual_key(id: &str) -> String {
    format!("manual:{id}")
}

impl TryFrom<ProjectParts> for Project {
    type Error = StoreError;
    fn try_from(p: ProjectParts) -> Result<Self, StoreError> {
        let r = p.project;
        let mut targets: Vec<Target> = Vec::new();
        let mut manual_totals: BTreeMap<String, (Option<f64>, BTreeMap<Uuid, f64>)> = BTreeMap::new();
        for t in p.targets {
            let user = if t.user_id.is_empty() { None } else { Some(uuid_col(&t.user_id)?) };
            if let Some(id) = t.metric.strip_prefix("manual:") {
                let entry = manual_totals.entry(id.to_owned()).or_default();
                match user {
                    Some(u) => {
                        entry.1.insert(u, t.value);
                    }
                    None => entry.0 = Some(t.value),
                }
                continue;
            }
            let metric: Metric = enum_col(&t.metric)?;
            let idx = match targets.iter().position(|x| x.metric == metric) {
                Some(i) => i,
                None => {
                    targets.push(Target { metric, total: 0.0, split: BTreeMap::new() });
                    targets.len() - 1
                }
            };
            match user {
                Some(u) => {
                    targets[idx].split.insert(u, t.value);
                }
                None => targets[idx].total = t.value,
            }
        }
        targets.sort_by_key(|t| Metric::ORDER.iter().position(|m| *m == t.metric));
        let manual_metrics = p
            .manual_metrics
            .into_iter()
            .map(|m| {
                let (total, split) = manual_totals.remove(&m.id).unwrap_or_default();
                Ok(ManualMetric { id: uuid_col(&m.id)?, name: m.name, unit: m.unit, total, split })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Project {
            id: uuid_col(&r.id)?,
            org_unit_id: uuid_col(&r.org_unit_id)?,
            segment: enum_col(&r.segment)?,
            portrait_tags: list_col(&r.portrait_tags)?,
            product_package: list_col(&r.product_package)?,
            service_package: list_col(&r.service_package)?,
            status: enum_col(&r.status)?,
            lead_id: uuid_col(&r.lead_id)?,
            supervisor_id: r.supervisor_id.as_deref().map(uuid_col).transpose()?,
            member_ids: p.members.iter().map(|m| uuid_col(m)).collect::<Result<_, _>>()?,
            targets,
            manual_metrics,
            points_rules: p
                .rules
                .into_iter()
                .map(|x| Ok(Rule { action: enum_col(&x.action)?, points: x.points, daily_cap: x.daily_cap }))
                .collect::<Result<_, StoreError>>()?,
            milestones: p
                .milestones
                .into_iter()
                .map(|m| {
                    Ok(Milestone {
                        id: uuid_col(&m.id)?,
                        title: m.title,
                        due_on: m.due_on,
                        done_at: m.done_at.map(|t| t.and_utc()),
                        done_by: m.done_by.as_deref().map(uuid_col).transpose()?,
                    })
                })
                .collect::<Result<_, StoreError>>()?,
            time_zone: p.time_zone,
            branch_id: r.branch_id,
            org_path: r.org_path,
            name: r.name,
            starts_on: r.starts_on,
            ends_on: r.ends_on,
            version: r.version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        })
    }
}

/// Managers see the projects of their subtree; supervisors the ones assigned to them; account
/// managers the ones whose team they are on.
pub(super) fn visible(conn: &mut DbConn, actor: &Actor, row: &ProjectRow) -> Result<bool, StoreError> {
    let me = actor.user_id.to_string();
    if row.lead_id == me || row.supervisor_id.as_deref() == Some(me.as_str()) {
        return Ok(true);
    }
    if actor.role.manages_people() {
        return Ok(actor.scope().contains(&row.org_path));
    }
    store::is_member(conn, &row.id, &me)
}

/// A project row the caller can see (404 otherwise).
pub fn get_row(conn: &mut DbConn, actor: &Actor, id: Uuid) -> Result<ProjectRow, DomainError> {
    match store::find(conn, &id.to_string())? {
        Some(row) if visible(conn, actor, &row)? => Ok(row),
        _ => Err(DomainError::NotFound("project")),
    }
}

pub fn get(conn: &mut DbConn, actor: &Actor, id: Uuid) -> Result<Project, DomainError> {
    let row = get_row(conn, actor, id)?;
    Ok(Project::try_from(store::parts(conn, row)?)?)
}

/// Managers with the project in their subtree change everything.
pub(crate) fn may_manage(actor: &Actor, row: &ProjectRow) -> Result<(), DomainError> {
    if actor.role.manages_people() && actor.scope().contains(&row.org_path) {
        Ok(())
    } else {
        Err(DomainError::forbidden(ErrorCode::RoleNotAllowed, "only the project's managers change it"))
    }
}

/// The team lead also keeps the schedule and enters manual figures.
pub(super) fn may_keep(actor: &Actor, row: &ProjectRow) -> Result<(), DomainError> {
    if row.lead_id == actor.user_id.to_string() { Ok(()) } else { may_manage(actor, row) }
}

#[derive(Debug, Default, Clone)]
pub struct ProjectQuery {
    pub status: Option<ProjectStatus>,
    pub segment: Option<Segment>,
    pub org_unit_id: Option<Uuid>,
    pub member_id: Option<Uuid>,
}

pub fn list(
    conn: &mut DbConn,
    actor: &Actor,
    query: &ProjectQuery,
    page: &PageRequest,
) -> Result<Page<Project>, DomainError> {
    let team_member = if actor.role.manages_people() {
        query.member_id
    } else if query.member_id.is_some_and(|m| m != actor.user_id) {
        return Ok(Page { items: Vec::new(), next_cursor: None });
    } else {
        Some(actor.user_id)
    };
    let filter = ProjectFilter {
        path_prefix: if actor.role.manages_people() { actor.scope().path_prefix() } else { None },
        team_member: team_member.map(|u| u.to_string()),
        status: query.status.map(|s| s.as_str().to_owned()),
        segment: query.segment.map(|s| s.as_str().to_owned()),
        org_unit_id: query.org_unit_id.map(|u| u.to_string()),
    };
    let page = store::list(conn, &filter, page)?;
    let items = store::parts_of(conn, page.items)?.into_iter().map(Project::try_from).collect::<Result<Vec<_>, _>>()?;
    Ok(Page { items, next_cursor: page.next_cursor })
}

/// Who may make a change: the managers over the project, or also its team lead (the schedule and
/// the manual figures are the lead's to keep).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Editor {
    Manager,
    ManagerOrLead,
}

/// Runs a change on a project the caller may make it on, bumping its version, with the audit
/// record: every edit after the create goes through here.
pub(super) fn change(
    conn: &mut DbConn,
    actor: &Actor,
    id: Uuid,
    expected_version: Option<i64>,
    editor: Editor,
    apply: impl FnOnce(&mut DbConn, &Project, &mut ProjectRow) -> Result<(), DomainError>,
) -> Result<Project, DomainError> {
    conn.write_tx(|conn| {
        let current = get_row(conn, actor, id)?;
        match editor {
            Editor::ManagerOrLead => may_keep(actor, &current)?,
            Editor::Manager => may_manage(actor, &current)?,
        }
        if expected_version.is_some_and(|v| v != current.version) {
            return Err(DomainError::conflict(ErrorCode::VersionConflict, "the project changed since you read it"));
        }
        let before = Project::try_from(store::parts(conn, current.clone())?)?;
        let mut next = current.clone();
        apply(conn, &before, &mut next)?;
        next.version = current.version + 1;
        next.updated_at = now_utc();
        if !store::replace(conn, &next, current.version)? {
            return Err(DomainError::conflict(ErrorCode::VersionConflict, "the project changed since you read it"));
        }
        let after = Project::try_from(store::parts(conn, next)?)?;
        let changes = audit::diff(&serde_json::to_value(&before)?, &serde_json::to_value(&after)?);
        audit::record(conn, actor, "project", id, &after.org_path, Action::Update, changes)?;
        Ok(after)
    })
}

/// A project a lead or an event may be linked to: one the caller sees, in the record's branch,
/// still planned or running.
pub fn check_link(conn: &mut DbConn, actor: &Actor, project_id: Uuid, branch_id: &str) -> Result<(), DomainError> {
    let project = get_row(conn, actor, project_id)?;
    if project.branch_id != branch_id {
        return Err(DomainError::NotFound("project"));
    }
    if !matches!(project.status.as_str(), "planned" | "active") {
        return Err(DomainError::invalid("project_id", "the project is not running"));
    }
    Ok(())
}

/// A project a record names for reference (a case's figures, a supervision's subject): one the
/// caller sees, of the record's branch, in any status. A field error otherwise.
pub fn check_reference(conn: &mut DbConn, actor: &Actor, project_id: Uuid, branch_id: &str) -> Result<(), DomainError> {
    let row = get_row(conn, actor, project_id).map_err(|e| match e {
        DomainError::NotFound(_) => DomainError::invalid("project_id", "no such project in your scope"),
        other => other,
    })?;
    if row.branch_id != branch_id {
        return Err(DomainError::invalid("project_id", "must be a project of the same branch"));
    }
    Ok(())
}

/// The project a visit counts for: the one named (the visitor must be on its running team), or,
/// when none is named, the single running project of the visitor on that day.
pub fn project_for_visit(
    conn: &mut DbConn,
    branch_id: &str,
    user_id: Uuid,
    named: Option<Uuid>,
    day_utc: DateTime<Utc>,
) -> Result<Option<Uuid>, DomainError> {
    let clock = Clock::new(&store::branch_time_zone(conn, branch_id)?);
    let day = clock.local_date(day_utc);
    let running = store::running_for_member(conn, &user_id.to_string(), day)?;
    match named {
        Some(project) if running.contains(&project.to_string()) => Ok(Some(project)),
        Some(_) => Err(DomainError::invalid(
            "project_id",
            "not a running project of yours on that day (you must be on its team, inside its period)",
        )),
        None if running.len() == 1 => Ok(running.first().map(|p| uuid_col(p)).transpose()?),
        None => Ok(None),
    }
}

/// For the phones: the projects the caller may read changed in `(after, upto]` of the change
/// feed (one who leaves a team gets a tombstone, see `store::set_members`).
pub fn changed_since(conn: &mut DbConn, actor: &Actor, after: i64, upto: i64) -> Result<Vec<Project>, StoreError> {
    let prefix = if actor.role.manages_people() {
        actor.scope().path_prefix()
    } else {
        actor.branch_id().map(|b| format!("/{b}/"))
    };
    let mut readable = Vec::new();
    for row in store::changed_since(conn, prefix.as_deref(), after, upto)? {
        if visible(conn, actor, &row)? {
            readable.push(row);
        }
    }
    store::parts_of(conn, readable)?.into_iter().map(Project::try_from).collect()
}
