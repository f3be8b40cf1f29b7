//! A project's own fields: name, segment, portrait tags and packages, its period and its status,
//! changed by its managers under the record's version.

use chrono::{Datelike, NaiveDate};
use uuid::Uuid;

use super::projects::{self, Editor, Project};
use crate::domain::common::calendar::days_between;
use crate::domain::common::error::Validator;
use crate::domain::common::text::{list_text, text_list};
use crate::domain::kinds::lead_kind::Segment;
use crate::domain::kinds::project_kind::ProjectStatus;
use crate::domain::{Actor, DomainError};
use crate::store::DbConn;

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

/// A period the calendar knows (the years 2000 to 2100), in order, and at most two years long.
pub(super) fn check_period(v: &mut Validator, starts_on: NaiveDate, ends_on: NaiveDate) {
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

pub fn update(conn: &mut DbConn, actor: &Actor, id: Uuid, patch: ProjectPatch) -> Result<Project, DomainError> {
    let mut v = Validator::default();
    let name =
        patch.name.as_deref().map(|n| v.check("name", crate::domain::common::text::name(n, 100)).unwrap_or_default());
    let tags = patch.portrait_tags.as_deref().map(|t| text_list(&mut v, "portrait_tags", t));
    let products = patch.product_package.as_deref().map(|t| text_list(&mut v, "product_package", t));
    let services = patch.service_package.as_deref().map(|t| text_list(&mut v, "service_package", t));
    v.finish()?;
    projects::change(conn, actor, id, patch.version, Editor::Manager, |_, _, row| {
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
