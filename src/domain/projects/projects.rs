//! Segment projects (客群业绩项目): a team, targets split per member, a schedule, points rules.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::domain::common::calendar::{Clock, days_between};
use crate::domain::common::create::Created;
use crate::domain::common::error::Validator;
use crate::domain::common::text::{bounded_text, list_col, list_text, text_list};
use crate::domain::kinds::lead_kind::Segment;
use crate::domain::kinds::project_kind::{Metric, PointsAction, ProjectStatus};
use crate::domain::org::audit::{self, Action};
use crate::domain::{Actor, DomainError, ErrorCode, Role};
use crate::store::projects::projects::{
    self as store, ManualMetricRow, ManualValueRow, MilestoneRow, ProjectFilter, ProjectParts, ProjectRow, RuleRow,
    TargetRow,
};
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

fn manual_key(id: &str) -> String {
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
fn visible(conn: &mut DbConn, actor: &Actor, row: &ProjectRow) -> Result<bool, StoreError> {
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
fn may_keep(actor: &Actor, row: &ProjectRow) -> Result<(), DomainError> {
    if row.lead_id == actor.user_id.to_string() { Ok(()) } else { may_manage(actor, row) }
}

/// The team as given: lead, optional supervisor, members (the lead always among them).
#[derive(Debug, Clone)]
pub struct TeamInput {
    pub lead_id: Uuid,
    pub supervisor_id: Option<Uuid>,
    pub member_ids: Vec<Uuid>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TargetInput {
    pub metric: Metric,
    pub total: f64,
    pub split: BTreeMap<Uuid, f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RuleInput {
    pub action: PointsAction,
    pub points: i32,
    pub daily_cap: Option<i32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MilestoneInput {
    pub title: String,
    pub due_on: NaiveDate,
}

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

#[derive(Debug, Clone, Default)]
pub struct ProjectPatch {
    pub name: Option<String>,
    pub segment: Option<Segment>,
    pub portrait_tags: Option<Vec<String>>,
    pub product_package: Option<Vec<String>>,
    pub service_package: Option<Vec<String>>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub status: Option<ProjectStatus>,
    pub version: Option<i64>,
}

fn check_period(v: &mut Validator, starts_on: NaiveDate, ends_on: NaiveDate) {
    for (field, day) in [("starts_on", starts_on), ("ends_on", ends_on)] {
        if !(2000..=2100).contains(&day.year()) {
            v.add(field, "must be between the years 2000 and 2100");
        }
    }
    if ends_on < starts_on {
        v.add("ends_on", "must not be before starts_on");
    } else if days_between(starts_on, ends_on) > 731 {
        v.add("ends_on", "a project runs at most two years");
    }
}

fn check_number(v: &mut Validator, field: &str, value: f64) {
    if !(value.is_finite() && (0.0..=1e12).contains(&value)) {
        v.add(field, "must be a number between 0 and 1000000000000");
    }
}

fn check_targets(v: &mut Validator, targets: &[TargetInput], team: &[Uuid]) {
    for (i, t) in targets.iter().enumerate() {
        let field = format!("targets[{i}]");
        if targets[..i].iter().any(|o| o.metric == t.metric) {
            v.add(&format!("{field}.metric"), "each metric once");
        }
        check_number(v, &format!("{field}.total"), t.total);
        check_split(v, &field, t.total, &t.split, team);
    }
}

fn check_split(v: &mut Validator, field: &str, total: f64, split: &BTreeMap<Uuid, f64>, team: &[Uuid]) {
    for (user, value) in split {
        if !team.contains(user) {
            v.add(&format!("{field}.split.{user}"), "not a member of the project");
        }
        check_number(v, &format!("{field}.split.{user}"), *value);
    }
    if split.values().sum::<f64>() > total + 1e-9 {
        v.add(&format!("{field}.split"), "the members' shares add up to more than the total");
    }
}

fn check_rules(v: &mut Validator, rules: &[RuleInput]) {
    for (i, r) in rules.iter().enumerate() {
        if rules[..i].iter().any(|o| o.action == r.action) {
            v.add(&format!("points_rules[{i}].action"), "each action once");
        }
        if !(1..=1000).contains(&r.points) {
            v.add(&format!("points_rules[{i}].points"), "must be between 1 and 1000");
        }
        if r.daily_cap.is_some_and(|c| !(1..=100_000).contains(&c)) {
            v.add(&format!("points_rules[{i}].daily_cap"), "must be between 1 and 100000");
        }
    }
}

/// Resolves the team: every user visible to the caller (404 otherwise), active, and inside the
/// project's unit; a supervisor may sit anywhere in the branch.
fn resolve_team(
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

fn target_rows(project_id: &str, targets: &[TargetInput]) -> Vec<TargetRow> {
    let mut rows = Vec::new();
    for t in targets {
        rows.push(TargetRow {
            project_id: project_id.to_owned(),
            metric: t.metric.as_str().to_owned(),
            user_id: String::new(),
            value: t.total,
        });
        for (user, value) in &t.split {
            rows.push(TargetRow {
                project_id: project_id.to_owned(),
                metric: t.metric.as_str().to_owned(),
                user_id: user.to_string(),
                value: *value,
            });
        }
    }
    rows
}

fn rule_rows(project_id: &str, rules: &[RuleInput]) -> Vec<RuleRow> {
    rules
        .iter()
        .map(|r| RuleRow {
            project_id: project_id.to_owned(),
            action: r.action.as_str().to_owned(),
            points: r.points,
            daily_cap: r.daily_cap,
        })
        .collect()
}

fn check_milestone(v: &mut Validator, field: &str, m: &MilestoneInput) -> String {
    let title = bounded_text(v, &format!("{field}.title"), &m.title, 200);
    if title.is_empty() {
        v.add(&format!("{field}.title"), "must not be empty");
    }
    if !(2000..=2100).contains(&m.due_on.year()) {
        v.add(&format!("{field}.due_on"), "must be between the years 2000 and 2100");
    }
    title
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
            return if existing.create_digest == digest && visible(conn, actor, &existing)? {
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

/// Runs a change on a project the caller may manage, bumping its version, with the audit record.
fn change(
    conn: &mut DbConn,
    actor: &Actor,
    id: Uuid,
    expected_version: Option<i64>,
    keep: bool,
    apply: impl FnOnce(&mut DbConn, &Project, &mut ProjectRow) -> Result<(), DomainError>,
) -> Result<Project, DomainError> {
    conn.write_tx(|conn| {
        let current = get_row(conn, actor, id)?;
        if keep {
            may_keep(actor, &current)?
        } else {
            may_manage(actor, &current)?
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

pub fn update(conn: &mut DbConn, actor: &Actor, id: Uuid, patch: ProjectPatch) -> Result<Project, DomainError> {
    let mut v = Validator::default();
    let name =
        patch.name.as_deref().map(|n| v.check("name", crate::domain::common::text::name(n, 100)).unwrap_or_default());
    let tags = patch.portrait_tags.as_deref().map(|t| text_list(&mut v, "portrait_tags", t));
    let products = patch.product_package.as_deref().map(|t| text_list(&mut v, "product_package", t));
    let services = patch.service_package.as_deref().map(|t| text_list(&mut v, "service_package", t));
    v.finish()?;
    change(conn, actor, id, patch.version, false, |_, _, row| {
        if let Some(name) = name {
            row.name = name;
        }
        if let Some(segment) = patch.segment {
            row.segment = segment.as_str().to_owned();
        }
        if let Some(status) = patch.status {
            row.status = status.as_str().to_owned();
        }
        for (value, column) in [(tags, &mut row.portrait_tags), (products, &mut row.product_package)] {
            if let Some(list) = value {
                *column = list_text(&list);
            }
        }
        if let Some(list) = services {
            row.service_package = list_text(&list);
        }
        row.starts_on = patch.starts_on.unwrap_or(row.starts_on);
        row.ends_on = patch.ends_on.unwrap_or(row.ends_on);
        let mut v = Validator::default();
        check_period(&mut v, row.starts_on, row.ends_on);
        v.finish()
    })
}

pub fn set_team(conn: &mut DbConn, actor: &Actor, id: Uuid, team: TeamInput) -> Result<Project, DomainError> {
    change(conn, actor, id, None, false, |conn, _, row| {
        let (lead_id, supervisor_id, members) = resolve_team(conn, actor, &row.org_path.clone(), &team)?;
        row.lead_id = lead_id;
        row.supervisor_id = supervisor_id;
        store::set_members(conn, &row.id, &members)?;
        Ok(())
    })
}

pub fn set_targets(
    conn: &mut DbConn,
    actor: &Actor,
    id: Uuid,
    targets: Vec<TargetInput>,
) -> Result<Project, DomainError> {
    change(conn, actor, id, None, false, |conn, before, row| {
        let mut v = Validator::default();
        check_targets(&mut v, &targets, &before.member_ids);
        v.finish()?;
        store::set_targets(conn, &row.id, &target_rows(&row.id, &targets))?;
        Ok(())
    })
}

pub fn set_rules(conn: &mut DbConn, actor: &Actor, id: Uuid, rules: Vec<RuleInput>) -> Result<Project, DomainError> {
    let mut v = Validator::default();
    check_rules(&mut v, &rules);
    v.finish()?;
    change(conn, actor, id, None, false, |conn, _, row| {
        store::set_rules(conn, &row.id, &rule_rows(&row.id, &rules))?;
        Ok(())
    })
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
    let project = change(conn, actor, id, None, true, |conn, _, row| {
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
    let project = change(conn, actor, id, None, true, |conn, before, row| {
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

#[derive(Debug, Clone)]
pub struct ManualMetricInput {
    pub name: String,
    pub unit: Option<String>,
    pub total: Option<f64>,
    pub split: BTreeMap<Uuid, f64>,
}

pub fn add_manual_metric(
    conn: &mut DbConn,
    actor: &Actor,
    id: Uuid,
    input: ManualMetricInput,
) -> Result<ManualMetric, DomainError> {
    let mut v = Validator::default();
    let name = v.check("name", crate::domain::common::text::name(&input.name, 50)).unwrap_or_default();
    let unit = bounded_text(&mut v, "unit", input.unit.as_deref().unwrap_or(""), 20);
    if let Some(total) = input.total {
        check_number(&mut v, "total", total);
    }
    v.finish()?;
    let metric_id = Uuid::now_v7();
    let project = change(conn, actor, id, None, false, |conn, before, row| {
        let mut v = Validator::default();
        check_split(&mut v, "", input.total.unwrap_or(f64::INFINITY), &input.split, &before.member_ids);
        v.finish()?;
        store::insert_manual_metric(
            conn,
            &ManualMetricRow {
                id: metric_id.to_string(),
                project_id: row.id.clone(),
                name,
                unit,
                created_at: now_utc(),
            },
        )?;
        let key = manual_key(&metric_id.to_string());
        let mut rows: Vec<TargetRow> = input
            .split
            .iter()
            .map(|(u, value)| TargetRow {
                project_id: row.id.clone(),
                metric: key.clone(),
                user_id: u.to_string(),
                value: *value,
            })
            .collect();
        if let Some(total) = input.total {
            rows.push(TargetRow { project_id: row.id.clone(), metric: key, user_id: String::new(), value: total });
        }
        store::insert_targets(conn, &rows)?;
        Ok(())
    })?;
    project.manual_metrics.into_iter().find(|m| m.id == metric_id).ok_or(DomainError::NotFound("manual metric"))
}

#[derive(Debug, Clone, Serialize)]
pub struct ManualValue {
    pub id: Uuid,
    pub metric_id: Uuid,
    pub user_id: Option<Uuid>,
    pub on_date: NaiveDate,
    pub value: f64,
    pub entered_by: Uuid,
    pub created_at: DateTime<Utc>,
}

/// A dated figure of a manual metric, entered by the team lead or a manager (members do not
/// score themselves).
pub fn add_manual_value(
    conn: &mut DbConn,
    actor: &Actor,
    id: Uuid,
    metric_id: Uuid,
    user_id: Option<Uuid>,
    on_date: NaiveDate,
    value: f64,
) -> Result<ManualValue, DomainError> {
    if !(value.is_finite() && value.abs() <= 1e12) {
        return Err(DomainError::invalid("value", "must be a number between -1000000000000 and 1000000000000"));
    }
    conn.write_tx(|conn| {
        let row = get_row(conn, actor, id)?;
        may_keep(actor, &row)?;
        let project = Project::try_from(store::parts(conn, row)?)?;
        if !project.manual_metrics.iter().any(|m| m.id == metric_id) {
            return Err(DomainError::NotFound("manual metric"));
        }
        if user_id.is_some_and(|u| !project.member_ids.contains(&u)) {
            return Err(DomainError::invalid("user_id", "not a member of the project"));
        }
        if on_date < project.starts_on || on_date > project.ends_on {
            return Err(DomainError::invalid("on_date", "must be inside the project's period"));
        }
        let now = now_utc();
        let value_row = ManualValueRow {
            id: Uuid::now_v7().to_string(),
            metric_id: metric_id.to_string(),
            project_id: id.to_string(),
            user_id: user_id.map(|u| u.to_string()),
            on_date,
            value,
            entered_by: actor.user_id.to_string(),
            created_at: now,
        };
        store::insert_manual_value(conn, &value_row)?;
        let out = ManualValue {
            id: uuid_col(&value_row.id)?,
            metric_id,
            user_id,
            on_date,
            value,
            entered_by: actor.user_id,
            created_at: now.and_utc(),
        };
        audit::record(conn, actor, "project", id, &project.org_path, Action::Update, serde_json::to_value(&out)?)?;
        Ok(out)
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
