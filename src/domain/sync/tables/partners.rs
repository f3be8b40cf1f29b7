//! `partners`: the alliance partners of the caller's scope, created and worked on the phone.

use uuid::Uuid;

use crate::domain::DomainError;
use crate::domain::common::create::Created;
use crate::domain::common::phone_privacy::PhoneHolder;
use crate::domain::field::partners::{self, NewPartner, Partner, PartnerPatch};
use crate::domain::sync::declare::entity::{Table, Updated};
use crate::domain::sync::declare::pushed::Pushed;
use crate::domain::sync::declare::{Column, View, float, id_text, json_text, millis, opt_id, opt_text, text};
use crate::store::DbConn;
use crate::store::field::partners as store;

type C = Column<Partner>;

pub static PARTNERS: Table<Partner> = Table {
    name: "partners",
    since: 1,
    scope: "the partners of your subtree (an account manager: their outlet's)",
    columns: &[
        C::string("name", |p, _| text(&p.name)).writable(),
        C::string("category", |p, _| text(p.category.as_str())).writable(),
        C::string("status", |p, _| text(p.status.as_str())).writable().indexed(),
        C::number("lat", |p, v| float(v.position(p.location).lat)).writable(),
        C::number("lon", |p, v| float(v.position(p.location).lon)).writable(),
        C::string("address", |p, _| text(&p.address)).writable(),
        C::string("contact_name", |p, _| opt_text(p.contact_name.as_deref())).optional().writable(),
        // In full to managers and to the partner's owner; masked (`138****5678`) to the others.
        C::string("contact_phone", |p, v| {
            opt_text(p.contact_phone.clone().map(|ph| PhoneHolder::in_care_of(p.owner_id).show(&v.actor, ph)))
        })
        .optional()
        .writable(),
        C::number("audience_size", |p, _| p.audience_size.into()).optional().writable(),
        C::string("audience_unit", |p, _| opt_text(p.audience_unit.map(|u| u.as_str()))).optional().writable(),
        C::string("pain_points_json", |p, _| json_text(&p.pain_points)).writable(),
        C::string("agreed_benefits_json", |p, _| json_text(&p.agreed_benefits)).writable(),
        C::number("visit_cadence_days", |p, _| p.visit_cadence_days.into()).writable(),
        C::number("geofence_m", |p, _| p.geofence_m.into()).writable(),
        // Managers reassign a partner; an account manager's partners are their own.
        C::string("owner_id", |p, _| id_text(p.owner_id)).writable().indexed(),
        C::string("org_unit_id", |p, _| id_text(p.org_unit_id)).writable().indexed(),
        C::string("territory_unit_id", |p, _| opt_id(p.territory_unit_id)).optional(),
        C::number("version", |p, _| p.version.into()),
        C::number("created_at", |p, _| millis(p.created_at)),
        C::number("updated_at", |p, _| millis(p.updated_at)),
    ],
    id: |p| p.id.to_string(),
    changed: |conn, view, after, upto| {
        let scope = view.scope_prefix();
        let rows = store::changed_since(conn, scope.as_deref(), after, upto, i64::MAX)?;
        Ok(rows.into_iter().map(Partner::try_from).collect::<Result<_, _>>()?)
    },
    get: |conn, view, id| partners::get(conn, &view.actor, id),
    deleted: None,
    create: Some(create),
    update: Some(update),
    delete: Some(|conn, view, id| partners::delete(conn, &view.actor, id)),
};

fn create(conn: &mut DbConn, view: &View, id: Uuid, v: &Pushed) -> Result<Created<()>, DomainError> {
    let input = NewPartner {
        id: Some(id),
        name: v.text("name")?.unwrap_or_default(),
        category: v.code("category")?.ok_or_else(|| DomainError::invalid("category", "is required"))?,
        status: v.opt_code("status")?.flatten(),
        location: v.position("lat", "lon")?.ok_or_else(|| DomainError::invalid("lat", "is required"))?,
        address: v.text("address")?,
        contact_name: v.opt_text("contact_name")?.flatten(),
        contact_phone: v.opt_text("contact_phone")?.flatten(),
        audience_size: v.opt_int("audience_size")?.flatten(),
        audience_unit: v.opt_code("audience_unit")?.flatten(),
        pain_points: v.json("pain_points_json")?,
        agreed_benefits: v.json("agreed_benefits_json")?,
        visit_cadence_days: v.int("visit_cadence_days")?.filter(|d| *d != 0),
        geofence_m: v.int("geofence_m")?.filter(|m| *m != 0),
        owner_id: v.opt_id("owner_id")?.flatten(),
        org_unit_id: v.opt_id("org_unit_id")?.flatten(),
    };
    Ok(partners::create(conn, &view.actor, input)?.map(|_| ()))
}

fn update(conn: &mut DbConn, view: &View, id: Uuid, v: &Pushed) -> Result<Updated, DomainError> {
    let patch = PartnerPatch {
        name: v.text("name")?,
        category: v.code("category")?,
        status: v.code("status")?,
        status_note: None,
        location: v.position("lat", "lon")?,
        address: v.text("address")?,
        // An emptied optional text clears it, as in the REST API.
        contact_name: v.opt_text("contact_name")?.map(Option::unwrap_or_default),
        contact_phone: v.opt_text("contact_phone")?.map(Option::unwrap_or_default),
        audience_size: v.opt_int("audience_size")?.flatten(),
        audience_unit: v.opt_code("audience_unit")?.flatten(),
        pain_points: v.json("pain_points_json")?,
        agreed_benefits: v.json("agreed_benefits_json")?,
        visit_cadence_days: v.int("visit_cadence_days")?,
        geofence_m: v.int("geofence_m")?,
        owner_id: v.opt_id("owner_id")?.flatten(),
        org_unit_id: v.opt_id("org_unit_id")?.flatten(),
        version: None,
    };
    partners::update(conn, &view.actor, id, patch).map(|_| Updated::Changed)
}
