use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::store::schema::{audit_log, project_members, projects};
use crate::store::{DbConn, Page, PageRequest, StoreError};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_log)]
pub struct AuditRow {
    pub id: String,
    pub org_path: String,
    pub actor_id: String,
    pub entity: String,
    pub entity_id: String,
    pub action: String,
    pub changes: String,
    pub at: NaiveDateTime,
}

#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub path_prefix: Option<String>,
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub actor_id: Option<String>,
    /// Project entries only of the projects this user leads, supervises or is a member of.
    pub projects_of: Option<String>,
}

pub fn insert(conn: &mut DbConn, row: &AuditRow) -> Result<(), StoreError> {
    on_backend!(conn, |c| diesel::insert_into(audit_log::table).values(row).execute(c))?;
    Ok(())
}

pub fn list(conn: &mut DbConn, filter: &AuditFilter, page: &PageRequest) -> Result<Page<AuditRow>, StoreError> {
    let mut query = audit_log::table.select(AuditRow::as_select()).into_boxed();
    if let Some(prefix) = &filter.path_prefix {
        query = query.filter(audit_log::org_path.like(format!("{prefix}%")));
    }
    if let Some(v) = &filter.entity {
        query = query.filter(audit_log::entity.eq(v.clone()));
    }
    if let Some(v) = &filter.entity_id {
        query = query.filter(audit_log::entity_id.eq(v.clone()));
    }
    if let Some(v) = &filter.actor_id {
        query = query.filter(audit_log::actor_id.eq(v.clone()));
    }
    if let Some(user) = &filter.projects_of {
        let member_of = project_members::table
            .filter(project_members::user_id.eq(user.clone()))
            .select(project_members::project_id);
        let on_team = projects::table
            .filter(
                projects::id
                    .eq_any(member_of)
                    .or(projects::lead_id.eq(user.clone()))
                    .or(projects::supervisor_id.eq(user.clone())),
            )
            .select(projects::id);
        query = query.filter(audit_log::entity.ne("project").or(audit_log::entity_id.eq_any(on_team)));
    }
    if let Some(after) = &page.after {
        query = query.filter(audit_log::id.gt(after.clone()));
    }
    let rows = query.order(audit_log::id.asc()).limit(page.limit + 1).load(conn)?;
    Ok(page.page(rows, |r| &r.id))
}
