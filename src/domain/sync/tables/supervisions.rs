//! `supervisions`: a supervisor's geotagged visit to an outlet with the method's checklist;
//! recorded offline by supervisors and managers, read by the outlet's staff.

use serde::Deserialize;
use uuid::Uuid;

use crate::domain::DomainError;
use crate::domain::common::create::Created;
use crate::domain::supervision::supervisions::{
    self, ChecklistInput, NewSupervision, Supervision, SupervisionItem, SupervisionPatch,
};
use crate::domain::sync::declare::entity::{Table, Updated};
use crate::domain::sync::declare::pushed::Pushed;
use crate::domain::sync::declare::{Column, View, float, id_text, json_text, millis, opt_float, opt_id, text};
use crate::store::DbConn;
use crate::store::supervision::supervisions as store;

type C = Column<Supervision>;

pub static SUPERVISIONS: Table<Supervision> = Table {
    name: "supervisions",
    since: 1,
    scope: "the supervisions of the outlets in your subtree (an outlet's staff: their outlet's)",
    columns: &[
        // The outlet supervised.
        C::string("org_unit_id", |s, _| id_text(s.org_unit_id)).indexed().on_create(),
        C::string("supervisor_id", |s, _| id_text(s.supervisor_id)),
        C::string("project_id", |s, _| opt_id(s.project_id)).optional().writable(),
        C::number("visited_at", |s, _| millis(s.visited_at)).on_create(),
        C::number("lat", |s, v| float(v.position(s.location).lat)).on_create(),
        C::number("lon", |s, v| float(v.position(s.location).lon)).on_create(),
        C::number("accuracy_m", |s, _| float(s.accuracy_m)).on_create(),
        C::boolean("mock_location", |s, _| s.mock_location.into()).optional().on_create(),
        C::number("location_age_s", |s, _| opt_float(s.location_age_s)).optional().on_create(),
        C::boolean("verified", |s, _| s.verified.into()),
        C::number("distance_m", |s, _| opt_float(s.distance_m)).optional(),
        C::string("reasons_json", |s, _| json_text(&s.reasons)),
        // [{item, score 1–5, notes, photos}]; a phone sends [{item, score, notes}] (photos are
        // uploaded with `POST /api/v1/supervisions/{id}/photos?item=` and kept on a rescore).
        C::string("checklist_json", |s, _| json_text(&s.checklist)).writable(),
        C::string("review_worked", |s, _| text(&s.review_worked)).writable(),
        C::string("review_change", |s, _| text(&s.review_change)).writable(),
        C::number("version", |s, _| s.version.into()),
        C::number("created_at", |s, _| millis(s.created_at)),
        C::number("updated_at", |s, _| millis(s.updated_at)),
    ],
    id: |s| s.id.to_string(),
    changed: |conn, view, after, upto| {
        let scope = view.scope_prefix();
        let rows = store::changed_since(conn, scope.as_deref(), after, upto, i64::MAX)?;
        Ok(rows.into_iter().map(Supervision::try_from).collect::<Result<_, _>>()?)
    },
    get: |conn, view, id| supervisions::get(conn, &view.actor, id),
    deleted: None,
    create: Some(create),
    update: Some(update),
    delete: Some(|conn, view, id| supervisions::delete(conn, &view.actor, id)),
};

#[derive(Deserialize)]
struct Item {
    item: String,
    score: i64,
    notes: Option<String>,
}

fn checklist(v: &Pushed) -> Result<Option<Vec<ChecklistInput>>, DomainError> {
    let Some(items) = v.json::<Vec<Item>>("checklist_json")? else { return Ok(None) };
    items
        .into_iter()
        .map(|i| {
            let item = i
                .item
                .parse::<SupervisionItem>()
                .map_err(|()| DomainError::invalid("checklist_json", format!("unknown checklist item {:?}", i.item)))?;
            Ok(ChecklistInput { item, score: i.score, notes: i.notes })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn create(conn: &mut DbConn, view: &View, id: Uuid, v: &Pushed) -> Result<Created<()>, DomainError> {
    let required = |field: &str| DomainError::invalid(field, "is required");
    let input = NewSupervision {
        id: Some(id),
        org_unit_id: v.id("org_unit_id")?.ok_or_else(|| required("org_unit_id"))?,
        project_id: v.opt_id("project_id")?.flatten(),
        location: v.position("lat", "lon")?.ok_or_else(|| required("lat"))?,
        accuracy_m: v.number("accuracy_m")?.ok_or_else(|| required("accuracy_m"))?,
        visited_at: v.time("visited_at")?.ok_or_else(|| required("visited_at"))?,
        mock_location: v.opt_boolean("mock_location")?.flatten(),
        location_age_s: v.opt_number("location_age_s")?.flatten(),
        checklist: checklist(v)?.unwrap_or_default(),
        review_worked: v.text("review_worked")?,
        review_change: v.text("review_change")?,
    };
    Ok(supervisions::create(conn, &view.actor, &view.thresholds, input)?.map(|_| ()))
}

fn update(conn: &mut DbConn, view: &View, id: Uuid, v: &Pushed) -> Result<Updated, DomainError> {
    let patch = SupervisionPatch {
        checklist: checklist(v)?,
        review_worked: v.text("review_worked")?,
        review_change: v.text("review_change")?,
        project_id: v.opt_id("project_id")?.flatten(),
        version: None,
    };
    supervisions::update(conn, &view.actor, &view.thresholds, id, patch).map(|_| Updated::Changed)
}
