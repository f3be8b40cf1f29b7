//! Segment projects and what hangs off them: team, targets, manual metrics, points rules, milestones.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::store::schema::{
    org_units, project_manual_metrics, project_manual_values, project_members, project_milestones,
    project_points_rules, project_targets, projects,
};
use crate::store::{DbConn, Page, PageRequest, StoreError};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = projects)]
pub struct ProjectRow {
    pub id: String,
    pub branch_id: String,
    pub org_unit_id: String,
    pub org_path: String,
    pub name: String,
    pub segment: String,
    pub portrait_tags: String,
    pub product_package: String,
    pub service_package: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub status: String,
    pub lead_id: String,
    pub supervisor_id: Option<String>,
    pub created_by: String,
    pub create_digest: String,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = project_targets)]
pub struct TargetRow {
    pub project_id: String,
    pub metric: String,
    /// Empty for the project's total.
    pub user_id: String,
    pub value: f64,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = project_manual_metrics)]
pub struct ManualMetricRow {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub unit: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = project_manual_values)]
pub struct ManualValueRow {
    pub id: String,
    pub metric_id: String,
    pub project_id: String,
    pub user_id: Option<String>,
    pub on_date: NaiveDate,
    pub value: f64,
    pub entered_by: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = project_points_rules)]
pub struct RuleRow {
    pub project_id: String,
    pub action: String,
    pub points: i32,
    pub daily_cap: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = project_milestones)]
pub struct MilestoneRow {
    pub id: String,
    pub project_id: String,
    pub title: String,
    pub due_on: NaiveDate,
    pub done_at: Option<NaiveDateTime>,
    pub done_by: Option<String>,
    pub created_at: NaiveDateTime,
}

/// A project with everything it owns, as one read.
#[derive(Debug, Clone)]
pub struct ProjectParts {
    pub project: ProjectRow,
    pub members: Vec<String>,
    pub targets: Vec<TargetRow>,
    pub manual_metrics: Vec<ManualMetricRow>,
    pub rules: Vec<RuleRow>,
    pub milestones: Vec<MilestoneRow>,
    pub time_zone: String,
}

#[derive(Debug, Default, Clone)]
pub struct ProjectFilter {
    pub path_prefix: Option<String>,
    /// Only projects whose team holds this user (member, lead or supervisor).
    pub team_member: Option<String>,
    pub status: Option<String>,
    pub segment: Option<String>,
    pub org_unit_id: Option<String>,
}

// Every write of a project, its team or its targets takes a change number for the phones that
// hold it (call these inside the write's transaction, like `sync::next_seq`).

pub fn insert(conn: &mut DbConn, row: &ProjectRow) -> Result<(), StoreError> {
    on_backend!(conn, |c| diesel::insert_into(projects::table).values(row).execute(c))?;
    touch(conn, &row.id)
}

/// Marks a project changed for the phones.
fn touch(conn: &mut DbConn, project_id: &str) -> Result<(), StoreError> {
    let seq = crate::store::sync::next_seq(conn)?;
    diesel::update(projects::table.find(project_id)).set(projects::seq.eq(seq)).execute(conn)?;
    Ok(())
}

/// Projects of a subtree changed in `(after, upto]`.
pub fn changed_since(
    conn: &mut DbConn,
    path_prefix: Option<&str>,
    after: i64,
    upto: i64,
) -> Result<Vec<ProjectRow>, StoreError> {
    let mut query = projects::table
        .select(ProjectRow::as_select())
        .filter(projects::seq.gt(after))
        .filter(projects::seq.le(upto))
        .into_boxed();
    if let Some(prefix) = path_prefix {
        query = query.filter(projects::org_path.like(format!("{prefix}%")));
    }
    Ok(query.order(projects::seq.asc()).load(conn)?)
}

pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<ProjectRow>, StoreError> {
    Ok(projects::table.find(id).select(ProjectRow::as_select()).first(conn).optional()?)
}

/// The time zone of the project's branch (days of progress and leaderboards are counted in it).
pub fn branch_time_zone(conn: &mut DbConn, branch_id: &str) -> Result<String, StoreError> {
    Ok(org_units::table
        .find(branch_id)
        .select(org_units::time_zone)
        .first::<String>(conn)
        .optional()?
        .unwrap_or_else(|| "Asia/Shanghai".to_owned()))
}

pub fn parts(conn: &mut DbConn, project: ProjectRow) -> Result<ProjectParts, StoreError> {
    let id = project.id.clone();
    let members = project_members::table
        .filter(project_members::project_id.eq(&id))
        .select(project_members::user_id)
        .order(project_members::user_id.asc())
        .load(conn)?;
    let targets = project_targets::table
        .filter(project_targets::project_id.eq(&id))
        .select(TargetRow::as_select())
        .order((project_targets::metric.asc(), project_targets::user_id.asc()))
        .load(conn)?;
    let manual_metrics = project_manual_metrics::table
        .filter(project_manual_metrics::project_id.eq(&id))
        .select(ManualMetricRow::as_select())
        .order(project_manual_metrics::id.asc())
        .load(conn)?;
    let rules = rules(conn, &id)?;
    let milestones = project_milestones::table
        .filter(project_milestones::project_id.eq(&id))
        .select(MilestoneRow::as_select())
        .order((project_milestones::due_on.asc(), project_milestones::id.asc()))
        .load(conn)?;
    let time_zone = branch_time_zone(conn, &project.branch_id)?;
    Ok(ProjectParts { project, members, targets, manual_metrics, rules, milestones, time_zone })
}

/// [`parts`] of many projects at once, in their order: six queries whatever their number (each
/// part read for all of them, keyed by project id, in the order [`parts`] reads it), not six each.
pub fn parts_of(conn: &mut DbConn, projects: Vec<ProjectRow>) -> Result<Vec<ProjectParts>, StoreError> {
    if projects.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<&str> = projects.iter().map(|p| p.id.as_str()).collect();
    let mut members: HashMap<String, Vec<String>> = HashMap::new();
    for (project_id, user_id) in project_members::table
        .filter(project_members::project_id.eq_any(&ids))
        .select((project_members::project_id, project_members::user_id))
        .order(project_members::user_id.asc())
        .load::<(String, String)>(conn)?
    {
        members.entry(project_id).or_default().push(user_id);
    }
    let mut targets = by_project(
        project_targets::table
            .filter(project_targets::project_id.eq_any(&ids))
            .select(TargetRow::as_select())
            .order((project_targets::metric.asc(), project_targets::user_id.asc()))
            .load(conn)?,
        |r: &TargetRow| &r.project_id,
    );
    let mut manual_metrics = by_project(
        project_manual_metrics::table
            .filter(project_manual_metrics::project_id.eq_any(&ids))
            .select(ManualMetricRow::as_select())
            .order(project_manual_metrics::id.asc())
            .load(conn)?,
        |r: &ManualMetricRow| &r.project_id,
    );
    let mut rules = by_project(
        project_points_rules::table
            .filter(project_points_rules::project_id.eq_any(&ids))
            .select(RuleRow::as_select())
            .order(project_points_rules::action.asc())
            .load(conn)?,
        |r: &RuleRow| &r.project_id,
    );
    let mut milestones = by_project(
        project_milestones::table
            .filter(project_milestones::project_id.eq_any(&ids))
            .select(MilestoneRow::as_select())
            .order((project_milestones::due_on.asc(), project_milestones::id.asc()))
            .load(conn)?,
        |r: &MilestoneRow| &r.project_id,
    );
    let branches: Vec<&str> = projects.iter().map(|p| p.branch_id.as_str()).collect();
    let zones: HashMap<String, String> = org_units::table
        .filter(org_units::id.eq_any(&branches))
        .select((org_units::id, org_units::time_zone))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    Ok(projects
        .into_iter()
        .map(|project| {
            let id = project.id.as_str();
            ProjectParts {
                members: members.remove(id).unwrap_or_default(),
                targets: targets.remove(id).unwrap_or_default(),
                manual_metrics: manual_metrics.remove(id).unwrap_or_default(),
                rules: rules.remove(id).unwrap_or_default(),
                milestones: milestones.remove(id).unwrap_or_default(),
                time_zone: zones.get(&project.branch_id).cloned().unwrap_or_else(|| "Asia/Shanghai".to_owned()),
                project,
            }
        })
        .collect())
}

/// Rows grouped by their project, each group in the rows' order.
fn by_project<R>(rows: Vec<R>, project_id: impl Fn(&R) -> &String) -> HashMap<String, Vec<R>> {
    let mut groups: HashMap<String, Vec<R>> = HashMap::new();
    for row in rows {
        groups.entry(project_id(&row).clone()).or_default().push(row);
    }
    groups
}

pub fn rules(conn: &mut DbConn, project_id: &str) -> Result<Vec<RuleRow>, StoreError> {
    Ok(project_points_rules::table
        .filter(project_points_rules::project_id.eq(project_id))
        .select(RuleRow::as_select())
        .order(project_points_rules::action.asc())
        .load(conn)?)
}

pub fn list(conn: &mut DbConn, filter: &ProjectFilter, page: &PageRequest) -> Result<Page<ProjectRow>, StoreError> {
    let mut query = projects::table.select(ProjectRow::as_select()).into_boxed();
    if let Some(prefix) = &filter.path_prefix {
        query = query.filter(projects::org_path.like(format!("{prefix}%")));
    }
    if let Some(user) = &filter.team_member {
        let member_of = project_members::table
            .filter(project_members::user_id.eq(user.clone()))
            .select(project_members::project_id);
        query = query.filter(
            projects::id
                .eq_any(member_of)
                .or(projects::lead_id.eq(user.clone()))
                .or(projects::supervisor_id.eq(user.clone())),
        );
    }
    if let Some(v) = &filter.status {
        query = query.filter(projects::status.eq(v.clone()));
    }
    if let Some(v) = &filter.segment {
        query = query.filter(projects::segment.eq(v.clone()));
    }
    if let Some(v) = &filter.org_unit_id {
        query = query.filter(projects::org_unit_id.eq(v.clone()));
    }
    if let Some(after) = &page.after {
        query = query.filter(projects::id.gt(after.clone()));
    }
    let rows = query.order(projects::id.asc()).limit(page.limit + 1).load(conn)?;
    Ok(page.page(rows, |r| &r.id))
}

pub fn replace(conn: &mut DbConn, row: &ProjectRow, expected_version: i64) -> Result<bool, StoreError> {
    let changed = diesel::update(projects::table.find(&row.id).filter(projects::version.eq(expected_version)))
        .set((
            projects::name.eq(&row.name),
            projects::segment.eq(&row.segment),
            projects::portrait_tags.eq(&row.portrait_tags),
            projects::product_package.eq(&row.product_package),
            projects::service_package.eq(&row.service_package),
            projects::starts_on.eq(row.starts_on),
            projects::ends_on.eq(row.ends_on),
            projects::status.eq(&row.status),
            projects::lead_id.eq(&row.lead_id),
            projects::supervisor_id.eq(&row.supervisor_id),
            projects::version.eq(row.version),
            projects::updated_at.eq(row.updated_at),
        ))
        .execute(conn)?;
    if changed == 1 {
        touch(conn, &row.id)?;
    }
    Ok(changed == 1)
}

pub fn set_members(conn: &mut DbConn, project_id: &str, members: &[String]) -> Result<(), StoreError> {
    // Whoever leaves the team drops the project from their phone.
    let before: Vec<String> = project_members::table
        .filter(project_members::project_id.eq(project_id))
        .select(project_members::user_id)
        .load(conn)?;
    let path: String = projects::table.find(project_id).select(projects::org_path).first(conn)?;
    for gone in before.iter().filter(|u| !members.contains(u)) {
        let seq = crate::store::sync::next_seq(conn)?;
        let (project, user) = (crate::store::uuid_col(project_id)?, crate::store::uuid_col(gone)?);
        crate::store::sync::tombstone(conn, seq, "projects", project, &path, Some(user))?;
    }
    diesel::delete(project_members::table.filter(project_members::project_id.eq(project_id))).execute(conn)?;
    for user in members {
        on_backend!(conn, |c| diesel::insert_into(project_members::table)
            .values((project_members::project_id.eq(project_id), project_members::user_id.eq(user)))
            .execute(c))?;
    }
    touch(conn, project_id)
}

/// Replaces the standard targets; manual metrics' targets (`manual:<id>`) are kept.
pub fn set_targets(conn: &mut DbConn, project_id: &str, rows: &[TargetRow]) -> Result<(), StoreError> {
    diesel::delete(
        project_targets::table
            .filter(project_targets::project_id.eq(project_id))
            .filter(project_targets::metric.not_like("manual:%")),
    )
    .execute(conn)?;
    insert_targets(conn, rows)
}

pub fn insert_targets(conn: &mut DbConn, rows: &[TargetRow]) -> Result<(), StoreError> {
    for row in rows {
        on_backend!(conn, |c| diesel::insert_into(project_targets::table).values(row).execute(c))?;
    }
    let projects: std::collections::BTreeSet<&str> = rows.iter().map(|r| r.project_id.as_str()).collect();
    projects.into_iter().try_for_each(|p| touch(conn, p))
}

pub fn set_rules(conn: &mut DbConn, project_id: &str, rows: &[RuleRow]) -> Result<(), StoreError> {
    diesel::delete(project_points_rules::table.filter(project_points_rules::project_id.eq(project_id)))
        .execute(conn)?;
    for row in rows {
        on_backend!(conn, |c| diesel::insert_into(project_points_rules::table).values(row).execute(c))?;
    }
    Ok(())
}

pub fn insert_milestone(conn: &mut DbConn, row: &MilestoneRow) -> Result<(), StoreError> {
    on_backend!(conn, |c| diesel::insert_into(project_milestones::table).values(row).execute(c))?;
    Ok(())
}

pub fn update_milestone(conn: &mut DbConn, row: &MilestoneRow) -> Result<(), StoreError> {
    diesel::update(project_milestones::table.find(&row.id))
        .set((
            project_milestones::title.eq(&row.title),
            project_milestones::due_on.eq(row.due_on),
            project_milestones::done_at.eq(row.done_at),
            project_milestones::done_by.eq(&row.done_by),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn insert_manual_metric(conn: &mut DbConn, row: &ManualMetricRow) -> Result<(), StoreError> {
    on_backend!(conn, |c| diesel::insert_into(project_manual_metrics::table).values(row).execute(c))?;
    Ok(())
}

pub fn insert_manual_value(conn: &mut DbConn, row: &ManualValueRow) -> Result<(), StoreError> {
    on_backend!(conn, |c| diesel::insert_into(project_manual_values::table).values(row).execute(c))?;
    Ok(())
}

/// Manual values of a project dated inside `[from, to]`.
pub fn manual_values(
    conn: &mut DbConn,
    project_id: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<ManualValueRow>, StoreError> {
    Ok(project_manual_values::table
        .filter(project_manual_values::project_id.eq(project_id))
        .filter(project_manual_values::on_date.between(from, to))
        .select(ManualValueRow::as_select())
        .load(conn)?)
}

/// The running projects (status `active`) whose team holds `user_id` and whose period contains `day`.
pub fn running_for_member(conn: &mut DbConn, user_id: &str, day: NaiveDate) -> Result<Vec<String>, StoreError> {
    let member_of =
        project_members::table.filter(project_members::user_id.eq(user_id)).select(project_members::project_id);
    Ok(projects::table
        .filter(projects::id.eq_any(member_of))
        .filter(projects::status.eq("active"))
        .filter(projects::starts_on.le(day))
        .filter(projects::ends_on.ge(day))
        .select(projects::id)
        .load(conn)?)
}

pub fn is_member(conn: &mut DbConn, project_id: &str, user_id: &str) -> Result<bool, StoreError> {
    Ok(project_members::table
        .filter(project_members::project_id.eq(project_id))
        .filter(project_members::user_id.eq(user_id))
        .count()
        .get_result::<i64>(conn)?
        > 0)
}
