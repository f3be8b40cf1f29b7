//! What a project aims at and how it scores: its targets (a total per metric, split among the
//! members) and its points rules (points per action, with a daily cap).

use std::collections::BTreeMap;

use serde::Serialize;
use uuid::Uuid;

use super::projects::{self, Editor, Project};
use crate::domain::common::error::Validator;
use crate::domain::kinds::project_kind::{Metric, PointsAction};
use crate::domain::{Actor, DomainError};
use crate::store::DbConn;
use crate::store::projects::projects::{self as store, RuleRow, TargetRow};

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

pub(super) fn check_number(v: &mut Validator, field: &str, value: f64) {
    if !(value.is_finite() && (0.0..=1e12).contains(&value)) {
        v.add(field, "must be a number between 0 and 1000000000000");
    }
}

pub(super) fn check_targets(v: &mut Validator, targets: &[TargetInput], team: &[Uuid]) {
    for (i, t) in targets.iter().enumerate() {
        let field = format!("targets[{i}]");
        if targets[..i].iter().any(|o| o.metric == t.metric) {
            v.add(&format!("{field}.metric"), "each metric once");
        }
        check_number(v, &format!("{field}.total"), t.total);
        check_split(v, &field, t.total, &t.split, team);
    }
}

pub(super) fn check_split(v: &mut Validator, field: &str, total: f64, split: &BTreeMap<Uuid, f64>, team: &[Uuid]) {
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

pub(super) fn check_rules(v: &mut Validator, rules: &[RuleInput]) {
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

pub(super) fn target_rows(project_id: &str, targets: &[TargetInput]) -> Vec<TargetRow> {
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

pub(super) fn rule_rows(project_id: &str, rules: &[RuleInput]) -> Vec<RuleRow> {
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

pub fn set_targets(
    conn: &mut DbConn,
    actor: &Actor,
    id: Uuid,
    targets: Vec<TargetInput>,
) -> Result<Project, DomainError> {
    projects::change(conn, actor, id, None, Editor::Manager, |conn, before, row| {
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
    projects::change(conn, actor, id, None, Editor::Manager, |conn, _, row| {
        store::set_rules(conn, &row.id, &rule_rows(&row.id, &rules))?;
        Ok(())
    })
}
