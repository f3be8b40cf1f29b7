use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::leads;
use super::{DbConn, StoreError};

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
}

pub fn find_by_phone(conn: &mut DbConn, branch_id: &str, phone: &str) -> Result<Option<LeadRow>, StoreError> {
    Ok(leads::table
        .filter(leads::branch_id.eq(branch_id))
        .filter(leads::phone.eq(phone))
        .select(LeadRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<LeadRow>, StoreError> {
    Ok(leads::table.find(id).select(LeadRow::as_select()).first(conn).optional()?)
}

pub fn insert(conn: &mut DbConn, row: &LeadRow) -> Result<(), StoreError> {
    diesel::insert_into(leads::table).values(row).execute(conn)?;
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
    use super::schema::registrations;
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
    diesel::update(registrations::table.find(registration_id))
        .set(registrations::lead_id.eq(None::<String>))
        .execute(conn)?;
    diesel::delete(leads::table.find(lead_id)).execute(conn)?;
    Ok(true)
}
