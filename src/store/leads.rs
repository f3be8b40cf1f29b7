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
