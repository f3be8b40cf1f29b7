//! `projects`: the caller's projects (a team they are on, or their subtree's for a manager),
//! with their targets, read-only on the phone (managers plan them in the app's online screens).

use crate::domain::projects::projects::{self, Project};
use crate::domain::sync::declare::entity::Table;
use crate::domain::sync::declare::{Column, id_text, json_text, millis, opt_id, text};

type C = Column<Project>;

pub static PROJECTS: Table<Project> = Table {
    name: "projects",
    since: 2,
    scope: "the projects whose team you are on (managers: those of their subtree)",
    columns: &[
        C::string("name", |p, _| text(&p.name)),
        C::string("segment", |p, _| text(p.segment.as_str())),
        C::string("status", |p, _| text(p.status.as_str())).indexed(),
        // Days of the branch's calendar, `YYYY-MM-DD`.
        C::string("starts_on", |p, _| p.starts_on.to_string().into()),
        C::string("ends_on", |p, _| p.ends_on.to_string().into()),
        C::string("org_unit_id", |p, _| id_text(p.org_unit_id)),
        // The team lead.
        C::string("lead_id", |p, _| id_text(p.lead_id)),
        C::string("supervisor_id", |p, _| opt_id(p.supervisor_id)).optional(),
        C::string("member_ids_json", |p, _| json_text(&p.member_ids)),
        // `[{"metric": "visits", "total": 300, "split": {"<user id>": 60, …}}]`
        C::string("targets_json", |p, _| json_text(&p.targets)),
        C::string("portrait_tags_json", |p, _| json_text(&p.portrait_tags)),
        C::string("product_package_json", |p, _| json_text(&p.product_package)),
        C::string("service_package_json", |p, _| json_text(&p.service_package)),
        C::number("version", |p, _| p.version.into()),
        C::number("created_at", |p, _| millis(p.created_at)),
        C::number("updated_at", |p, _| millis(p.updated_at)),
    ],
    id: |p| p.id.to_string(),
    changed: |conn, view, after, upto| Ok(projects::changed_since(conn, &view.actor, after, upto)?),
    get: |conn, view, id| projects::get(conn, &view.actor, id),
    deleted: None,
    create: None,
    update: None,
    delete: None,
};
