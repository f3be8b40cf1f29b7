use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::store::field::partners::lower;
use crate::store::schema::{lead_history, leads, registrations};
use crate::store::{DbConn, Page, PageRequest, StoreError, sync};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = leads)]
pub struct LeadRow {
    pub id: String,
    pub branch_id: String,
    pub org_unit_id: String,
    pub org_path: String,
    pub owner_id: String,
    pub project_id: Option<String>,
    pub name: String,
    pub phone: String,
    pub source: String,
    pub source_id: Option<String>,
    pub status: String,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub kind: String,
    pub partner_id: Option<String>,
    pub segment: String,
    /// JSON list of texts.
    pub portrait_tags: String,
    pub needs: String,
    /// JSON list of texts.
    pub product_interest: String,
    pub expected_amount_fen: Option<i64>,
    pub converted_amount_fen: Option<i64>,
    pub converted_at: Option<NaiveDateTime>,
    pub lost_reason: Option<String>,
    pub do_not_contact: bool,
    pub create_digest: String,
    pub conversion_product: Option<String>,
    pub conversion_reference: Option<String>,
    /// A conversion counts and earns once confirmed (by a manager above the confirmation amount,
    /// at once below it); none while it waits.
    pub conversion_confirmed_at: Option<NaiveDateTime>,
    pub conversion_confirmed_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = lead_history)]
pub struct LeadHistoryRow {
    pub id: String,
    pub lead_id: String,
    pub kind: String,
    pub from_value: Option<String>,
    pub to_value: String,
    pub note: Option<String>,
    pub changed_by: String,
    pub changed_at: NaiveDateTime,
}

#[derive(Debug, Default, Clone)]
pub struct LeadFilter {
    pub path_prefix: Option<String>,
    pub owner_id: Option<String>,
    pub status: Option<String>,
    pub segment: Option<String>,
    pub source: Option<String>,
    pub org_unit_id: Option<String>,
    pub project_id: Option<String>,
    pub partner_id: Option<String>,
    /// A substring of the name.
    pub q: Option<String>,
    pub include_do_not_contact: bool,
}

pub fn find_by_phone(conn: &mut DbConn, branch_id: &str, phone: &str) -> Result<Option<LeadRow>, StoreError> {
    Ok(leads::table
        .filter(leads::branch_id.eq(branch_id))
        .filter(leads::phone.eq(phone))
        .select(LeadRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_many(conn: &mut DbConn, ids: &[String]) -> Result<Vec<LeadRow>, StoreError> {
    Ok(leads::table.filter(leads::id.eq_any(ids)).select(LeadRow::as_select()).load(conn)?)
}

pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<LeadRow>, StoreError> {
    Ok(leads::table.find(id).select(LeadRow::as_select()).first(conn).optional()?)
}

// Every write takes a sync change number so the map's index sees it (see `domain::map`); call
// these inside the write's transaction, like `sync::next_seq`.

pub fn insert(conn: &mut DbConn, row: &LeadRow) -> Result<(), StoreError> {
    let seq = sync::next_seq(conn)?;
    on_backend!(conn, |c| diesel::insert_into(leads::table)
        .values((row, leads::seq.eq(seq), leads::created_seq.eq(seq)))
        .execute(c))?;
    Ok(())
}

/// Many rows per statement, for seeding and benchmarks.
pub fn insert_many(conn: &mut DbConn, rows: &[LeadRow]) -> Result<(), StoreError> {
    for chunk in rows.chunks(500) {
        on_backend!(conn, |c| diesel::insert_into(leads::table).values(chunk).execute(c))?;
        let seq = sync::next_seq(conn)?;
        let ids: Vec<&str> = chunk.iter().map(|r| r.id.as_str()).collect();
        diesel::update(leads::table.filter(leads::id.eq_any(ids)))
            .set((leads::seq.eq(seq), leads::created_seq.eq(seq)))
            .execute(conn)?;
    }
    Ok(())
}

/// Writes `row` over the stored lead if that is still at `expected_version`.
pub fn replace(conn: &mut DbConn, row: &LeadRow, expected_version: i64) -> Result<bool, StoreError> {
    let seq = sync::next_seq(conn)?;
    let changed = diesel::update(leads::table.find(&row.id).filter(leads::version.eq(expected_version)))
        .set((
            leads::org_unit_id.eq(&row.org_unit_id),
            leads::org_path.eq(&row.org_path),
            leads::owner_id.eq(&row.owner_id),
            leads::project_id.eq(&row.project_id),
            leads::name.eq(&row.name),
            leads::status.eq(&row.status),
            leads::version.eq(row.version),
            leads::updated_at.eq(row.updated_at),
            leads::kind.eq(&row.kind),
            leads::partner_id.eq(&row.partner_id),
            leads::segment.eq(&row.segment),
            leads::portrait_tags.eq(&row.portrait_tags),
            leads::needs.eq(&row.needs),
            leads::product_interest.eq(&row.product_interest),
            leads::expected_amount_fen.eq(row.expected_amount_fen),
            leads::converted_amount_fen.eq(row.converted_amount_fen),
            leads::converted_at.eq(row.converted_at),
            leads::lost_reason.eq(&row.lost_reason),
            leads::do_not_contact.eq(row.do_not_contact),
            leads::conversion_product.eq(&row.conversion_product),
            leads::conversion_reference.eq(&row.conversion_reference),
            leads::conversion_confirmed_at.eq(row.conversion_confirmed_at),
            leads::conversion_confirmed_by.eq(&row.conversion_confirmed_by),
            leads::seq.eq(seq),
        ))
        .execute(conn)?;
    Ok(changed == 1)
}

pub fn list(conn: &mut DbConn, filter: &LeadFilter, page: &PageRequest) -> Result<Page<LeadRow>, StoreError> {
    let mut query = leads::table.select(LeadRow::as_select()).into_boxed();
    if let Some(prefix) = &filter.path_prefix {
        query = query.filter(leads::org_path.like(format!("{prefix}%")));
    }
    if !filter.include_do_not_contact {
        query = query.filter(leads::do_not_contact.eq(false));
    }
    if let Some(v) = &filter.owner_id {
        query = query.filter(leads::owner_id.eq(v.clone()));
    }
    if let Some(v) = &filter.status {
        query = query.filter(leads::status.eq(v.clone()));
    }
    if let Some(v) = &filter.segment {
        query = query.filter(leads::segment.eq(v.clone()));
    }
    if let Some(v) = &filter.source {
        query = query.filter(leads::source.eq(v.clone()));
    }
    if let Some(v) = &filter.org_unit_id {
        query = query.filter(leads::org_unit_id.eq(v.clone()));
    }
    if let Some(v) = &filter.project_id {
        query = query.filter(leads::project_id.eq(v.clone()));
    }
    if let Some(v) = &filter.partner_id {
        query = query.filter(leads::partner_id.eq(v.clone()));
    }
    if let Some(q) = &filter.q {
        query = query.filter(lower(leads::name).like(crate::store::field::partners::like_pattern(q)).escape('\\'));
    }
    if let Some(after) = &page.after {
        query = query.filter(leads::id.gt(after.clone()));
    }
    let rows = query.order(leads::id.asc()).limit(page.limit + 1).load(conn)?;
    Ok(page.page(rows, |r| &r.id))
}

/// Which of these phones belong to leads of the branch who asked not to be contacted.
pub fn do_not_contact_phones(conn: &mut DbConn, branch_id: &str, phones: &[String]) -> Result<Vec<String>, StoreError> {
    let mut found = Vec::new();
    for chunk in phones.chunks(500) {
        found.extend(
            leads::table
                .filter(leads::branch_id.eq(branch_id))
                .filter(leads::phone.eq_any(chunk))
                .filter(leads::do_not_contact.eq(true))
                .select(leads::phone)
                .load::<String>(conn)?,
        );
    }
    Ok(found)
}

pub fn insert_history(conn: &mut DbConn, row: &LeadHistoryRow) -> Result<(), StoreError> {
    on_backend!(conn, |c| diesel::insert_into(lead_history::table).values(row).execute(c))?;
    Ok(())
}

pub fn history(conn: &mut DbConn, lead_id: &str, page: &PageRequest) -> Result<Page<LeadHistoryRow>, StoreError> {
    let mut query =
        lead_history::table.filter(lead_history::lead_id.eq(lead_id)).select(LeadHistoryRow::as_select()).into_boxed();
    if let Some(after) = &page.after {
        query = query.filter(lead_history::id.gt(after.clone()));
    }
    let rows = query.order(lead_history::id.asc()).limit(page.limit + 1).load(conn)?;
    Ok(page.page(rows, |r| &r.id))
}

/// Erases a lead and its history; registrations that made it keep existing without it.
/// Deletes a lead with its history, leaving a tombstone (no personal data) for the map's index.
pub fn erase(conn: &mut DbConn, lead_id: &str) -> Result<(), StoreError> {
    let Some((org_path, owner)) = leads::table
        .find(lead_id)
        .select((leads::org_path, leads::owner_id))
        .first::<(String, String)>(conn)
        .optional()?
    else {
        return Ok(());
    };
    let seq = sync::next_seq(conn)?;
    sync::tombstone(
        conn,
        seq,
        "leads",
        crate::store::uuid_col(lead_id)?,
        &org_path,
        Some(crate::store::uuid_col(&owner)?),
    )?;
    diesel::update(registrations::table.filter(registrations::lead_id.eq(lead_id)))
        .set(registrations::lead_id.eq(None::<String>))
        .execute(conn)?;
    diesel::delete(lead_history::table.filter(lead_history::lead_id.eq(lead_id))).execute(conn)?;
    diesel::delete(leads::table.find(lead_id)).execute(conn)?;
    Ok(())
}

/// Deletes a lead that came from this event and has not been worked on (still `new`, version 1)
/// — detaching it from the registration first. Leads other work produced stay.
pub fn delete_if_untouched_from(
    conn: &mut DbConn,
    lead_id: &str,
    event_id: &str,
    registration_id: &str,
) -> Result<bool, StoreError> {
    let untouched = leads::table
        .filter(leads::id.eq(lead_id))
        .filter(leads::source.eq("event"))
        .filter(leads::source_id.eq(event_id))
        .filter(leads::status.eq("new"))
        .filter(leads::version.eq(1))
        .count()
        .get_result::<i64>(conn)?
        == 1;
    if !untouched {
        return Ok(false);
    }
    let others: i64 = registrations::table
        .filter(registrations::lead_id.eq(lead_id))
        .filter(registrations::id.ne(registration_id))
        .count()
        .get_result(conn)?;
    if others > 0 {
        return Ok(false);
    }
    erase(conn, lead_id)?;
    Ok(true)
}

/// Leads of a subtree (and of one owner, if given) changed in `(after, upto]`.
pub fn changed_since(
    conn: &mut DbConn,
    path_prefix: Option<&str>,
    owner_id: Option<&str>,
    after: i64,
    upto: i64,
) -> Result<Vec<LeadRow>, StoreError> {
    let mut query =
        leads::table.select(LeadRow::as_select()).filter(leads::seq.gt(after)).filter(leads::seq.le(upto)).into_boxed();
    if let Some(prefix) = path_prefix {
        query = query.filter(leads::org_path.like(format!("{prefix}%")));
    }
    if let Some(owner) = owner_id {
        query = query.filter(leads::owner_id.eq(owner.to_owned()));
    }
    // A first sync reads the subtree through its path; an increment, the newest through `seq`.
    let query = if after < 0 { query.order(leads::org_path.asc()) } else { query.order(leads::seq.asc()) };
    Ok(query.load(conn)?)
}
