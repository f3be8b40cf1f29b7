//! Manual metrics: figures the system cannot count itself (a product sold at the counter, say),
//! named per project with an optional target split among the members, and their dated values
//! entered by the team lead or a manager.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::project_targets::{check_number, check_split};
use super::projects::{self, Editor, ManualMetric, Project, manual_key};
use crate::domain::common::error::Validator;
use crate::domain::common::text::bounded_text;
use crate::domain::org::audit::{self, Action};
use crate::domain::{Actor, DomainError};
use crate::store::projects::projects::{self as store, ManualMetricRow, ManualValueRow, TargetRow};
use crate::store::{DbConn, now_utc, uuid_col};

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
    let project = projects::change(conn, actor, id, None, Editor::Manager, |conn, before, row| {
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
        let row = projects::get_row(conn, actor, id)?;
        projects::may_keep(actor, &row)?;
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
