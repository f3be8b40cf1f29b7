//! `visits`: geotagged visits, recorded offline; where and when stay as recorded (evidence), the
//! rest may be edited by their author.

use uuid::Uuid;

use crate::domain::DomainError;
use crate::domain::common::create::Created;
use crate::domain::field::visits::{self, NewVisit, Visit, VisitPatch};
use crate::domain::sync::declare::entity::{Table, Updated};
use crate::domain::sync::declare::pushed::Pushed;
use crate::domain::sync::declare::{
    Column, View, float, id_text, json_text, millis, opt_float, opt_id, opt_millis, opt_text, text,
};
use crate::store::DbConn;
use crate::store::field::visits as store;

type C = Column<Visit>;

pub static VISITS: Table<Visit> = Table {
    name: "visits",
    since: 1,
    scope: "an account manager's own visits; everyone else's: the visits of their subtree",
    columns: &[
        C::string("partner_id", |v, _| opt_id(v.partner_id)).optional().indexed().on_create(),
        C::string("user_id", |v, _| id_text(v.user_id)).indexed(),
        C::string("org_unit_id", |v, _| id_text(v.org_unit_id)),
        C::number("visited_at", |v, _| millis(v.visited_at)).on_create(),
        C::number("lat", |v, view| float(view.position(v.location).lat)).on_create(),
        C::number("lon", |v, view| float(view.position(v.location).lon)).on_create(),
        C::number("accuracy_m", |v, _| float(v.accuracy_m)).on_create(),
        C::boolean("mock_location", |v, _| v.mock_location.into()).optional().on_create(),
        C::number("location_age_s", |v, _| opt_float(v.location_age_s)).optional().on_create(),
        C::string("purpose", |v, _| text(v.purpose.as_str())).writable(),
        C::string("notes", |v, _| text(&v.notes)).writable(),
        C::string("outcome", |v, _| opt_text(v.outcome.map(|o| o.as_str()))).optional().writable(),
        C::string("next_step", |v, _| opt_text(v.next_step.as_deref())).optional().writable(),
        C::number("next_visit_at", |v, _| opt_millis(v.next_visit_at)).optional().writable(),
        C::string("project_id", |v, _| opt_id(v.project_id)).optional().writable(),
        // The server's verdict on where and when (docs/VERIFICATION.md).
        C::boolean("verified", |v, _| v.verified.into()),
        C::number("distance_m", |v, _| opt_float(v.distance_m)).optional(),
        C::string("reasons_json", |v, _| json_text(&v.reasons)),
        C::number("version", |v, _| v.version.into()),
        C::number("created_at", |v, _| millis(v.created_at)),
        C::number("updated_at", |v, _| millis(v.updated_at)),
    ],
    id: |v| v.id.to_string(),
    changed: |conn, view, after, upto| {
        let scope = view.scope_prefix();
        let own = view.own_user();
        let rows = store::changed_since(conn, scope.as_deref(), own.as_deref(), after, upto, i64::MAX)?;
        Ok(rows.into_iter().map(Visit::try_from).collect::<Result<_, _>>()?)
    },
    get: |conn, view, id| visits::get(conn, &view.actor, id),
    deleted: None,
    create: Some(create),
    update: Some(update),
    delete: Some(|conn, view, id| visits::delete(conn, &view.actor, id)),
};

fn create(conn: &mut DbConn, view: &View, id: Uuid, v: &Pushed) -> Result<Created<()>, DomainError> {
    let required = |field: &str| DomainError::invalid(field, "is required");
    let input = NewVisit {
        id: Some(id),
        partner_id: v.opt_id("partner_id")?.flatten(),
        location: v.position("lat", "lon")?.ok_or_else(|| required("lat"))?,
        accuracy_m: v.number("accuracy_m")?.ok_or_else(|| required("accuracy_m"))?,
        visited_at: v.time("visited_at")?.ok_or_else(|| required("visited_at"))?,
        purpose: v.code("purpose")?.ok_or_else(|| required("purpose"))?,
        notes: v.text("notes")?,
        outcome: v.opt_code("outcome")?.flatten(),
        next_step: v.opt_text("next_step")?.flatten(),
        next_visit_at: v.opt_time("next_visit_at")?.flatten(),
        mock_location: v.opt_boolean("mock_location")?.flatten(),
        location_age_s: v.opt_number("location_age_s")?.flatten(),
        project_id: v.opt_id("project_id")?.flatten(),
    };
    Ok(visits::create(conn, &view.actor, &view.thresholds, input)?.map(|_| ()))
}

fn update(conn: &mut DbConn, view: &View, id: Uuid, v: &Pushed) -> Result<Updated, DomainError> {
    let patch = VisitPatch {
        purpose: v.code("purpose")?,
        notes: v.text("notes")?,
        outcome: v.opt_code("outcome")?.flatten(),
        next_step: v.opt_text("next_step")?.map(Option::unwrap_or_default),
        next_visit_at: v.opt_time("next_visit_at")?.flatten(),
        project_id: v.opt_id("project_id")?.flatten(),
        version: None,
    };
    visits::update(conn, &view.actor, id, patch).map(|_| Updated::Changed)
}
