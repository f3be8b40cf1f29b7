//! `leads`: the people and micro-businesses found in the market, created and worked offline.
//! A phone already a lead of the branch is refused with the existing lead's id when the caller
//! may read it (`sync_rejections.existing_id`).

use uuid::Uuid;

use crate::domain::DomainError;
use crate::domain::common::create::Created;
use crate::domain::events::leads::{self, Lead, LeadPatch, NewLead, fen_to_yuan};
use crate::domain::sync::declare::entity::{Table, Updated};
use crate::domain::sync::declare::pushed::Pushed;
use crate::domain::sync::declare::{
    Column, View, id_text, json_text, millis, opt_float, opt_id, opt_millis, opt_text, text,
};
use crate::store::DbConn;
use crate::store::events::leads as store;

type C = Column<Lead>;

pub static LEADS: Table<Lead> = Table {
    name: "leads",
    since: 2,
    scope: "an account manager's own leads; everyone else's: the leads of their subtree",
    columns: &[
        C::string("kind", |l, _| text(l.kind.as_str())).writable(),
        C::string("name", |l, _| text(&l.name)).writable(),
        // In full to the owner and to managers; masked (`138****5678`) to the others, and to
        // all but managers once the person asked not to be contacted.
        C::string("phone", |l, v| text(&l.phone_holder().show(&v.actor, l.phone.clone()))).indexed().on_create(),
        C::string("source", |l, _| text(l.source.as_str())).on_create(),
        C::string("source_id", |l, _| opt_id(l.source_id)).optional().on_create(),
        C::string("partner_id", |l, _| opt_id(l.partner_id)).optional().indexed().writable(),
        C::string("project_id", |l, _| opt_id(l.project_id)).optional().indexed().writable(),
        C::string("segment", |l, _| text(l.segment.as_str())).writable(),
        C::string("portrait_tags_json", |l, _| json_text(&l.portrait_tags)).writable(),
        C::string("needs", |l, _| text(&l.needs)).writable(),
        C::string("product_interest_json", |l, _| json_text(&l.product_interest)).writable(),
        // Amounts in yuan, as the REST API gives them.
        C::number("expected_amount", |l, _| opt_float(fen_to_yuan(l.expected_amount_fen))).optional().writable(),
        C::string("status", |l, _| text(l.status.as_str())).indexed().writable(),
        C::number("converted_amount", |l, _| opt_float(fen_to_yuan(l.converted_amount_fen))).optional().writable(),
        C::number("converted_at", |l, _| opt_millis(l.converted_at)).optional().writable(),
        C::string("lost_reason", |l, _| opt_text(l.lost_reason.as_deref())).optional().writable(),
        C::boolean("do_not_contact", |l, _| l.do_not_contact.into()).writable(),
        // Managers assign a lead; an account manager's leads are their own.
        C::string("owner_id", |l, _| id_text(l.owner_id)).indexed().writable(),
        C::string("org_unit_id", |l, _| id_text(l.org_unit_id)),
        C::number("version", |l, _| l.version.into()),
        C::number("created_at", |l, _| millis(l.created_at)),
        C::number("updated_at", |l, _| millis(l.updated_at)),
    ],
    id: |l| l.id.to_string(),
    changed: |conn, view, after, upto| {
        let scope = view.scope_prefix();
        let own = view.own_user();
        let rows = store::changed_since(conn, scope.as_deref(), own.as_deref(), after, upto)?;
        Ok(rows.into_iter().map(Lead::try_from).collect::<Result<_, _>>()?)
    },
    get: |conn, view, id| leads::get(conn, &view.actor, id),
    deleted: None,
    create: Some(create),
    update: Some(update),
    delete: Some(|conn, view, id| leads::delete(conn, &view.actor, id)),
};

fn create(conn: &mut DbConn, view: &View, id: Uuid, v: &Pushed) -> Result<Created<()>, DomainError> {
    let input = NewLead {
        id: Some(id),
        kind: v.opt_code("kind")?.flatten(),
        name: v.text("name")?.unwrap_or_default(),
        phone: v.text("phone")?.unwrap_or_default(),
        source: v.code("source")?.ok_or_else(|| DomainError::invalid("source", "is required"))?,
        source_id: v.opt_id("source_id")?.flatten(),
        partner_id: v.opt_id("partner_id")?.flatten(),
        segment: v.opt_code("segment")?.flatten(),
        portrait_tags: v.json("portrait_tags_json")?,
        needs: v.text("needs")?,
        product_interest: v.json("product_interest_json")?,
        expected_amount: v.opt_number("expected_amount")?.flatten(),
        do_not_contact: v.opt_boolean("do_not_contact")?.flatten(),
        project_id: v.opt_id("project_id")?.flatten(),
        owner_id: v.opt_id("owner_id")?.flatten(),
    };
    Ok(leads::create(conn, &view.actor, input)?.map(|_| ()))
}

fn update(conn: &mut DbConn, view: &View, id: Uuid, v: &Pushed) -> Result<Updated, DomainError> {
    let patch = LeadPatch {
        name: v.text("name")?,
        kind: v.code("kind")?,
        segment: v.code("segment")?,
        portrait_tags: v.json("portrait_tags_json")?,
        needs: v.text("needs")?,
        product_interest: v.json("product_interest_json")?,
        expected_amount: v.opt_number("expected_amount")?.flatten(),
        partner_id: v.opt_id("partner_id")?.flatten(),
        project_id: v.opt_id("project_id")?.flatten(),
        do_not_contact: v.opt_boolean("do_not_contact")?.flatten(),
        status: v.code("status")?,
        converted_amount: v.opt_number("converted_amount")?.flatten(),
        converted_at: v.opt_time("converted_at")?.flatten(),
        lost_reason: v.opt_text("lost_reason")?.flatten(),
        // Schema version 2 of the phone's tables has no product: a conversion at or above the
        // confirmation amount is made in the app's online form (REST), which has.
        conversion_product: None,
        conversion_reference: None,
        note: None,
        owner_id: v.opt_id("owner_id")?.flatten(),
        version: None,
    };
    leads::update(conn, &view.actor, &view.thresholds, id, patch).map(|_| Updated::Changed)
}
